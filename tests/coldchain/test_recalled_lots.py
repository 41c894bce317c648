"""A shipment carrying a lot held everywhere (a recall) is flagged with the lot's code: on the
shipments page and the shipment's page, in the shipments API and on the wall screen. The flag
is read from farms' holds: a hold at one market's counter does not raise it, and releasing the
hold lowers it."""

from decimal import Decimal

import pytest
from django.test import Client

from coldchain.models import ShipmentLot
from farms.choices import HoldSource
from farms.services.holds import place_hold, release_hold
from marketplace.markets import services as markets
from tests.accounts.factories import UserFactory
from tests.farms.factories import HarvestLotFactory

pytestmark = pytest.mark.django_db

RECALL = "Recall RC-7: chlorpyrifos above the national limit"


@pytest.fixture
def recalled_lot(db):
    return HarvestLotFactory(lot_code="SG-CAB-0907")


@pytest.fixture
def on_board(shipment, recalled_lot):
    """The shipment carries the lot about to be recalled and a clean one."""
    ShipmentLot.objects.create(shipment=shipment, lot=recalled_lot, quantity_kg=Decimal("200"))
    ShipmentLot.objects.create(
        shipment=shipment, lot=HarvestLotFactory(lot_code="SG-CAB-0908"), quantity_kg=Decimal("80")
    )
    return shipment


def recall(lot):
    return place_hold(lot=lot, source=HoldSource.RECALL, reference="recall:RC-7", reason=RECALL)


def page(user, url: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_shipment_pages_flag_the_recalled_lot_on_board(
    coldchain_controller, on_board, recalled_lot
):
    recall(recalled_lot)

    detail = page(coldchain_controller, f"/coldchain/shipments/{on_board.pk}/")
    listing = page(coldchain_controller, "/coldchain/shipments/")

    assert 'data-testid="recalled-lots"' in detail
    assert "Recalled lot on board: SG-CAB-0907" in detail
    assert RECALL in detail
    assert "SG-CAB-0908" in detail
    assert detail.count('data-testid="lot-held"') == 1
    assert "Recalled lot on board: SG-CAB-0907" in listing


def test_the_shipments_api_gives_the_recalled_lots(
    api_as, coldchain_controller, on_board, recalled_lot
):
    client = api_as(coldchain_controller)
    assert client.get(f"/api/coldchain/shipments/{on_board.pk}/").json()["recalled_lots"] == []
    recall(recalled_lot)

    detail = client.get(f"/api/coldchain/shipments/{on_board.pk}/").json()
    listed = client.get("/api/coldchain/shipments/").json()

    assert detail["recalled_lots"] == ["SG-CAB-0907"]
    assert {line["lot_code"]: line["held_reason"] for line in detail["lots"]} == {
        "SG-CAB-0907": RECALL,
        "SG-CAB-0908": None,
    }
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["recalled_lots"] for row in rows if row["id"] == on_board.pk] == [["SG-CAB-0907"]]


def test_the_wall_screen_flags_the_leg(api_as, coldchain_controller, on_board, recalled_lot):
    recall(recalled_lot)

    snapshot = api_as(coldchain_controller).get("/api/coldchain/screen/").json()
    screen = page(coldchain_controller, "/coldchain/")

    [leg] = [row for row in snapshot["shipments"] if row["id"] == on_board.pk]
    assert leg["recalled_lots"] == ["SG-CAB-0907"]
    assert 'data-slot="recalled_lots"' in screen  # the row's markup that screen.js fills


def test_a_hold_at_a_markets_counter_raises_no_flag(
    api_as, coldchain_controller, on_board, recalled_lot
):
    market = markets.create_market(code="jiangnan-c", name="广州江南", city="广州")
    place_hold(
        lot=recalled_lot,
        source=HoldSource.RAPID_TEST,
        reference="rapid_test:1",
        reason="Rapid test positive",
        market_id=market.pk,
    )

    detail = api_as(coldchain_controller).get(f"/api/coldchain/shipments/{on_board.pk}/").json()

    assert detail["recalled_lots"] == []


def test_releasing_the_hold_lowers_the_flag(
    api_as, coldchain_controller, admin_user, on_board, recalled_lot
):
    release_hold(hold=recall(recalled_lot), released_by=admin_user, note="false alarm")

    snapshot = api_as(coldchain_controller).get("/api/coldchain/screen/").json()
    detail = api_as(coldchain_controller).get(f"/api/coldchain/shipments/{on_board.pk}/").json()

    assert [row["recalled_lots"] for row in snapshot["shipments"]] == [[]]
    assert detail["recalled_lots"] == []


def test_someone_who_may_not_see_the_shipment_learns_nothing_of_it(api_as, on_board, recalled_lot):
    recall(recalled_lot)
    stranger = UserFactory(role="cooperative_manager")

    response = api_as(stranger).get(f"/api/coldchain/shipments/{on_board.pk}/")
    listed = api_as(stranger).get("/api/coldchain/shipments/").json()

    assert response.status_code == 404
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows == []
