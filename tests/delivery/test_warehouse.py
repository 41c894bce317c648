"""The warehouse manager's side: receiving from marketplace orders and market trades (each
once), the loss rate, open orders and their late risk, today's on-time rate.

The actors and builders here are shared by test_warehouse_api.py and test_warehouse_pages.py
(orders are DeliveryOrder rows made directly: placing one is the shop's business)."""

import threading
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import close_old_connections
from django.utils import timezone

from accounts.choices import Role
from common.dates import BUSINESS_TIME_ZONE
from common.exceptions import DomainError, NotFoundOrNotYours, RefusalKind
from delivery.exceptions import AlreadyReceived, DeliveryError
from delivery.models import (
    DeliveryOrderStatus,
    DeliveryTaskStatus,
    StockLot,
    StockReceipt,
    StockWriteOff,
    WriteOffReason,
)
from delivery.selectors import warehouse as selectors
from delivery.selectors.warehouse import LateRisk
from delivery.services import stock as stock_services
from marketplace.choices import OrderStatus
from marketplace.markets import trades as counter_trades
from tests.accounts.factories import UserFactory
from tests.delivery.factories import courier_at, front_warehouse
from tests.delivery.warehouse_factories import (
    HOME,
    KM_NORTH,
    bought_line,
    delivered,
    delivery_order,
    manager_of,
    receive,
    shipped_to,
    task_of,
)
from tests.farms.factories import HarvestLotFactory, ProductFactory

pytestmark = pytest.mark.django_db


# --- Actors and builders (shared with the API and page tests) --------------------------------


@pytest.fixture
def warehouse(db):
    return front_warehouse("chaoyang", *HOME, half_side=0.05)


@pytest.fixture
def spinach(db):
    return ProductFactory(code="VEG-SPINACH-W", name_zh="菠菜", name_en="Spinach")


def _stock_state():
    return (
        sorted(StockLot.objects.values_list("lot_id", "quantity_kg")),
        StockReceipt.objects.count(),
    )


# --- Receiving from a marketplace order ------------------------------------------------------


def test_manager_receives_a_handed_over_order_line_into_its_lot(warehouse, manager):
    line = bought_line(manager, packed="9.8")

    receipt = stock_services.receive_from_order_line(
        warehouse=warehouse, order_line=line, quantity_kg="9.5", by=manager
    )

    stock = StockLot.objects.get()
    assert (stock.warehouse, stock.lot, stock.product) == (
        warehouse,
        line.listing.lot,
        line.listing.product,
    )
    assert stock.quantity_kg == Decimal("9.500")
    assert (receipt.order_line, receipt.trade, receipt.received_by) == (line, None, manager)
    assert receipt.quantity_kg == Decimal("9.500")
    assert stock.expires_at > stock.received_at  # read from the cold chain's shelf life


def test_an_order_line_is_received_once(warehouse, manager):
    line = bought_line(manager)
    stock_services.receive_from_order_line(
        warehouse=warehouse, order_line=line, quantity_kg="9.8", by=manager
    )

    with pytest.raises(AlreadyReceived) as refusal:
        stock_services.receive_from_order_line(
            warehouse=warehouse, order_line=line, quantity_kg="1", by=manager
        )

    assert refusal.value.kind == RefusalKind.CONFLICT
    assert refusal.value.field == "order_line"
    assert StockLot.objects.get().quantity_kg == Decimal("9.800")
    assert StockReceipt.objects.count() == 1


def test_receiving_more_than_was_packed_is_refused(warehouse, manager):
    line = bought_line(manager, ordered="10", packed="9.8")

    with pytest.raises(DeliveryError) as refusal:
        stock_services.receive_from_order_line(
            warehouse=warehouse, order_line=line, quantity_kg="9.801", by=manager
        )

    assert refusal.value.field == "quantity_kg"
    assert "9.800" in str(refusal.value.message)
    assert _stock_state() == ([], 0)


def test_an_order_line_not_yet_handed_over_cannot_be_received(warehouse, manager):
    for status in (OrderStatus.ACCEPTED, OrderStatus.READY, OrderStatus.CANCELLED):
        line = bought_line(manager, status=status, packed=None)

        with pytest.raises(DeliveryError) as refusal:
            stock_services.receive_from_order_line(
                warehouse=warehouse, order_line=line, quantity_kg="1", by=manager
            )

        assert refusal.value.field == "order_line"
    assert _stock_state() == ([], 0)


