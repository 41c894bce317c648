"""The public home page (/): what FreshChain is, today's prices, the trace box and the ways
in, for a visitor; signed-in people land on their workspace."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.accounts.factories import UserFactory
from tests.farms.factories import HarvestLotFactory
from traceability.choices import TraceCodeKind
from traceability.codes import grouped
from traceability.models import TraceCode

pytestmark = pytest.mark.django_db


def _visitor(language: str = "en") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language)


@pytest.fixture
def trace_code(farm):
    return TraceCode.objects.create(
        code="7K2MQ9XP4TDA", lot=HarvestLotFactory(farm=farm), kind=TraceCodeKind.CERTIFICATE
    )


def test_visitor_sees_what_it_is_the_trace_box_and_the_ways_in():
    page = _visitor().get("/")

    text = page.content.decode()
    assert page.status_code == 200
    assert "Fresh produce, from the farm gate to your door" in text
    for group in (
        "Farmers and co-operatives",
        "Wholesale markets",
        "Restaurants and shops",
        "Households",
        "Front warehouses and couriers",
        "Cold chain and regulators",
    ):
        assert group in text  # fmt: skip
    assert 'action="/trace-code/"' in text
    assert 'href="/sign-in/"' in text
    assert 'href="/sign-up/"' in text
    assert "No prices published yet today." in text


def test_the_home_page_speaks_chinese_first():
    text = _visitor("zh-hans").get("/").content.decode()

    assert "新鲜农产品，从田间到家门" in text
    assert "农户和合作社" in text
    assert "溯源" in text


def test_signed_in_people_land_on_their_workspace(client, farmer):
    client.force_login(farmer)

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/workspace/"


def test_a_known_trace_code_however_typed_opens_its_trace_page(trace_code):
    response = _visitor().get("/trace-code/", {"code": f" {grouped(trace_code.code).lower()} "})

    assert response.status_code == 302
    assert response["Location"] == f"/t/{trace_code.code}"


def test_an_unknown_trace_code_says_so_on_the_box(trace_code):
    response = _visitor().get("/trace-code/", {"code": "7K2M-Q9XP-4TDB"})

    assert response.status_code == 404
    assert "No produce has this trace code." in response.content.decode()
    assert response.context["form"].errors["code"]


@pytest.mark.parametrize("typed", ["", "12345", "7K2M-Q9XP-4TD!"])
def test_a_malformed_trace_code_is_a_field_error(typed):
    response = _visitor().get("/trace-code/", {"code": typed})

    assert response.status_code == 400
    assert response.context["form"].errors["code"]


def test_a_revoked_trace_code_is_unknown(trace_code):
    TraceCode.objects.filter(pk=trace_code.pk).update(revoked_at=timezone.now())

    assert _visitor().get("/trace-code/", {"code": trace_code.code}).status_code == 404


def test_demo_home_shows_the_price_board_and_traces_a_demo_label():
    call_command("seed_demo", force=True, stdout=StringIO())
    page = _visitor().get("/")

    prices = page.context["prices"]
    assert prices
    assert all(price.low <= price.average <= price.high for price in prices)
    assert f"¥{prices[0].average}" in page.content.decode()
    code = TraceCode.objects.filter(kind=TraceCodeKind.CERTIFICATE, revoked_at__isnull=True).first()
    assert _visitor().get("/trace-code/", {"code": code.code}).status_code == 302


def test_a_signed_in_reader_of_jin_reads_the_home_prices_per_jin():
    user = UserFactory(weight_unit="jin")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    # Signed in, the trace box's answer still renders the home page with her unit.
    response = client.get("/trace-code/", {"code": "nope"})
    assert response.context["unit_label"] == "jin (斤)"
