"""A hold and a sale of the same lot never cross: real threads, each with its own database
connection. A hold placed in a transaction still open makes a counter trade and a consumer's
order of the lot wait, and once it commits both are refused; a sale in flight makes the hold
wait until the sale commits, so the sale is in the hold's (a recall's) scope.

Waiting is observed in PostgreSQL (pg_stat_activity: the session waits on a lock), not timed.
"""

import threading
import time
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from djmoney.money import Money

from delivery.exceptions import OrderLineShortOfStock
from delivery.models import DeliveryOrder, ShopPrice, StockLot
from delivery.services.stock import receive_stock
from farms.choices import HoldSource
from farms.exceptions import LotHeld
from farms.models import LotHold
from farms.services.holds import place_hold
from marketplace.models import Trade
from tests.delivery.shop_factories import order_for
from tests.farms.factories import HarvestLotFactory

RECALL = "Recall RC-7: chlorpyrifos above the national limit"
PATIENCE_SECONDS = 60  # only a broken lock ever reaches it


@pytest.fixture
def lot(cabbage):
    return HarvestLotFactory(product=cabbage, quantity_kg=Decimal("500"))


@pytest.fixture
def shelf(chaoyang, cabbage, lot):
    """20 kg of the lot in Chaoyang's stock, on sale at ¥3.00/kg."""
    ShopPrice.objects.create(warehouse=chaoyang, product=cabbage, price_per_kg=Money("3.00", "CNY"))
    return receive_stock(warehouse=chaoyang, lot=lot, quantity_kg="20", received_at=timezone.now())


class Session(threading.Thread):
    """Runs `work` on its own connection; keeps its backend pid, result or refusal."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work = work
        self.pid: int | None = None
        self.started_work = threading.Event()
        self.result = None
        self.error: BaseException | None = None

    def run(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            self.started_work.set()
            self.result = self.work()
        except BaseException as error:  # kept for the test's assertions
            self.error = error
        finally:
            self.started_work.set()
            close_old_connections()
            connection.close()


def waits_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def until_waiting(*sessions: Session) -> None:
    """Return once every session's connection waits on a row lock."""
    for session in sessions:
        session.started_work.wait(PATIENCE_SECONDS)
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not all(session.pid and waits_on_a_lock(session.pid) for session in sessions):
        assert all(session.is_alive() for session in sessions), "a session ended without waiting"
        assert time.monotonic() < deadline, "the sessions never waited for the lock"
        time.sleep(0.01)


def finish(*sessions: Session) -> None:
    for session in sessions:
        session.join(PATIENCE_SECONDS)
        assert not session.is_alive()


@pytest.mark.django_db(transaction=True)
def test_a_hold_being_placed_makes_a_counter_trade_and_a_consumer_order_wait_then_refuses_them(
    settle, lot, shelf, cabbage, funded_consumer
):
    placed, commit = threading.Event(), threading.Event()

    def hold_then_wait():
        with transaction.atomic():
            hold = place_hold(
                lot=lot, source=HoldSource.RECALL, reference="recall:RC-7", reason=RECALL
            )
            placed.set()
            commit.wait(PATIENCE_SECONDS)
        return hold

    recall = Session(hold_then_wait)
    recall.start()
    assert placed.wait(PATIENCE_SECONDS)

    trade = Session(lambda: settle("during-recall", lot=lot))
    order = Session(lambda: order_for(funded_consumer, (cabbage.pk, "2")))
    trade.start()
    order.start()
    until_waiting(trade, order)  # both queue behind the hold's lock on the lot
    commit.set()
    finish(recall, trade, order)

    assert recall.error is None
    assert isinstance(trade.error, LotHeld)
    assert str(trade.error.message) == RECALL
    assert isinstance(order.error, OrderLineShortOfStock)  # the held stock is not for sale
    assert not Trade.objects.exists()
    assert not DeliveryOrder.objects.exists()
    assert StockLot.objects.get(pk=shelf.pk).quantity_kg == Decimal("20.000")


@pytest.mark.django_db(transaction=True)
def test_sales_in_flight_make_the_hold_wait_until_they_commit(
    settle, lot, shelf, cabbage, funded_consumer
):
    sold, commit = threading.Barrier(3), threading.Event()

    def in_flight(sell):
        def work():
            with transaction.atomic():
                done = sell()
                sold.wait(PATIENCE_SECONDS)
                commit.wait(PATIENCE_SECONDS)
            return done

        return work

    trade = Session(in_flight(lambda: settle("before-recall", lot=lot)))
    order = Session(in_flight(lambda: order_for(funded_consumer, (cabbage.pk, "2"))))
    trade.start()
    order.start()
    sold.wait(PATIENCE_SECONDS)  # both sales hold the lot FOR SHARE, uncommitted

    recall = Session(
        lambda: place_hold(
            lot=lot, source=HoldSource.RECALL, reference="recall:RC-7", reason=RECALL
        )
    )
    recall.start()
    until_waiting(recall)  # the hold queues behind the sales
    assert not LotHold.objects.exists()
    commit.set()
    finish(trade, order, recall)

    assert (trade.error, order.error, recall.error) == (None, None, None)
    recorded = Trade.objects.get()
    assert recorded.lot == lot
    assert DeliveryOrder.objects.get().lines.get().quantity_kg == Decimal("2.000")
    hold = LotHold.objects.get()
    assert hold.placed_at >= recorded.recorded_at  # the sales are in the recall's scope
    assert StockLot.objects.get(pk=shelf.pk).quantity_kg == Decimal("18.000")