def test_a_completed_order_without_packed_weight_is_limited_to_the_ordered_one(warehouse, manager):
    line = bought_line(manager, status=OrderStatus.COMPLETED, ordered="10", packed=None)

    with pytest.raises(DeliveryError):
        stock_services.receive_from_order_line(
            warehouse=warehouse, order_line=line, quantity_kg="10.5", by=manager
        )
    stock_services.receive_from_order_line(
        warehouse=warehouse, order_line=line, quantity_kg="10", by=manager
    )

    assert StockLot.objects.get().quantity_kg == Decimal("10.000")


def test_another_warehouses_purchase_is_not_received_here(
    warehouse, manager, other_warehouse, other_manager
):
    theirs = bought_line(other_manager)

    with pytest.raises(NotFoundOrNotYours) as refusal:
        stock_services.receive_from_order_line(
            warehouse=warehouse, order_line=theirs, quantity_kg="1", by=manager
        )
    assert refusal.value.field == "order_line"
    with pytest.raises(PermissionDenied):
        stock_services.receive_from_order_line(
            warehouse=other_warehouse, order_line=theirs, quantity_kg="1", by=manager
        )
    assert _stock_state() == ([], 0)


def test_any_staff_member_may_receive_what_a_colleague_bought(warehouse, manager):
    colleague = manager_of(warehouse)
    line = bought_line(colleague)

    stock_services.receive_from_order_line(
        warehouse=warehouse, order_line=line, quantity_kg="9.8", by=manager
    )

    assert StockReceipt.objects.get().received_by == manager


def test_bad_quantities_are_refused_with_their_field(warehouse, manager):
    line = bought_line(manager)
    for bad in ("0", "-1", "", None, "abc", "NaN", "Infinity"):
        with pytest.raises(DeliveryError) as refusal:
            stock_services.receive_from_order_line(
                warehouse=warehouse, order_line=line, quantity_kg=bad, by=manager
            )
        assert refusal.value.field == "quantity_kg", bad
    assert _stock_state() == ([], 0)


@pytest.mark.django_db(transaction=True)
def test_two_scans_of_one_delivery_at_once_receive_it_once(warehouse, manager):
    line = bought_line(manager)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def scan():
        try:
            start.wait()
            stock_services.receive_from_order_line(
                warehouse=warehouse, order_line=line, quantity_kg="9.8", by=manager
            )
            outcomes.append("received")
        except AlreadyReceived:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["received", "refused"]
    assert StockLot.objects.get().quantity_kg == Decimal("9.800")


# --- Receiving from a market trade -----------------------------------------------------------


def test_manager_receives_a_market_trade_of_a_lot(warehouse, manager, buy_at_market, spinach):
    lot = HarvestLotFactory(product=spinach)
    trade = buy_at_market(manager, lot=lot, gross_kg="52", tare_kg="2")

    receipt = stock_services.receive_from_trade(
        warehouse=warehouse, trade=trade, quantity_kg="50", by=manager
    )

    stock = StockLot.objects.get()
    assert (stock.lot, stock.product, stock.quantity_kg) == (lot, spinach, Decimal("50.000"))
    assert (receipt.trade, receipt.order_line) == (trade, None)

    with pytest.raises(AlreadyReceived) as refusal:
        stock_services.receive_from_trade(
            warehouse=warehouse, trade=trade, quantity_kg="1", by=manager
        )
    assert refusal.value.field == "trade"
    assert StockLot.objects.get().quantity_kg == Decimal("50.000")


def test_a_trade_is_received_up_to_its_net_weight(warehouse, manager, buy_at_market):
    trade = buy_at_market(manager, lot=HarvestLotFactory(), gross_kg="52", tare_kg="2")

    with pytest.raises(DeliveryError) as refusal:
        stock_services.receive_from_trade(
            warehouse=warehouse, trade=trade, quantity_kg="50.001", by=manager
        )

    assert refusal.value.field == "quantity_kg"
    assert _stock_state() == ([], 0)


def test_a_trade_without_a_lot_or_reversed_or_bought_by_another_is_refused(
    warehouse, manager, other_manager, buy_at_market, market_operator_user, spinach
):
    no_lot = buy_at_market(manager, product=spinach)
    reversed_trade = buy_at_market(manager, lot=HarvestLotFactory())
    counter_trades.reverse_trade(
        trade_id=reversed_trade.pk, by=market_operator_user, reason="称错了", idempotency_key="r1"
    )
    theirs = buy_at_market(other_manager, lot=HarvestLotFactory())

    for trade in (no_lot, reversed_trade, theirs):
        with pytest.raises(DomainError) as refusal:
            stock_services.receive_from_trade(
                warehouse=warehouse, trade=trade, quantity_kg="1", by=manager
            )
        assert refusal.value.field == "trade"
    assert _stock_state() == ([], 0)


