"""A consumer's order: routed to the warehouse whose zone holds her home, stock reserved
first-expired-first-out, paid from her wallet in the ledger; packed by the warehouse; cancelled
with the stock back in the same lots and the wallet refunded. Refusals change nothing."""

import re
import threading
from datetime import time, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone, translation

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry
from common.exceptions import RefusalKind
from config.asgi import application
from delivery.exceptions import (
    DeliveryError,
    InsufficientStock,
    OrderLineRefused,
    OrderNotYours,
    OrderStepRefused,
    WalletShort,
)
from delivery.models import (
    DeliveryOrder,
    DeliveryOrderPick,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    FrontWarehouse,
    ShopPrice,
    StockLot,
    WarehouseStaff,
)
from delivery.services.orders import (
    cancel_order,
    pack_order,
)
from delivery.services.stock import receive_stock
from settlement.accounts import book_account, platform_book
from settlement.choices import AccountKind, EntryKind
from settlement.exceptions import InsufficientBalance
from settlement.models import JournalEntry
from settlement.selectors import balance_of
from tests.accounts.factories import UserFactory
from tests.delivery.factories import courier_at, fund_wallet
from tests.delivery.shop_factories import (
    NOWHERE,
    open_warehouse,
    opening_hours_around_now,
    order_for,
    receive,
    wallet_balance,
)
from tests.farms.factories import HarvestLotFactory

# --- Helpers the shop's API and page tests share -------------------------------------------


def sales_balance():
    return balance_of(book_account(platform_book(), AccountKind.SALES)).amount


def stock_by_lot() -> dict:
    return dict(StockLot.objects.values_list("pk", "quantity_kg"))


@pytest.fixture(autouse=True)
def in_english():
    """Refusals are read in English here, whatever the translations say."""
    with translation.override("en"):
        yield


# --- Where the order goes -----------------------------------------------------------------


