"""The recall's acceptance: with real threads and connections, a recall racing consumer orders
and counter trades of the same lot leaves no sale committed after it (any sale that committed
is in its frozen scope), every affected consumer and buyer has a saved notification, and a
real WebSocket client receives the push."""

import threading
import time
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from djmoney.money import Money

from accounts.choices import Role
from accounts.models import Notification
from config.asgi import application
from delivery.exceptions import OrderLineShortOfStock
from delivery.models import DeliveryOrderPick, DeliveryOrderStatus, ShopPrice
from delivery.services.stock import receive_stock
from farms.exceptions import LotHeld
from marketplace.models import Trade
from tests.accounts.factories import SAME_SITE, UserFactory, session_cookie_for
from tests.delivery.factories import fund_wallet
from tests.delivery.shop_factories import HOME, open_warehouse, order_for
from tests.traceability.trail_factories import consumer_line
from traceability.choices import DownstreamKind as Kind
from traceability.models import Recall
from traceability.services.recalls import RECALL_OPENED, open_recall

CONSUMERS = 4
TRADES = 2


@pytest.fixture
def shop(lot, settle):
    """The lot traded once at the counter and on the shelves of a warehouse open now, with a
    consumer who already received some of it, and consumers with money who want more."""
    settle("before-the-race", lot=lot)
    warehouse = open_warehouse("RACE", HOME["longitude"], HOME["latitude"], half_side=0.05)
    stock = receive_stock(
        warehouse=warehouse, lot=lot, quantity_kg="100", received_at=lot.created_at
    )
    ShopPrice.objects.create(
        warehouse=warehouse, product=lot.product, price_per_kg=Money("8", "CNY")
    )
    earlier = consumer_line(warehouse, stock, "2")
    buyers = [UserFactory(role=Role.CONSUMER) for _ in range(CONSUMERS)]
    for consumer in buyers:
        fund_wallet(consumer)
    return {"earlier": earlier.order.consumer, "consumers": buyers, "stock": stock}


@pytest.mark.parametrize("sales_first", [False, True], ids=["all-at-once", "after-first-sales"])
@pytest.mark.django_db(transaction=True)
async def test_a_recall_racing_orders_and_trades_leaves_no_sale_after_it(
    shop, lot, coop_manager, settle, sales_first, celery_worker_live
):
    watcher = shop["earlier"]
    cookie = await sync_to_async(session_cookie_for)(watcher)
    socket = WebsocketCommunicator(application, "/ws/me/", headers=[SAME_SITE, cookie])
    connected, _ = await socket.connect()
    assert connected

    results = await sync_to_async(_race, thread_sensitive=False)(
        shop=shop, lot=lot, manager=coop_manager, settle=settle, sales_first=sales_first
    )

    assert results["failed"] == []
    # The real worker lists the frozen scope and tells the parties once the opening commits.
    recall = await sync_to_async(_listed_recall, thread_sensitive=False)()
    facts = await sync_to_async(_facts_after, thread_sensitive=False)(recall, lot)
    # No sale committed after the recall: every sale of the lot is in the frozen scope.
    assert facts["trades"] <= facts["scope"][Kind.MARKET_TRADE]
    assert facts["consumer_lines"] <= facts["scope"][Kind.CONSUMER_ORDER_LINE]
    assert len(facts["trades"]) == 1 + len(results["traded"])
    assert len(results["traded"]) + len(results["refused_trades"]) == TRADES
    assert len(results["ordered"]) + len(results["refused_orders"]) == CONSUMERS
    if sales_first:  # the first order and trade committed before the recall began
        assert results["ordered"]
        assert results["traded"]
    # Every affected consumer and buyer was told, and it was kept.
    assert facts["parties"] <= facts["told"]
    assert watcher.pk in facts["told"]

    event = await socket.receive_json_from(timeout=10)
    while event["type"] != RECALL_OPENED:
        event = await socket.receive_json_from(timeout=10)
    assert event["payload"]["payload"]["recall_id"] == recall.pk
    assert lot.lot_code in event["payload"]["title"]
    await socket.disconnect()


def _race(*, shop, lot, manager, settle, sales_first: bool):
    start = threading.Barrier(1 + CONSUMERS + TRADES)
    # With sales_first, the first order and the first trade are done before the recall
    # starts (sales that committed first must be in its scope); the others race it.
    first_sales = threading.Barrier(3 if sales_first else 1)
    results = {
        "failed": [],
        "ordered": [],
        "refused_orders": [],
        "traded": [],
        "refused_trades": [],
    }

    def guarded(work):
        def run(*args):
            try:
                start.wait()
                work(*args)
            except Exception as error:  # anything unexpected fails the test
                results["failed"].append(error)
            finally:
                connection.close()

        return run

    @guarded
    def recall():
        first_sales.wait(timeout=60)
        open_recall(
            lot_id=lot.pk, reason="农残超标，立即召回", severity="class_i", opened_by=manager
        )

    @guarded
    def order(consumer):
        try:
            results["ordered"].append(order_for(consumer, (lot.product_id, Decimal("1"))).pk)
        except OrderLineShortOfStock:  # the only stock is the recalled lot's
            results["refused_orders"].append(consumer.pk)
        finally:
            if consumer == shop["consumers"][0]:
                first_sales.wait(timeout=60)

    @guarded
    def trade(index):
        try:
            results["traded"].append(settle(f"race-{index}", lot=lot).pk)
        except LotHeld:
            results["refused_trades"].append(index)
        finally:
            if index == 0:
                first_sales.wait(timeout=60)

    threads = [threading.Thread(target=order, args=(c,)) for c in shop["consumers"]]
    threads += [threading.Thread(target=trade, args=(i,)) for i in range(TRADES)]
    threads.append(threading.Thread(target=recall))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _listed_recall(seconds: float = 30) -> Recall:
    deadline = time.monotonic() + seconds
    while (recall := Recall.objects.get()).listed_at is None:
        assert time.monotonic() < deadline, "the worker never listed the recall's scope"
        time.sleep(0.1)
    return recall


def _facts_after(recall, lot):
    scope: dict[str, set[int]] = {kind: set() for kind in Kind.values}
    parties: set[int] = set()
    for kind, record_id, party in recall.scope.values_list("kind", "record_id", "party_user_id"):
        scope[kind].add(record_id)
        if kind in (Kind.CONSUMER_ORDER_LINE, Kind.MARKETPLACE_ORDER_LINE, Kind.MARKET_TRADE):
            parties.add(party)
    picks = DeliveryOrderPick.objects.filter(stock_lot__lot=lot).exclude(
        line__order__status=DeliveryOrderStatus.CANCELLED
    )
    told = set(
        Notification.objects.filter(kind=RECALL_OPENED, payload__recall_id=recall.pk).values_list(
            "user_id", flat=True
        )
    )
    facts = {
        "scope": scope,
        "trades": set(Trade.objects.filter(lot=lot).values_list("pk", flat=True)),
        "consumer_lines": set(picks.values_list("line_id", flat=True)),
        "parties": parties - {None},
        "told": told,
    }
    connection.close()
    return facts
