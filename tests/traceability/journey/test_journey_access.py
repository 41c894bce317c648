"""Who may open a lot's journey (page and API), a consumer order's upstream, the consumer's
trace link and the warehouse's packing label; everyone else gets 403 or 404."""

import io

import pypdfium2
import pytest
import zxingcpp
from django.urls import reverse

from accounts.choices import Role
from marketplace.markets import services as markets
from tests.accounts.factories import UserFactory
from traceability.choices import TraceCodeKind
from traceability.models import TraceCode


def _journey_url(lot):
    return reverse("traceability:lot_journey", args=[lot.pk])


def _api_url(lot):
    return f"/api/trace/lots/{lot.pk}/journey/"


@pytest.fixture
def may_open(journey_world, member, manager, operator, coldchain_controller, admin_user):
    return {
        "farmer": member,
        "co-op manager": manager,
        "market staff that traded it": operator,
        "cold-chain controller": coldchain_controller,
        "admin": admin_user,
    }


@pytest.fixture
def may_not_open(journey_world, other_market, buyer, consumer):
    other_staff = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=other_market, user=other_staff)
    return {
        "another market's staff": other_staff,
        "a buyer": buyer,
        "the consumer": journey_world.consumer,
        "another consumer": consumer,
        "the warehouse manager": journey_world.warehouse_manager,
        "a farmer of another co-op": UserFactory(role=Role.FARMER),
    }


def test_each_role_allowed_sees_the_journey_page_and_api(journey_world, may_open, client, api_as):
    for who, user in may_open.items():
        client.force_login(user)
        page = client.get(_journey_url(journey_world.lot), HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200, who
        assert "SG-TOM-0001" in page.content.decode()
        answer = api_as(user).get(_api_url(journey_world.lot))
        assert answer.status_code == 200, who
        assert answer.json()["steps"][0]["kind"] == "harvest"


def test_everyone_else_finds_no_such_lot(journey_world, may_not_open, client, api_as):
    for who, user in may_not_open.items():
        client.force_login(user)
        assert client.get(_journey_url(journey_world.lot)).status_code == 404, who
        assert api_as(user).get(_api_url(journey_world.lot)).status_code == 404, who


def test_signed_out_visitors_are_sent_to_sign_in(journey_world, client, api_client):
    page = client.get(_journey_url(journey_world.lot))

    assert page.status_code == 302
    assert "/sign-in/" in page["Location"]
    assert api_client.get(_api_url(journey_world.lot)).status_code in (401, 403)


def test_a_market_that_only_checked_the_lot_in_may_open_it(journey_world, other_market, client):
    from farms.services.holds import admit_lot

    gate_clerk = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=other_market, user=gate_clerk)
    client.force_login(gate_clerk)
    assert client.get(_journey_url(journey_world.lot)).status_code == 404

    admit_lot(lot=journey_world.lot, market_id=other_market.pk, reference="entry:1")

    assert client.get(_journey_url(journey_world.lot)).status_code == 200


def test_journey_page_draws_the_places_on_a_map(journey_world, manager, client):
    client.force_login(manager)
    page = client.get(_journey_url(journey_world.lot), HTTP_ACCEPT_LANGUAGE="en")
    config = page.context["map_config"]

    assert [p["kind"] for p in config["points"]][:1] == ["harvest"]
    assert {(p["lon"], p["lat"]) for p in config["points"]} >= {
        (118.8, 36.9),  # the co-op's county, rounded
        (116.3655, 39.7838),  # the market, exact
    }
    assert "118.7801" not in page.content.decode()


def test_upstream_api_for_the_orders_consumer_warehouse_and_admin_only(
    journey_world, consumer, admin_user, manager, api_as
):
    url = f"/api/trace/orders/{journey_world.order.pk}/upstream/"
    for user in (journey_world.consumer, journey_world.warehouse_manager, admin_user):
        answer = api_as(user).get(url)
        assert answer.status_code == 200
        [line] = answer.json()["lines"]
        assert line["lots"][0]["lot_code"] == "SG-TOM-0001"
        assert line["lots"][0]["quantity_kg"] == "2.500"
    for user in (consumer, manager):
        assert api_as(user).get(url).status_code == 404


def test_consumer_follows_her_orders_trace_link_to_the_lots_page(journey_world, client):
    client.force_login(journey_world.consumer)
    url = reverse(
        "traceability:order_lot_trace", args=[journey_world.order.pk, journey_world.lot.pk]
    )

    first = client.get(url)
    second = client.get(url)

    code = TraceCode.objects.get(kind=TraceCodeKind.CONSUMER_ORDER)
    assert first["Location"] == second["Location"] == f"/t/{code.code}"
    assert code.delivery_order == journey_world.order
    assert client.get(first["Location"]).status_code == 200


def test_nobody_else_gets_a_trace_link_for_her_order(journey_world, consumer, other_lot, client):
    url = reverse(
        "traceability:order_lot_trace", args=[journey_world.order.pk, journey_world.lot.pk]
    )
    client.force_login(consumer)
    assert client.get(url).status_code == 404
    client.force_login(journey_world.consumer)
    wrong_lot = reverse("traceability:order_lot_trace", args=[journey_world.order.pk, other_lot.pk])
    assert client.get(wrong_lot).status_code == 404
    assert not TraceCode.objects.filter(kind=TraceCodeKind.CONSUMER_ORDER).exists()


def test_warehouse_manager_prints_a_packing_label_whose_qr_opens_the_trace_page(
    journey_world, client, settings
):
    settings.SITE_URL = "https://fresh.example.cn"
    client.force_login(journey_world.warehouse_manager)

    response = client.get(reverse("traceability:stock_label", args=[journey_world.stock.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    page = pypdfium2.PdfDocument(io.BytesIO(response.content))[0]
    image = page.render(scale=4).to_pil()
    [decoded] = zxingcpp.read_barcodes(image)
    code = TraceCode.objects.get(kind=TraceCodeKind.STOCK_LABEL, stock_lot=journey_world.stock)
    assert decoded.text == f"https://fresh.example.cn/t/{code.code}"
    assert client.get(decoded.text.removeprefix("https://fresh.example.cn")).status_code == 200


def test_only_the_stocks_warehouse_prints_its_label(
    journey_world, warehouse_manager, farmer, client
):
    url = reverse("traceability:stock_label", args=[journey_world.stock.pk])
    client.force_login(warehouse_manager)  # runs no warehouse, or another one
    assert client.get(url).status_code == 404
    client.force_login(farmer)
    assert client.get(url).status_code == 403


def test_the_consumers_order_page_links_each_lot_to_its_trace_page(journey_world, client):
    client.force_login(journey_world.consumer)

    page = client.get(
        reverse("delivery:shop_order", args=[journey_world.order.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    link = reverse(
        "traceability:order_lot_trace", args=[journey_world.order.pk, journey_world.lot.pk]
    )
    assert f'href="{link}"' in page.content.decode()
    assert "Where it comes from (lot SG-TOM-0001)" in page.content.decode()


def test_the_warehouse_stock_page_offers_each_lots_packing_label(journey_world, client):
    client.force_login(journey_world.warehouse_manager)

    page = client.get(reverse("delivery:stock"), HTTP_ACCEPT_LANGUAGE="en")

    label = reverse("traceability:stock_label", args=[journey_world.stock.pk])
    assert f'href="{label}"' in page.content.decode()