def test_the_order_goes_to_the_warehouse_whose_zone_holds_the_home(
    chaoyang, haidian, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    haidian_stock = receive(haidian, spinach, "10", harvested_days_ago=1)

    order = order_for(
        funded_consumer, (spinach.pk, "2"), where={"longitude": 116.31, "latitude": 39.95}
    )

    assert order.warehouse == haidian
    haidian_stock.refresh_from_db()
    assert haidian_stock.quantity_kg == Decimal("8.000")
    assert StockLot.objects.get(warehouse=chaoyang).quantity_kg == Decimal("10.000")
    assert (order.location.x, order.location.y) == (116.31, 39.95)


def test_a_home_outside_every_zone_is_refused_and_nothing_is_written(
    chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    entries_before = JournalEntry.objects.count()

    with pytest.raises(DeliveryError) as refusal:
        order_for(funded_consumer, (spinach.pk, "2"), where=NOWHERE)

    assert refusal.value.field == "location"
    assert "outside the delivery zone" in str(refusal.value.message)
    assert not DeliveryOrder.objects.exists()
    assert JournalEntry.objects.count() == entries_before
    assert not JournalEntry.objects.filter(kind=EntryKind.SHOP_ORDER).exists()
    assert StockLot.objects.get().quantity_kg == Decimal("10.000")
    assert wallet_balance(funded_consumer) == Decimal("500.00")


def test_a_closed_warehouse_takes_no_order(chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    FrontWarehouse.objects.filter(pk=chaoyang.pk).update(**opening_hours_around_now(open_now=False))

    with pytest.raises(DeliveryError) as refusal:
        order_for(funded_consumer, (spinach.pk, "2"))

    assert "closed now" in str(refusal.value.message)
    assert not DeliveryOrder.objects.exists()
    assert StockLot.objects.get().quantity_kg == Decimal("10.000")


def test_opening_hours_past_midnight_are_read_in_beijing_time(chaoyang):
    chaoyang.opens_at, chaoyang.closes_at = time(7), time(1)
    assert chaoyang.is_open_at(time(0, 30))
    assert not chaoyang.is_open_at(time(3))


def test_a_product_not_listed_at_the_warehouse_is_refused(chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    ShopPrice.objects.filter(product=spinach).update(is_listed=False)

    with pytest.raises(OrderLineRefused) as refusal:
        order_for(funded_consumer, (spinach.pk, "2"))

    assert refusal.value.field == "product_id"
    assert refusal.value.as_dict()["line"] == 0
    assert not DeliveryOrder.objects.exists()
    assert StockLot.objects.get().quantity_kg == Decimal("10.000")


@pytest.mark.parametrize("quantity", ["0", "-1", "1.2345", "abc", "NaN"])
def test_a_quantity_must_be_above_zero_with_three_decimals_at_most(
    chaoyang, spinach, funded_consumer, quantity
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)

    with pytest.raises(OrderLineRefused) as refusal:
        order_for(funded_consumer, (spinach.pk, quantity))

    assert refusal.value.field == "quantity_kg"
    assert not DeliveryOrder.objects.exists()


def test_an_order_needs_an_address_and_a_product(chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)

    with pytest.raises(DeliveryError) as no_address:
        order_for(funded_consumer, (spinach.pk, "1"), address="  ")
    with pytest.raises(DeliveryError) as no_lines:
        order_for(funded_consumer)
    with pytest.raises(OrderLineRefused) as twice:
        order_for(funded_consumer, (spinach.pk, "1"), (spinach.pk, "2"))

    assert no_address.value.field == "address"
    assert no_lines.value.field == "lines"
    assert twice.value.field == "product_id"
    assert not DeliveryOrder.objects.exists()


# --- Reserving stock ----------------------------------------------------------------------


def test_stock_is_picked_first_expired_first_out_across_lots(chaoyang, spinach, funded_consumer):
    fresh = receive(chaoyang, spinach, "10", harvested_days_ago=1)
    oldest = receive(chaoyang, spinach, "4", harvested_days_ago=5)
    middle = receive(chaoyang, spinach, "6", harvested_days_ago=3)

    order = order_for(funded_consumer, (spinach.pk, "7"))

    picks = DeliveryOrderPick.objects.filter(line__order=order).order_by("pk")
    assert [(pick.stock_lot_id, pick.quantity_kg) for pick in picks] == [
        (oldest.pk, Decimal("4.000")),
        (middle.pk, Decimal("3.000")),
    ]
    assert stock_by_lot() == {
        oldest.pk: Decimal("0.000"),
        middle.pk: Decimal("3.000"),
        fresh.pk: Decimal("10.000"),
    }


def test_ordering_more_than_the_stock_is_refused_and_nothing_changes(
    chaoyang, spinach, tomato, funded_consumer
):
    tomatoes = receive(chaoyang, tomato, "10", harvested_days_ago=1)
    spinach_lot = receive(chaoyang, spinach, "4", harvested_days_ago=2)
    entries_before = JournalEntry.objects.count()

    # The tomatoes could be had; the spinach could not: neither is taken.
    with pytest.raises(InsufficientStock) as refusal:
        order_for(funded_consumer, (tomato.pk, "3"), (spinach.pk, "4.5"))

    assert refusal.value.kind == RefusalKind.CONFLICT
    assert refusal.value.as_dict() == {
        "quantity_kg": [str(refusal.value.message)],
        "line": 1,
    }
    assert str(refusal.value.message) == "Only 4 kg of Spinach is left."
    assert stock_by_lot() == {tomatoes.pk: Decimal("10.000"), spinach_lot.pk: Decimal("4.000")}
    assert not DeliveryOrder.objects.exists()
    assert JournalEntry.objects.count() == entries_before
    assert wallet_balance(funded_consumer) == Decimal("500.00")


@pytest.mark.django_db(transaction=True)
def test_consumers_racing_for_the_last_kilograms_never_oversell(spinach):
    warehouse = open_warehouse("race", 116.48, 39.92, half_side=0.03)
    receive(warehouse, spinach, "10", harvested_days_ago=2)
    consumers = [UserFactory(role=Role.CONSUMER) for _ in range(6)]
    for person in consumers:
        fund_wallet(person, "100.00")
    start = threading.Barrier(len(consumers))
    outcomes: list[str] = []

    def order_three_kilograms(person):
        try:
            start.wait()
            order_for(person, (spinach.pk, "3"))
            outcomes.append("placed")
        except InsufficientStock:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=order_three_kilograms, args=(c,)) for c in consumers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["placed"] * 3 + ["refused"] * 3
    assert StockLot.objects.get().quantity_kg == Decimal("1.000")
    assert DeliveryOrder.objects.count() == 3
    assert sales_balance() == Decimal("108.00")


@pytest.mark.django_db(transaction=True)
def test_a_double_tap_sending_the_same_key_twice_at_once_makes_one_order(spinach):
    warehouse = open_warehouse("double", 116.48, 39.92, half_side=0.03)
    receive(warehouse, spinach, "10", harvested_days_ago=2)
    consumer = UserFactory(role=Role.CONSUMER)
    fund_wallet(consumer, "100.00")
    start = threading.Barrier(2)
    placed: list[int] = []

    def tap():
        try:
            start.wait()
            placed.append(order_for(consumer, (spinach.pk, "2"), key="double-tap").pk)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(placed) == 2
    assert len(set(placed)) == 1
    assert DeliveryOrder.objects.count() == 1
    assert StockLot.objects.get().quantity_kg == Decimal("8.000")
    assert wallet_balance(consumer) == Decimal("76.00")


# --- Paying -------------------------------------------------------------------------------


def test_the_wallet_pays_the_shop_sales_in_the_ledger(chaoyang, spinach, tomato, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1, price="12.00")
    receive(chaoyang, tomato, "10", harvested_days_ago=1, price="6.50")
    sales_before = sales_balance()

    order = order_for(funded_consumer, (spinach.pk, "1.5"), (tomato.pk, "2"))

    assert order.total.amount == Decimal("31.00")
    assert wallet_balance(funded_consumer) == Decimal("469.00")
    assert sales_balance() - sales_before == Decimal("31.00")
    entry = order.payment_entry
    assert entry.kind == EntryKind.SHOP_ORDER
    assert entry.reference == f"delivery_order:{order.pk}"
    assert sorted(p.amount.amount for p in entry.postings.all()) == [
        Decimal("-31.00"),
        Decimal("31.00"),
    ]


def test_each_line_is_rounded_once_half_up(chaoyang, spinach, tomato, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1, price="12.35")
    receive(chaoyang, tomato, "10", harvested_days_ago=1, price="3.33")

    order = order_for(funded_consumer, (spinach.pk, "0.333"), (tomato.pk, "1.5"))

    amounts = {line.product_id: line.amount.amount for line in order.lines.all()}
    assert amounts == {spinach.pk: Decimal("4.11"), tomato.pk: Decimal("5.00")}  # 4.995 → 5.00
    assert order.total.amount == Decimal("9.11")


def test_a_short_wallet_refuses_the_order_with_its_balance_and_nothing_changes(
    chaoyang, spinach, consumer
):
    lot = receive(chaoyang, spinach, "10", harvested_days_ago=1, price="12.00")
    fund_wallet(consumer, "5.00")
    sales_before = sales_balance()

    with pytest.raises(InsufficientBalance) as refusal:
        order_for(consumer, (spinach.pk, "1"))

    assert isinstance(refusal.value, WalletShort)
    assert refusal.value.field == "wallet"
    assert "¥5.00" in str(refusal.value.message)
    assert "¥12.00" in str(refusal.value.message)
    assert not DeliveryOrder.objects.exists()
    assert not DeliveryOrderPick.objects.exists()
    lot.refresh_from_db()
    assert lot.quantity_kg == Decimal("10.000")
    assert wallet_balance(consumer) == Decimal("5.00")
    assert sales_balance() == sales_before


def test_a_retry_with_the_same_key_returns_the_first_order(chaoyang, spinach, funded_consumer):
    lot = receive(chaoyang, spinach, "10", harvested_days_ago=1)

    first = order_for(funded_consumer, (spinach.pk, "2"), key="tap-1")
    again = order_for(funded_consumer, (spinach.pk, "2"), key="tap-1")

    assert again.pk == first.pk
    assert DeliveryOrder.objects.count() == 1
    lot.refresh_from_db()
    assert lot.quantity_kg == Decimal("8.000")
    assert wallet_balance(funded_consumer) == Decimal("476.00")
    assert JournalEntry.objects.filter(kind=EntryKind.SHOP_ORDER).count() == 1


def test_the_same_key_from_another_consumer_is_another_order(chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    neighbour = UserFactory(role=Role.CONSUMER)
    fund_wallet(neighbour, "50.00")

    mine = order_for(funded_consumer, (spinach.pk, "1"), key="k")
    theirs = order_for(neighbour, (spinach.pk, "1"), key="k")

    assert mine.pk != theirs.pk
    assert StockLot.objects.get().quantity_kg == Decimal("8.000")


def test_an_order_has_a_readable_number_a_secret_code_and_a_promise(
    chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)

    order = order_for(funded_consumer, (spinach.pk, "1"))
    other = order_for(funded_consumer, (spinach.pk, "1"))

    assert re.fullmatch(r"\d{6}-[2-9A-HJ-NP-Z]{6}", order.number)
    assert order.number != other.number
    assert re.fullmatch(r"\d{4}", order.delivery_code)
    assert order.status == DeliveryOrderStatus.PLACED
    assert order.promised_by - order.placed_at == timedelta(minutes=chaoyang.promised_minutes)


@pytest.mark.django_db(transaction=True)
async def test_the_consumer_hears_of_her_order_live(spinach):
    consumer = await sync_to_async(UserFactory)(role=Role.CONSUMER)
    warehouse = await sync_to_async(open_warehouse)("live", 116.48, 39.92, half_side=0.03)
    await sync_to_async(receive)(warehouse, spinach, "10", harvested_days_ago=1)
    await sync_to_async(fund_wallet)(consumer, "100.00")
    cookie = await sync_to_async(_session_cookie)(consumer)
    socket = WebsocketCommunicator(
        application, "/ws/me/", headers=[(b"origin", b"http://localhost"), cookie]
    )
    connected, _ = await socket.connect()
    assert connected

    order = await sync_to_async(order_for)(consumer, (spinach.pk, "1"))

    event = await socket.receive_json_from(timeout=5)
    assert event == {
        "type": "delivery.order",
        "payload": {"quiet": True, "order_id": order.pk, "status": "placed"},
    }
    await socket.disconnect()


def _session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())


# --- Packing ------------------------------------------------------------------------------


def test_the_warehouse_staff_packs_a_placed_order(
    chaoyang, chaoyang_staff, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "1"))

    pack_order(by=chaoyang_staff, order_id=order.pk)
    again = pack_order(by=chaoyang_staff, order_id=order.pk)

    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.PACKED
    assert order.packed_at is not None
    assert again.packed_at == order.packed_at


def test_only_the_warehouse_own_staff_packs(chaoyang, haidian, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "1"))
    haidian_manager = UserFactory(role=Role.WAREHOUSE_MANAGER)
    WarehouseStaff.objects.create(warehouse=haidian, user=haidian_manager)

    for outsider in (haidian_manager, funded_consumer):
        with pytest.raises(OrderNotYours):
            pack_order(by=outsider, order_id=order.pk)

    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.PLACED
    assert order.packed_at is None


def test_an_admin_may_pack(chaoyang, spinach, funded_consumer, admin_user):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "1"))

    assert pack_order(by=admin_user, order_id=order.pk).status == DeliveryOrderStatus.PACKED


