"""The public trace page (/t/<code>, the Digital Link paths) and its JSON twin: what anyone sees
without signing in, what nobody sees, scans counted and copied labels flagged."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from farms.models import Product
from traceability.models import ScanAgent, TraceScan
from traceability.services.scans import locate_scan, record_scan, scan_token

from .factories import FARM_AT, HOME_ADDRESS, PRODUCER_PHONE

PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Mobile Safari/537.36"
)


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def gtin_tomato(journey_world):
    Product.objects.filter(pk=journey_world.lot.product_id).update(gtin="6901234567892")
    journey_world.lot.product.refresh_from_db()
    return journey_world.lot.product


def _page(client, path, language="en"):
    return client.get(path, HTTP_ACCEPT_LANGUAGE=language, HTTP_USER_AGENT=PHONE_UA)


def test_anyone_sees_origin_certificate_tests_and_cold_chain(certificate_code, client):
    page = _page(client, f"/t/{certificate_code.code}")
    text = page.content.decode()

    assert page.status_code == 200
    for shown in (
        "Tomato",
        "山东省 潍坊市寿光市",  # county
        "东地大棚",  # the farm's name
        "Self-commitment",  # the certificate's basis
        "no banned pesticides, veterinary drugs or illegal additives used",
        "Pesticide residue test of the lot",
        "10.0 to 11.2 °C",  # first leg
        "mean kinetic temperature",
        "1 temperature excursion (60 min)",  # second leg
        "Days at the warehouse",
        "Shelf life left",
    ):
        assert shown in text, shown


def test_the_page_never_shows_a_phone_a_field_or_a_home(journey_world, certificate_code, client):
    text = _page(client, f"/t/{certificate_code.code}").content.decode()
    data = client.get(f"/api/trace/public/{certificate_code.code}/").content.decode()

    for hidden in (
        PRODUCER_PHONE,
        str(FARM_AT[0]),
        str(FARM_AT[1]),
        HOME_ADDRESS,
        "林小姐",
        "望京前置仓",  # the buyer trader's name
    ):
        assert hidden not in text, hidden
        assert hidden not in data, hidden


def test_the_page_speaks_chinese_too(certificate_code, client):
    text = _page(client, f"/t/{certificate_code.code}", language="zh-hans").content.decode()

    assert "番茄" in text
    assert "冷链" in text


def test_the_json_twin_has_the_same_content(journey_world, certificate_code, client):
    answer = client.get(
        f"/api/trace/public/{certificate_code.code}/", HTTP_ACCEPT_LANGUAGE="en"
    ).json()

    assert answer["product"].startswith("Tomato")
    assert answer["cooperative"] == journey_world.lot.farm.cooperative.name
    assert answer["county"] == "山东省 潍坊市寿光市"
    assert answer["certificates"][0]["basis"] == "Self-commitment (自我承诺)"
    assert len(answer["certificates"][0]["commitments"]) == 3
    assert answer["tests"][0] == {
        "kind": "pesticide_test",
        "title": "Pesticide residue test of the lot",
        "result": "Passed",
        "on": journey_world.lot.tested_on.isoformat(),
        "passed": True,
    }
    first, second = answer["legs"]
    assert (first["min_c"], first["max_c"], first["excursions"]) == (10.0, 11.2, 0)
    assert second["excursions"] == 1
    assert second["excursion_minutes"] == 60
    assert 10.0 < first["mean_kinetic_c"] < 11.2
    assert answer["days_at_market"] == pytest.approx(0.6, abs=0.1)  # arrival → the next leg
    assert answer["in_stock"] is True
    assert answer["shelf_life_days"] is not None
    assert answer["scan"]


def test_digital_link_paths_open_the_same_page(
    journey_world, certificate_code, gtin_tomato, client
):
    code = certificate_code.code
    with_serial = _page(client, f"/01/06901234567892/10/SG-TOM-0001/21/{code}")
    without_serial = _page(client, "/01/6901234567892/10/SG-TOM-0001")

    assert with_serial.status_code == without_serial.status_code == 200
    assert "东地大棚" in with_serial.content.decode()
    assert "东地大棚" in without_serial.content.decode()
    assert with_serial.context["trace"].digital_link == (
        f"/01/06901234567892/10/SG-TOM-0001/21/{code}"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/t/ZZZZZZZZZZZZ",
        "/t/not-a-code",
        "/01/06901234567892/10/NO-SUCH-LOT",
        "/01/00000000000000/10/SG-TOM-0001",  # the lot, under another product's GTIN
    ],
)
def test_an_unknown_code_gets_a_friendly_404(journey_world, gtin_tomato, client, path):
    page = _page(client, path)

    assert page.status_code == 404
    assert "We could not find this trace code" in page.content.decode()
    assert not TraceScan.objects.exists()


def test_a_serial_from_another_lot_is_unknown(journey_world, gtin_tomato, other_lot, client):
    from traceability.choices import TraceCodeKind
    from traceability.services.codes import issue_trace_code

    stranger = issue_trace_code(lot=other_lot, kind=TraceCodeKind.CERTIFICATE)

    page = _page(client, f"/01/06901234567892/10/SG-TOM-0001/21/{stranger.code}")

    assert page.status_code == 404


def test_a_revoked_code_gets_the_same_404(certificate_code, client):
    certificate_code.revoked_at = timezone.now()
    certificate_code.save(update_fields=["revoked_at"])

    assert _page(client, f"/t/{certificate_code.code}").status_code == 404
    assert client.get(f"/api/trace/public/{certificate_code.code}/").status_code == 404


def test_every_view_is_counted_without_keeping_the_address(certificate_code, client):
    _page(client, f"/t/{certificate_code.code}")
    _page(client, f"/t/{certificate_code.code}")
    client.get(f"/api/trace/public/{certificate_code.code}/", HTTP_USER_AGENT="curl/8.5")

    scans = list(TraceScan.objects.order_by("scanned_at"))
    assert len(scans) == 3
    assert [s.agent for s in scans] == [ScanAgent.PHONE, ScanAgent.PHONE, ScanAgent.BOT]
    assert all(s.code == certificate_code for s in scans)
    assert "127.0.0.1" not in scans[0].ip_hash
    assert len(scans[0].ip_hash) == 64


def test_the_page_is_cached_for_the_browser_a_minute_and_privately(certificate_code, client):
    page = _page(client, f"/t/{certificate_code.code}")

    assert "private" in page["Cache-Control"]
    assert "max-age=60" in page["Cache-Control"]
    assert "Accept-Language" in page["Vary"]


def _scan(code, *, minutes_ago: float):
    return record_scan(
        lot=code.lot,
        code=code,
        address="203.0.113.9",
        user_agent=PHONE_UA,
        at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def test_a_label_seen_in_beijing_and_guangzhou_within_an_hour_is_flagged(certificate_code):
    beijing = _scan(certificate_code, minutes_ago=50)
    locate_scan(token=scan_token(beijing), longitude=116.40, latitude=39.90)
    guangzhou = _scan(certificate_code, minutes_ago=5)

    located = locate_scan(token=scan_token(guangzhou), longitude=113.26, latitude=23.13)

    assert located.copy_suspected
    assert located.implied_speed_kmh > 2000
    assert located.previous == beijing
    assert (located.location.x, located.location.y) == (113.3, 23.1)  # rounded to 0.1°


def test_the_same_label_seen_next_door_or_a_day_apart_is_not_flagged(certificate_code):
    first = _scan(certificate_code, minutes_ago=60 * 30)
    locate_scan(token=scan_token(first), longitude=116.40, latitude=39.90)
    nearby = _scan(certificate_code, minutes_ago=60 * 30 - 10)
    locate_scan(token=scan_token(nearby), longitude=116.45, latitude=39.95)
    far_but_slow = _scan(certificate_code, minutes_ago=1)

    located = locate_scan(token=scan_token(far_but_slow), longitude=121.47, latitude=31.23)

    assert not located.copy_suspected  # Shanghai, but 30 h after Beijing's first
    assert not TraceScan.objects.filter(copy_suspected=True).exists()


def test_the_copy_flag_shows_on_the_co_op_managers_journey_page_only(
    journey_world, certificate_code, manager, member, client
):
    beijing = _scan(certificate_code, minutes_ago=50)
    locate_scan(token=scan_token(beijing), longitude=116.40, latitude=39.90)
    locate_scan(
        token=scan_token(_scan(certificate_code, minutes_ago=5)), longitude=113.26, latitude=23.13
    )
    url = f"/trace/lots/{journey_world.lot.pk}/"

    client.force_login(manager)
    managers = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.force_login(member)
    farmers = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Possibly copied labels" in managers
    assert certificate_code.code in managers
    assert "Possibly copied labels" not in farmers


def test_location_through_the_api_with_a_bad_token_or_coordinates_is_refused(
    certificate_code, api_client
):
    token = scan_token(_scan(certificate_code, minutes_ago=1))
    url = "/api/trace/public/scans/location/"

    bad_token = api_client.post(url, {"scan": "x", "longitude": 116.4, "latitude": 39.9})
    off_earth = api_client.post(url, {"scan": token, "longitude": 116.4, "latitude": 95})
    good = api_client.post(url, {"scan": token, "longitude": 116.44, "latitude": 39.91})
    again = api_client.post(url, {"scan": token, "longitude": 116.4, "latitude": 39.9})

    assert bad_token.status_code == 404
    assert off_earth.status_code == 400
    assert "latitude" in off_earth.json()
    assert good.status_code == 200
    assert good.json() == {"longitude": 116.4, "latitude": 39.9}
    assert again.status_code == 409
