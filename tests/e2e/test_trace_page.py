"""A shopper's phone, signed out, opens the QR of the demo lot's certificate: the Digital Link
URL leads to the public trace page, which shows the farm and co-operative, the test and the
cold-chain summary in Chinese, and in English after the language switch.

Screenshots go to the test's tmp path and are copied to var/screenshots/trace-page/ (var/ is
ignored by git) for a person to look at."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from farms.models import HarvestLot
from tests.e2e.conftest import fits_the_screen
from traceability.codes import trace_url
from traceability.demo.journey import LOT_CODE
from traceability.models import Certificate, TraceScan

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "trace-page"


def test_an_anonymous_phone_opens_the_demo_lots_qr_and_sees_where_it_comes_from(
    phone, live_server, tmp_path
):
    call_command("seed_demo", "--force", stdout=StringIO())
    certificate = Certificate.objects.select_related("lot__product", "trace_code").get(
        lot__lot_code=LOT_CODE
    )
    lot = certificate.lot
    with override_settings(SITE_URL=live_server.url):  # the QR's host is the platform's own
        url = trace_url(
            code=certificate.trace_code.code, gtin=lot.product.gtin, lot_code=lot.lot_code
        )
    assert "/01/09506000134352/10/" in url
    page = phone()  # a Chinese phone, signed out

    page.goto(url)

    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_test_id("trace-farm").inner_text() == "东地大棚"
    assert lot.farm.cooperative.name in page.get_by_test_id("trace-cooperative").inner_text()
    assert "自我检测" in page.get_by_test_id("trace-certificates").inner_text()
    tests = page.get_by_test_id("trace-tests").inner_text()
    assert "合格" in tests or "通过" in tests
    assert page.get_by_test_id("trace-leg").count() == 2
    coldchain = page.get_by_test_id("trace-coldchain").inner_text()
    assert "°C" in coldchain
    assert fits_the_screen(page)
    page.screenshot(path=tmp_path / "1-trace-page-zh.png", full_page=True)

    page.select_option("#language", "en")
    page.wait_for_load_state("load")
    page.get_by_test_id("trace-coldchain").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    coldchain = page.get_by_test_id("trace-coldchain").inner_text()
    assert "mean kinetic temperature" in coldchain
    assert "Kept within its range" in coldchain
    assert "Pesticide residue test of the lot" in page.get_by_test_id("trace-tests").inner_text()
    page.screenshot(path=tmp_path / "2-trace-page-en.png", full_page=True)

    text = page.content()
    assert str(lot.farm.location.x) not in text
    assert lot.farm.farmer.phone not in text
    assert TraceScan.objects.filter(lot=lot).count() >= 2  # each view counted

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for shot in tmp_path.glob("*.png"):
        shutil.copy(shot, SCREENSHOTS / shot.name)


def test_an_unknown_code_on_a_phone_gets_the_friendly_page(phone, live_server):
    page = phone(locale="en-US")

    response = page.goto(f"{live_server.url}/t/ZZZZZZZZZZZZ")

    assert response.status == 404
    assert page.get_by_test_id("trace-not-found").is_visible()
    assert fits_the_screen(page)
    assert not HarvestLot.objects.exists() or not TraceScan.objects.exists()


def test_the_co_op_manager_follows_the_demo_lot_on_its_journey_map(phone_as, live_server, tmp_path):
    from accounts.models import User

    call_command("seed_demo", "--force", stdout=StringIO())
    lot = HarvestLot.objects.get(lot_code=LOT_CODE)
    page = phone_as(User.objects.get(username="coop"))

    page.goto(f"{live_server.url}/trace/lots/{lot.pk}/")

    journey_map = page.get_by_test_id("journey-map")
    assert journey_map.get_attribute("data-ready") == "true"
    assert int(journey_map.get_attribute("data-points")) >= 6
    steps = page.get_by_test_id("journey-steps").inner_text()
    for shown in ("Harvested", "Checked in at", "Traded at", "Cold shipment", "Consumer order #"):
        assert shown in steps, shown
    assert fits_the_screen(page)
    page.screenshot(path=tmp_path / "3-journey-page.png", full_page=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "3-journey-page.png", SCREENSHOTS / "3-journey-page.png")