def test_a_cancelled_order_cannot_be_packed(chaoyang, chaoyang_staff, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "1"))
    cancel_order(by=funded_consumer, order_id=order.pk)

    with pytest.raises(OrderStepRefused) as refusal:
        pack_order(by=chaoyang_staff, order_id=order.pk)

    assert refusal.value.kind == RefusalKind.CONFLICT
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.CANCELLED
    assert order.packed_at is None


# --- Cancelling ---------------------------------------------------------------------------


def test_cancelling_puts_the_stock_back_in_its_lots_and_refunds_the_wallet(
    chaoyang, spinach, funded_consumer
):
    oldest = receive(chaoyang, spinach, "4", harvested_days_ago=5)
    fresh = receive(chaoyang, spinach, "10", harvested_days_ago=1)
    sales_before = sales_balance()
    order = order_for(funded_consumer, (spinach.pk, "6"))
    assert stock_by_lot() == {oldest.pk: Decimal("0.000"), fresh.pk: Decimal("8.000")}
    assert wallet_balance(funded_consumer) == Decimal("428.00")

    cancelled = cancel_order(by=funded_consumer, order_id=order.pk, reason="Ordered twice")

    assert cancelled.status == DeliveryOrderStatus.CANCELLED
    assert cancelled.cancelled_at is not None
    assert stock_by_lot() == {oldest.pk: Decimal("4.000"), fresh.pk: Decimal("10.000")}
    assert wallet_balance(funded_consumer) == Decimal("500.00")
    assert sales_balance() == sales_before
    refund = JournalEntry.objects.get(kind=EntryKind.REFUND)
    assert refund.reverses_id == order.payment_entry_id
    assert refund.memo == "Ordered twice"