def test_a_lot_not_brought_to_the_warehouse_is_not_received(
    warehouse, manager, other_warehouse, spinach
):
    elsewhere = shipped_to(other_warehouse, HarvestLotFactory(product=spinach))

    for lot in (elsewhere, HarvestLotFactory(product=spinach)):
        with pytest.raises(NotFoundOrNotYours) as refusal:
            stock_services.receive_lot(warehouse=warehouse, lot=lot, quantity_kg="1", by=manager)
        assert refusal.value.field == "lot"
    assert _stock_state() == ([], 0)


def test_other_arrivals_are_received_as_a_lot(warehouse, manager, spinach):
    stock = receive(warehouse, spinach, "12.5", by=manager)

    receipt = StockReceipt.objects.get()
    assert (receipt.order_line, receipt.trade, receipt.stock_lot) == (None, None, stock)
    assert stock.quantity_kg == Decimal("12.500")


# --- What is waiting to be received ----------------------------------------------------------


def test_receiving_lists_only_this_warehouses_unreceived_purchases(
    warehouse, manager, other_manager, buy_at_market
):
    waiting = bought_line(manager)
    received = bought_line(manager)
    bought_line(manager, status=OrderStatus.ACCEPTED, packed=None)
    bought_line(other_manager)
    trade = buy_at_market(manager, lot=HarvestLotFactory())
    buy_at_market(other_manager, lot=HarvestLotFactory())
    stock_services.receive_from_order_line(
        warehouse=warehouse, order_line=received, quantity_kg="1", by=manager
    )

    assert list(selectors.order_lines_to_receive(warehouse)) == [waiting]
    assert list(selectors.trades_to_receive(warehouse)) == [trade]


# --- Stock and its shelf life ----------------------------------------------------------------


def test_stock_view_shows_lots_by_product_with_the_shelf_life_left(warehouse, manager, spinach):
    cabbage = ProductFactory(name_zh="白菜")
    old = receive(warehouse, spinach, "4", by=manager, harvested_days_ago=5)
    fresh = receive(warehouse, spinach, "6", by=manager, harvested_days_ago=1)
    receive(warehouse, cabbage, "3", by=manager)
    now = timezone.now()
    StockLot.objects.filter(pk=old.pk).update(expires_at=now + timedelta(hours=20))
    StockLot.objects.filter(pk=fresh.pk).update(expires_at=now + timedelta(days=3, hours=12))

    view = selectors.stock_view(warehouse, now)

    assert [product.product.name_zh for product in view] == ["白菜", "菠菜"]
    spinach_stock = view[1]
    assert spinach_stock.quantity_kg == Decimal("10.000")
    assert [lot.stock_lot.pk for lot in spinach_stock.lots] == [old.pk, fresh.pk]
    soon, later = spinach_stock.lots
    assert (soon.remaining_hours, soon.is_near_expiry, soon.is_expired) == (20, True, False)
    assert (later.remaining_hours, later.remaining_days, later.is_near_expiry) == (
        84,
        Decimal("3.5"),
        False,
    )
    assert spinach_stock.has_near_expiry


def test_stock_view_flags_expired_lots_and_leaves_out_empty_ones(warehouse, manager, spinach):
    gone = receive(warehouse, spinach, "4", by=manager)
    stale = receive(warehouse, spinach, "2", by=manager, harvested_days_ago=3)
    StockLot.objects.filter(pk=gone.pk).update(quantity_kg=0)
    now = timezone.now()
    StockLot.objects.filter(pk=stale.pk).update(expires_at=now - timedelta(minutes=1))

    (product,) = selectors.stock_view(warehouse, now)

    (lot,) = product.lots
    assert lot.stock_lot.pk == stale.pk
    assert (lot.is_expired, lot.is_near_expiry, lot.remaining_hours) == (True, False, 0)


# --- The loss rate ---------------------------------------------------------------------------


