"""Stock of a lot held everywhere (a recall) is blocked at the front warehouse: first-expired-
first-out picking passes it by, the shop does not count it, an order that only it could fill is
refused with nothing written, and the warehouse's stock page and API show it as blocked with
the reason. A hold at a market's counter does not touch the shop; a released hold unblocks it."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.utils import translation

from delivery.exceptions import OrderLineShortOfStock
from delivery.models import DeliveryOrder, DeliveryOrderPick, StockLot
from delivery.selectors.shop import catalogue
from delivery.services.stock import take_stock_fefo
from farms.choices import HoldSource
from farms.services.holds import place_hold, release_hold
from marketplace.markets import services as markets
from settlement.models import JournalEntry
from tests.delivery.shop_factories import HOME, order_for, receive, wallet_balance

pytestmark = pytest.mark.django_db

RECALL = "Recall RC-7: chlorpyrifos above the national limit"


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def shelves(chaoyang, spinach):
    """Two lots of spinach: the older one (picked first) and a fresher one, 5 kg each."""
    older = receive(chaoyang, spinach, "5", harvested_days_ago=3)
    fresher = receive(chaoyang, spinach, "5", harvested_days_ago=1)
    assert older.expires_at < fresher.expires_at
    return older, fresher


def recall(lot):
    return place_hold(lot=lot, source=HoldSource.RECALL, reference="recall:RC-7", reason=RECALL)


def kg(stock: StockLot) -> Decimal:
    return StockLot.objects.get(pk=stock.pk).quantity_kg


# --- Picking and the shop -------------------------------------------------------------------


def test_picking_passes_by_the_recalled_lot_even_when_it_expires_first(
    shelves, spinach, funded_consumer
):
    older, fresher = shelves
    recall(older.lot)

    order = order_for(funded_consumer, (spinach.pk, "2"))

    assert [pick.stock_lot_id for pick in DeliveryOrderPick.objects.filter(line__order=order)] == [
        fresher.pk
    ]
    assert kg(older) == Decimal("5.000")
    assert kg(fresher) == Decimal("3.000")


def test_take_stock_fefo_on_its_own_leaves_out_held_stock(chaoyang, shelves, spinach):
    older, fresher = shelves
    recall(older.lot)

    with transaction.atomic():
        picks = take_stock_fefo(warehouse=chaoyang, product=spinach, quantity_kg="5")

    assert [pick.stock_lot.pk for pick in picks] == [fresher.pk]
    assert kg(older) == Decimal("5.000")


def test_the_shop_counts_only_stock_that_may_be_sold(api_as, chaoyang, shelves, funded_consumer):
    older, _fresher = shelves
    recall(older.lot)

    [item] = catalogue(chaoyang)
    body = api_as(funded_consumer).get("/api/delivery/shop/", HOME).json()

    assert item.available_kg == Decimal("5.000")
    assert body["catalogue"][0]["available_kg"] == "5.000"


def test_an_order_only_held_stock_could_fill_is_refused_and_nothing_is_written(
    api_as, shelves, spinach, funded_consumer
):
    older, fresher = shelves
    recall(older.lot)
    entries = JournalEntry.objects.count()

    with pytest.raises(OrderLineShortOfStock) as refusal:
        order_for(funded_consumer, (spinach.pk, "6"))
    response = api_as(funded_consumer).post(
        "/api/delivery/orders/",
        {
            **HOME,
            "address": "建国路 88 号",
            "lines": [{"product_id": spinach.pk, "quantity_kg": "6"}],
        },
        format="json",
    )

    assert "Only 5 kg of" in str(refusal.value.message)
    assert response.status_code == 409
    assert not DeliveryOrder.objects.exists()
    assert (kg(older), kg(fresher)) == (Decimal("5.000"), Decimal("5.000"))
    assert JournalEntry.objects.count() == entries
    assert wallet_balance(funded_consumer) == Decimal("500.00")


def test_a_hold_at_a_markets_counter_does_not_block_the_shop(shelves, spinach, funded_consumer):
    older, _fresher = shelves
    market = markets.create_market(code="xinfadi-d", name="北京新发地", city="北京")
    place_hold(
        lot=older.lot,
        source=HoldSource.RAPID_TEST,
        reference="rapid_test:1",
        reason="Rapid test positive",
        market_id=market.pk,
    )

    order_for(funded_consumer, (spinach.pk, "2"))

    assert kg(older) == Decimal("3.000")


def test_a_released_hold_lets_its_stock_be_picked_again(
    shelves, spinach, funded_consumer, admin_user
):
    older, _fresher = shelves
    hold = recall(older.lot)
    release_hold(hold=hold, released_by=admin_user, note="Laboratory: all clear")

    order_for(funded_consumer, (spinach.pk, "2"))

    assert kg(older) == Decimal("3.000")


# --- The warehouse's stock page and API -------------------------------------------------------


def test_the_stock_page_shows_held_stock_as_blocked_with_the_reason(
    chaoyang_staff, warehouse_manager, shelves
):
    older, fresher = shelves
    recall(older.lot)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(warehouse_manager)

    content = client.get("/warehouse/stock/").content.decode()

    assert f'data-testid="blocked-{older.pk}"' in content
    assert f'data-testid="blocked-{fresher.pk}"' not in content
    assert RECALL in content


def test_the_stock_api_marks_held_stock_blocked(api_as, chaoyang_staff, warehouse_manager, shelves):
    older, fresher = shelves
    recall(older.lot)

    body = api_as(warehouse_manager).get("/api/delivery/warehouse/stock/").json()

    lots = {lot["id"]: lot for lot in body["products"][0]["lots"]}
    assert (lots[older.pk]["is_blocked"], lots[older.pk]["held_reason"]) == (True, RECALL)
    assert (lots[fresher.pk]["is_blocked"], lots[fresher.pk]["held_reason"]) == (False, None)