def test_cancelling_twice_refunds_once(chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "2"))

    cancel_order(by=funded_consumer, order_id=order.pk)
    cancel_order(by=funded_consumer, order_id=order.pk)

    assert JournalEntry.objects.filter(kind=EntryKind.REFUND).count() == 1
    assert wallet_balance(funded_consumer) == Decimal("500.00")
    assert StockLot.objects.get().quantity_kg == Decimal("10.000")
    refunded = AuditEntry.objects.get(action=AuditAction.REFUND)
    assert (refunded.actor, refunded.subject) == (funded_consumer, funded_consumer)
    assert refunded.changes["amount"] == [None, f"{order.total.amount:.2f}"]
    assert refunded.object_id == str(JournalEntry.objects.get(kind=EntryKind.REFUND).pk)


def test_another_consumer_cannot_cancel_my_order(chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "2"))
    stranger = UserFactory(role=Role.CONSUMER)

    with pytest.raises(OrderNotYours):
        cancel_order(by=stranger, order_id=order.pk)

    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.PLACED
    assert StockLot.objects.get().quantity_kg == Decimal("8.000")
    assert not JournalEntry.objects.filter(kind=EntryKind.REFUND).exists()


def test_the_warehouse_staff_may_cancel_an_order(
    chaoyang, chaoyang_staff, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "2"))

    cancel_order(by=chaoyang_staff, order_id=order.pk, reason="Spoiled on the shelf")

    assert wallet_balance(funded_consumer) == Decimal("500.00")
    assert DeliveryOrder.objects.get().status == DeliveryOrderStatus.CANCELLED