def test_loss_rate_is_written_off_over_received_in_the_period_by_reason(
    warehouse, manager, other_warehouse, other_manager, spinach
):
    since = timezone.now() - timedelta(days=7)
    until = timezone.now() + timedelta(minutes=1)
    first = receive(warehouse, spinach, "60", by=manager)
    second = receive(warehouse, spinach, "40", by=manager, harvested_days_ago=2)
    before = receive(warehouse, spinach, "50", by=manager, harvested_days_ago=3)
    StockReceipt.objects.filter(stock_lot=before).update(received_at=since - timedelta(hours=1))
    theirs = receive(other_warehouse, spinach, "30", by=other_manager)
    for stock, kg, reason in (
        (first, "3", WriteOffReason.SPOILED),
        (second, "1.5", WriteOffReason.DAMAGED),
        (theirs, "5", WriteOffReason.SPOILED),
    ):
        stock_services.write_off_stock(stock_lot=stock, quantity_kg=kg, reason=reason, by=manager)
    stock_services.record_count(stock_lot=second, counted_kg="38", by=manager)  # 0.5 short
    old = stock_services.write_off_stock(
        stock_lot=before, quantity_kg="10", reason=WriteOffReason.EXPIRED, by=manager
    )
    StockWriteOff.objects.filter(pk=old.pk).update(recorded_at=since - timedelta(minutes=1))

    losses = selectors.loss_rate(warehouse, since, until)

    assert losses.received_kg == Decimal("100.000")
    assert losses.written_off_kg == Decimal("5.000")
    assert losses.rate == Decimal("0.0500")
    assert losses.percent == Decimal("5.0")
    assert {row.reason: (row.quantity_kg, row.rate) for row in losses.by_reason} == {
        WriteOffReason.SPOILED: (Decimal("3.000"), Decimal("0.0300")),
        WriteOffReason.DAMAGED: (Decimal("1.500"), Decimal("0.0150")),
        WriteOffReason.EXPIRED: (Decimal("0"), Decimal("0.0000")),
        WriteOffReason.COUNT_DIFFERENCE: (Decimal("0.500"), Decimal("0.0050")),
    }


def test_loss_rate_without_receipts_has_no_rate(warehouse):
    losses = selectors.recent_loss_rate(warehouse, timezone.now())

    assert (losses.received_kg, losses.written_off_kg, losses.rate) == (0, 0, None)


# --- Open orders and their late risk ---------------------------------------------------------


def test_open_orders_carry_minutes_left_and_a_late_risk(warehouse, other_warehouse):
    now = timezone.now()
    courier = courier_at(HOME[0], HOME[1] + 0.5 * KM_NORTH)  # half-way to a 1 km home
    carried = task_of(warehouse, status=DeliveryTaskStatus.PICKED_UP, courier=courier)
    late = delivery_order(warehouse, now=now, minutes_left=-0.5)
    hurried = delivery_order(warehouse, now=now, minutes_left=8, north_km=0.5)
    far = delivery_order(
        warehouse, status=DeliveryOrderStatus.PACKED, now=now, minutes_left=15, north_km=4.5
    )
    on_its_way = delivery_order(
        warehouse,
        status=DeliveryOrderStatus.PICKED_UP,
        now=now,
        minutes_left=8,
        task=carried,
    )
    relaxed = delivery_order(
        warehouse, status=DeliveryOrderStatus.ASSIGNED, now=now, minutes_left=25
    )
    delivery_order(warehouse, status=DeliveryOrderStatus.DELIVERED, now=now, minutes_left=5)
    delivery_order(warehouse, status=DeliveryOrderStatus.CANCELLED, now=now, minutes_left=5)
    delivery_order(other_warehouse, now=now, minutes_left=-5)

    listed = selectors.open_orders(warehouse, now)

    assert [(entry.order, entry.minutes_left, entry.risk) for entry in listed] == [
        (late, -1, LateRisk.LATE),
        (hurried, 8, LateRisk.AT_RISK),  # under 10 minutes and not on its way
        (on_its_way, 8, LateRisk.ON_TIME),  # on its way, 3 minutes of riding left
        (far, 15, LateRisk.AT_RISK),  # 4.5 km: 2 minutes' loading and a 24-minute ride
        (relaxed, 25, LateRisk.ON_TIME),
    ]
    # Dispatch's travel model (common.geo via DispatchRules): 15 km/h along streets 1.3 times
    # the straight line, plus 2 minutes' loading for an order still at the warehouse.
    assert [entry.travel_minutes for entry in listed] == [8, 5, 3, 26, 8]


def test_late_risk_levels():
    assert selectors.late_risk(status="placed", minutes_left=-1, travel=0) == LateRisk.LATE
    assert selectors.late_risk(status="placed", minutes_left=0, travel=0) == LateRisk.AT_RISK
    assert selectors.late_risk(status="packed", minutes_left=9, travel=2) == LateRisk.AT_RISK
    assert selectors.late_risk(status="packed", minutes_left=10, travel=2) == LateRisk.ON_TIME
    assert selectors.late_risk(status="picked_up", minutes_left=3, travel=2) == LateRisk.ON_TIME
    assert selectors.late_risk(status="picked_up", minutes_left=3, travel=4) == LateRisk.AT_RISK
    assert selectors.late_risk(status="assigned", minutes_left=20, travel=21) == LateRisk.AT_RISK


def test_unassigned_tasks_are_listed_for_dispatching_again(warehouse, other_warehouse):
    waiting = task_of(warehouse)
    order = delivery_order(warehouse, status=DeliveryOrderStatus.PACKED, task=waiting)
    task_of(warehouse, status=DeliveryTaskStatus.OFFERING)
    task_of(other_warehouse)

    (listed,) = selectors.unassigned_tasks(warehouse)

    assert listed == waiting
    assert list(listed.orders.all()) == [order]


# --- Today's on-time rate --------------------------------------------------------------------


def test_on_time_rate_counts_the_shanghai_days_deliveries(warehouse, other_warehouse):
    day = datetime(2026, 3, 10, tzinfo=BUSINESS_TIME_ZONE).date()

    def at(hour, minute, day_offset=0):
        return datetime(2026, 3, 10 + day_offset, hour, minute, tzinfo=BUSINESS_TIME_ZONE)

    # On time (delivered at or before the promise), at the day's two ends.
    delivered(warehouse, promised_by=at(0, 30), delivered_at=at(0, 10))
    delivered(warehouse, promised_by=at(12, 0), delivered_at=at(12, 0))
    delivered(warehouse, promised_by=at(23, 59), delivered_at=at(23, 50))
    delivered(warehouse, promised_by=at(18, 0), delivered_at=at(18, 1))  # a minute late
    # Not that day in Beijing (though the second is on 10 March in UTC), not this warehouse.
    delivered(warehouse, promised_by=at(23, 50, -1), delivered_at=at(23, 40, -1))
    delivered(warehouse, promised_by=at(0, 40, 1), delivered_at=at(0, 30, 1))
    delivered(other_warehouse, promised_by=at(12, 0), delivered_at=at(13, 0))
    delivery_order(warehouse, now=at(12, 0))  # still open

    rate = selectors.on_time_rate(warehouse, day)

    assert (rate.delivered, rate.on_time) == (4, 3)
    assert rate.rate == Decimal("0.7500")
    assert rate.percent == Decimal("75.0")


def test_on_time_rate_of_a_day_without_deliveries_is_empty(warehouse):
    rate = selectors.on_time_rate(warehouse, timezone.localdate())

    assert (rate.delivered, rate.on_time, rate.rate, rate.percent) == (0, 0, None, None)


def test_summary_counts_open_late_and_unassigned(warehouse):
    now = timezone.now()
    delivery_order(warehouse, now=now, minutes_left=-3)
    delivery_order(warehouse, now=now, minutes_left=5)
    delivery_order(warehouse, now=now, minutes_left=25)
    delivered(
        warehouse, promised_by=now - timedelta(minutes=1), delivered_at=now - timedelta(minutes=2)
    )
    task_of(warehouse)

    summary = selectors.warehouse_summary(warehouse, now)

    assert (summary.open_count, summary.late_count, summary.at_risk_count) == (3, 1, 1)
    assert (summary.on_time.delivered, summary.on_time.on_time) == (1, 1)
    assert len(summary.unassigned_tasks) == 1


# --- Who runs which warehouse ----------------------------------------------------------------


def test_warehouse_of_a_manager_an_admin_and_others(
    warehouse, other_warehouse, manager, admin_user, courier, consumer
):
    assert selectors.warehouse_of(manager) == warehouse
    assert selectors.warehouse_of(manager, warehouse_id=other_warehouse.pk) == warehouse
    assert selectors.warehouse_of(admin_user, warehouse_id=other_warehouse.pk) == other_warehouse
    assert selectors.warehouse_of(admin_user) == warehouse  # the first by name
    assert selectors.warehouse_of(admin_user, warehouse_id="x") is None
    assert selectors.warehouse_of(UserFactory(role=Role.WAREHOUSE_MANAGER)) is None  # no post
    assert selectors.warehouse_of(courier) is None
    assert selectors.warehouse_of(consumer) is None