def test_a_packed_order_no_courier_took_can_be_cancelled(
    chaoyang, chaoyang_staff, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "2"))
    pack_order(by=chaoyang_staff, order_id=order.pk)
    task = DeliveryTask.objects.create(warehouse=chaoyang, status=DeliveryTaskStatus.OFFERING)
    DeliveryOrder.objects.filter(pk=order.pk).update(task=task)

    cancel_order(by=funded_consumer, order_id=order.pk)

    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.CANCELLED
    assert StockLot.objects.get().quantity_kg == Decimal("10.000")
    assert wallet_balance(funded_consumer) == Decimal("500.00")
    assert not task.orders.filter(status=DeliveryOrderStatus.PACKED).exists()


@pytest.mark.parametrize("status", [DeliveryOrderStatus.PACKED, DeliveryOrderStatus.ASSIGNED])
def test_an_order_a_courier_accepted_cannot_be_cancelled(
    chaoyang, chaoyang_staff, spinach, funded_consumer, status
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "2"))
    pack_order(by=chaoyang_staff, order_id=order.pk)
    courier = courier_at(116.48, 39.92)
    task = DeliveryTask.objects.create(
        warehouse=chaoyang,
        courier=courier,
        status=DeliveryTaskStatus.ASSIGNED,
        accepted_at=timezone.now(),
    )
    DeliveryOrder.objects.filter(pk=order.pk).update(task=task, status=status)

    with pytest.raises(OrderStepRefused) as refusal:
        cancel_order(by=funded_consumer, order_id=order.pk)

    assert refusal.value.kind == RefusalKind.CONFLICT
    order.refresh_from_db()
    assert order.status == status
    assert order.task_id == task.pk
    assert StockLot.objects.get().quantity_kg == Decimal("8.000")
    assert wallet_balance(funded_consumer) == Decimal("476.00")


def test_lots_received_later_are_not_confused_with_picked_ones(chaoyang, spinach, funded_consumer):
    lot = HarvestLotFactory(product=spinach, quantity_kg=Decimal("500"))
    first = receive(chaoyang, spinach, "3", harvested_days_ago=2)
    order = order_for(funded_consumer, (spinach.pk, "3"))
    later = receive_stock(warehouse=chaoyang, lot=lot, quantity_kg="5", received_at=timezone.now())

    cancel_order(by=funded_consumer, order_id=order.pk)

    assert stock_by_lot() == {first.pk: Decimal("3.000"), later.pk: Decimal("5.000")}
