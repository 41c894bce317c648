"""The warehouse manager's API under /api/delivery/warehouse/: stock, receipts, write-offs,
counts, open orders, packing, dispatching again, the summary; each role's limits."""

# The shared warehouse fixtures come from test_warehouse; tests take them as arguments.

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from accounts.choices import Role
from common.exceptions import NotFoundOrNotYours
from delivery.models import (
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTaskStatus,
    StockCount,
    StockLot,
    StockReceipt,
    StockWriteOff,
    WriteOffReason,
)
from marketplace.choices import OrderStatus
from tests.accounts.factories import UserFactory
from tests.delivery.factories import front_warehouse
from tests.delivery.warehouse_factories import (
    HOME,
    bought_line,
    delivery_order,
    receive,
    shipped_to,
    task_of,
)
from tests.farms.factories import HarvestLotFactory, ProductFactory

pytestmark = pytest.mark.django_db


# The warehouse manager's warehouse and produce (tests/delivery/conftest.py holds the
# couriers' warehouse and the shop's spinach under the same names).
@pytest.fixture
def warehouse(db):
    return front_warehouse("chaoyang", *HOME, half_side=0.05)


@pytest.fixture
def spinach(db):
    return ProductFactory(code="VEG-SPINACH-W", name_zh="菠菜", name_en="Spinach")


API = "/api/delivery/warehouse"
# The API answers in the default language.
with translation.override("zh-hans"):
    NEUTRAL = str(NotFoundOrNotYours.default_message)
READS = ["stock/", "orders/", "summary/"]
WRITES = ["receipts/", "write-offs/", "counts/", "orders/1/pack/", "tasks/1/redispatch/"]


def _state():
    return (
        sorted(StockLot.objects.values_list("pk", "quantity_kg")),
        StockReceipt.objects.count(),
        StockWriteOff.objects.count(),
        StockCount.objects.count(),
    )


# --- Who may call it -------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COURIER, Role.CONSUMER, Role.FARMER, Role.BUYER])
def test_other_roles_are_refused(api_as, warehouse, role):
    client = api_as(UserFactory(role=role))

    for path in READS:
        assert client.get(f"{API}/{path}").status_code == 403, path
    for path in WRITES:
        assert client.post(f"{API}/{path}", {}, format="json").status_code == 403, path


def test_anonymous_callers_are_refused(api_client, warehouse):
    for path in READS:
        assert api_client.get(f"{API}/{path}").status_code in (401, 403), path


def test_a_manager_without_a_warehouse_finds_nothing(api_as, warehouse):
    client = api_as(UserFactory(role=Role.WAREHOUSE_MANAGER))

    for path in READS:
        assert client.get(f"{API}/{path}").status_code == 404, path


def test_another_warehouses_lot_order_task_line_and_trade_are_not_found(
    api_as, manager, other_warehouse, other_manager, spinach, buy_at_market
):
    their_stock = receive(other_warehouse, spinach, "10", by=other_manager)
    their_order = delivery_order(other_warehouse)
    their_task = task_of(other_warehouse)
    their_line = bought_line(other_manager)
    their_trade = buy_at_market(other_manager, lot=HarvestLotFactory())
    before = _state()
    client = api_as(manager)

    answers = [
        client.post(
            f"{API}/write-offs/",
            {"stock_lot": their_stock.pk, "quantity_kg": "1", "reason": "spoiled"},
            format="json",
        ),
        client.post(
            f"{API}/counts/", {"stock_lot": their_stock.pk, "counted_kg": "1"}, format="json"
        ),
        client.post(f"{API}/orders/{their_order.pk}/pack/"),
        client.post(f"{API}/tasks/{their_task.pk}/redispatch/"),
        client.post(
            f"{API}/receipts/", {"order_line": their_line.pk, "quantity_kg": "1"}, format="json"
        ),
        client.post(
            f"{API}/receipts/", {"trade": their_trade.pk, "quantity_kg": "1"}, format="json"
        ),
    ]

    # Ids in the URL: 404; ids in the body: the field's neutral refusal, as for a missing id.
    assert [answer.status_code for answer in answers] == [400, 400, 404, 404, 400, 400]
    assert [answer.json() for answer in answers if answer.status_code == 400] == [
        {"stock_lot": [NEUTRAL]},
        {"stock_lot": [NEUTRAL]},
        {"order_line": [NEUTRAL]},
        {"trade": [NEUTRAL]},
    ]
    assert _state() == before
    their_order.refresh_from_db()
    assert their_order.status == DeliveryOrderStatus.PLACED
    listed = client.get(f"{API}/orders/").json()
    assert their_order.pk not in [order["id"] for order in listed]
    products = client.get(f"{API}/stock/").json()["products"]
    assert products == []


# --- Stock -----------------------------------------------------------------------------------


def test_stock_lists_lots_with_their_shelf_life(api_as, warehouse, manager, spinach):
    stock = receive(warehouse, spinach, "6.5", by=manager)
    StockLot.objects.filter(pk=stock.pk).update(
        expires_at=timezone.now() + timedelta(hours=10, minutes=30)
    )

    body = api_as(manager).get(f"{API}/stock/").json()

    assert body["warehouse"]["id"] == warehouse.pk
    (product,) = body["products"]
    assert (product["product_id"], product["quantity_kg"], product["near_expiry"]) == (
        spinach.pk,
        "6.500",
        True,
    )
    (lot,) = product["lots"]
    assert lot["id"] == stock.pk
    assert lot["lot_code"] == stock.lot.lot_code
    assert (lot["quantity_kg"], lot["remaining_hours"], lot["near_expiry"], lot["expired"]) == (
        "6.500",
        10,
        True,
        False,
    )


def test_an_admin_picks_the_warehouse(api_as, admin_user, warehouse, other_warehouse):
    client = api_as(admin_user)

    assert client.get(f"{API}/stock/").json()["warehouse"]["id"] == warehouse.pk
    picked = client.get(f"{API}/stock/", {"warehouse": other_warehouse.pk}).json()
    assert picked["warehouse"]["id"] == other_warehouse.pk
    assert client.get(f"{API}/stock/", {"warehouse": 999999}).status_code == 404


# --- Receipts --------------------------------------------------------------------------------


def test_receiving_an_order_line_once(api_as, warehouse, manager):
    line = bought_line(manager, packed="9.8")
    client = api_as(manager)

    first = client.post(
        f"{API}/receipts/", {"order_line": line.pk, "quantity_kg": "9.8"}, format="json"
    )
    again = client.post(
        f"{API}/receipts/", {"order_line": line.pk, "quantity_kg": "9.8"}, format="json"
    )

    assert first.status_code == 201
    body = first.json()
    assert (body["order_line"], body["trade"], body["quantity_kg"]) == (line.pk, None, "9.800")
    assert body["stock_quantity_kg"] == "9.800"
    assert StockLot.objects.get().lot == line.listing.lot
    assert again.status_code == 409
    assert list(again.json()) == ["order_line"]
    assert StockLot.objects.get().quantity_kg == Decimal("9.800")


def test_receiving_a_trade(api_as, warehouse, manager, buy_at_market):
    trade = buy_at_market(manager, lot=HarvestLotFactory(), gross_kg="30", tare_kg="0")

    answer = api_as(manager).post(
        f"{API}/receipts/", {"trade": trade.pk, "quantity_kg": "30"}, format="json"
    )

    assert answer.status_code == 201
    assert answer.json()["trade"] == trade.pk
    assert StockLot.objects.get().quantity_kg == Decimal("30.000")


def test_receiving_another_arrival_by_lot_id_or_code(api_as, warehouse, manager):
    first, second = shipped_to(warehouse), shipped_to(warehouse)
    client = api_as(manager)

    by_id = client.post(f"{API}/receipts/", {"lot": first.pk, "quantity_kg": "2"}, format="json")
    by_code = client.post(
        f"{API}/receipts/",
        {"lot_code": second.lot_code.lower(), "quantity_kg": "3"},
        format="json",
    )
    unknown = client.post(
        f"{API}/receipts/", {"lot_code": "NO-SUCH-LOT", "quantity_kg": "3"}, format="json"
    )

    assert (by_id.status_code, by_code.status_code, unknown.status_code) == (201, 201, 400)
    assert unknown.json() == {"lot_code": [NEUTRAL]}
    assert sorted(StockLot.objects.values_list("lot_id", "quantity_kg")) == sorted(
        [(first.pk, Decimal("2.000")), (second.pk, Decimal("3.000"))]
    )


def test_another_warehouses_ids_in_the_body_read_as_missing_ones(
    api_as, manager, other_warehouse, other_manager, spinach, buy_at_market
):
    theirs = {
        "stock_lot": receive(other_warehouse, spinach, "10", by=other_manager).pk,
        "order_line": bought_line(other_manager).pk,
        "trade": buy_at_market(other_manager, lot=HarvestLotFactory()).pk,
    }
    before = _state()
    client = api_as(manager)

    def post(field, pk):
        if field == "stock_lot":
            body = {"stock_lot": pk, "counted_kg": "1"}
            return client.post(f"{API}/counts/", body, format="json")
        return client.post(f"{API}/receipts/", {field: pk, "quantity_kg": "1"}, format="json")

    for field, pk in theirs.items():
        foreign, missing = post(field, pk), post(field, pk + 10_000)
        assert (foreign.status_code, missing.status_code) == (400, 400), field
        assert foreign.content == missing.content, field
        assert foreign.json() == {field: [NEUTRAL]}
    assert _state() == before


def test_a_lot_not_brought_here_reads_as_a_missing_one(api_as, warehouse, manager, other_warehouse):
    elsewhere = shipped_to(other_warehouse, HarvestLotFactory(lot_code="ELSEWHERE-1"))
    client = api_as(manager)
    before = _state()

    answers = {
        "lot": [
            client.post(f"{API}/receipts/", {"lot": pk, "quantity_kg": "2"}, format="json")
            for pk in (elsewhere.pk, elsewhere.pk + 10_000)
        ],
        "lot_code": [
            client.post(f"{API}/receipts/", {"lot_code": code, "quantity_kg": "2"}, format="json")
            for code in ("ELSEWHERE-1", "NO-SUCH-LOT")
        ],
    }

    for field, (foreign, missing) in answers.items():
        assert (foreign.status_code, missing.status_code) == (400, 400), field
        assert foreign.json() == missing.json() == {field: [NEUTRAL]}
        assert str(elsewhere.pk) not in foreign.content.decode()
    assert _state() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"quantity_kg": "1"}, "order_line"),  # no source
        ({"order_line": 1, "trade": 1, "quantity_kg": "1"}, "order_line"),  # two sources
        ({"quantity_kg": "9.9"}, "quantity_kg"),  # more than was packed
        ({"quantity_kg": "-1"}, "quantity_kg"),
        ({"quantity_kg": "0"}, "quantity_kg"),
        ({"quantity_kg": "abc"}, "quantity_kg"),
        ({}, "quantity_kg"),
    ],
)
def test_bad_receipts_are_refused_with_their_field(api_as, warehouse, manager, payload, field):
    line = bought_line(manager, packed="9.8")
    if "order_line" not in payload and field == "quantity_kg":
        payload = {**payload, "order_line": line.pk}

    answer = api_as(manager).post(f"{API}/receipts/", payload, format="json")

    assert answer.status_code == 400
    assert list(answer.json()) == [field]
    assert _state() == ([], 0, 0, 0)


def test_a_line_not_yet_handed_over_is_refused(api_as, warehouse, manager):
    line = bought_line(manager, status=OrderStatus.READY, packed=None)

    answer = api_as(manager).post(
        f"{API}/receipts/", {"order_line": line.pk, "quantity_kg": "1"}, format="json"
    )

    assert answer.status_code == 400
    assert list(answer.json()) == ["order_line"]
    assert _state() == ([], 0, 0, 0)


# --- Write-offs and counts -------------------------------------------------------------------


def test_writing_off_spoiled_stock(api_as, warehouse, manager, spinach):
    stock = receive(warehouse, spinach, "10", by=manager)

    answer = api_as(manager).post(
        f"{API}/write-offs/",
        {"stock_lot": stock.pk, "quantity_kg": "1.25", "reason": "spoiled", "note": "叶子发黄"},
        format="json",
    )

    assert answer.status_code == 201
    body = answer.json()
    assert (body["quantity_kg"], body["reason"], body["note"], body["stock_quantity_kg"]) == (
        "1.250",
        WriteOffReason.SPOILED,
        "叶子发黄",
        "8.750",
    )


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"quantity_kg": "10.5", "reason": "spoiled"}, 409, "quantity_kg"),  # above the stock
        ({"quantity_kg": "-1", "reason": "spoiled"}, 400, "quantity_kg"),
        ({"quantity_kg": "", "reason": "spoiled"}, 400, "quantity_kg"),
        ({"quantity_kg": "1"}, 400, "reason"),
        ({"quantity_kg": "1", "reason": "stolen"}, 400, "reason"),
        ({"quantity_kg": "1", "reason": "spoiled", "stock_lot": None}, 400, "stock_lot"),
    ],
)
def test_bad_write_offs_are_refused_with_their_field(
    api_as, warehouse, manager, spinach, payload, status, field
):
    stock = receive(warehouse, spinach, "10", by=manager)
    before = _state()

    answer = api_as(manager).post(
        f"{API}/write-offs/", {"stock_lot": stock.pk, **payload}, format="json"
    )

    assert answer.status_code == status
    assert list(answer.json()) == [field]
    assert _state() == before


def test_counting_short_and_over(api_as, warehouse, manager, spinach):
    short = receive(warehouse, spinach, "10", by=manager)
    over = receive(warehouse, spinach, "5", by=manager, harvested_days_ago=2)
    client = api_as(manager)

    first = client.post(
        f"{API}/counts/", {"stock_lot": short.pk, "counted_kg": "8.5"}, format="json"
    )
    second = client.post(f"{API}/counts/", {"stock_lot": over.pk, "counted_kg": "6"}, format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["difference_kg"], first.json()["stock_quantity_kg"]) == (
        "-1.500",
        "8.500",
    )
    assert (second.json()["difference_kg"], second.json()["stock_quantity_kg"]) == (
        "1.000",
        "6.000",
    )
    write_off = StockWriteOff.objects.get()
    assert (write_off.stock_lot_id, write_off.reason) == (short.pk, "count_difference")


@pytest.mark.parametrize("counted", ["-1", "", "lots"])
def test_bad_counts_are_refused(api_as, warehouse, manager, spinach, counted):
    stock = receive(warehouse, spinach, "10", by=manager)
    before = _state()

    answer = api_as(manager).post(
        f"{API}/counts/", {"stock_lot": stock.pk, "counted_kg": counted}, format="json"
    )

    assert answer.status_code == 400
    assert list(answer.json()) == ["counted_kg"]
    assert _state() == before


# --- Orders, packing, dispatching again, the summary ----------------------------------------


def test_open_orders_with_their_late_risk_and_no_delivery_code(
    api_as, warehouse, manager, spinach, django_assert_max_num_queries
):
    late = delivery_order(warehouse, minutes_left=-5, product=spinach)
    hurried = delivery_order(warehouse, minutes_left=6, product=spinach)
    relaxed = delivery_order(warehouse, minutes_left=28, product=spinach)
    delivery_order(warehouse, status=DeliveryOrderStatus.DELIVERED)
    client = api_as(manager)

    with django_assert_max_num_queries(12):
        body = client.get(f"{API}/orders/").json()

    assert [(order["id"], order["risk"]) for order in body] == [
        (late.pk, "late"),
        (hurried.pk, "at_risk"),
        (relaxed.pk, "on_time"),
    ]
    assert body[0]["minutes_left"] <= -5
    assert body[0]["lines"] == [
        {"product_id": spinach.pk, "product_name_zh": "菠菜", "quantity_kg": "1.500"}
    ]
    assert all("delivery_code" not in order for order in body)
    assert "4321" not in str(body)


def test_packing_a_placed_order(api_as, warehouse, manager):
    order = delivery_order(warehouse)

    answer = api_as(manager).post(f"{API}/orders/{order.pk}/pack/")

    assert answer.status_code == 200
    assert answer.json()["status"] == DeliveryOrderStatus.PACKED
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.PACKED
    assert order.packed_at is not None


def test_packing_an_order_already_on_its_way_is_refused(api_as, warehouse, manager):
    order = delivery_order(warehouse, status=DeliveryOrderStatus.DELIVERED)

    answer = api_as(manager).post(f"{API}/orders/{order.pk}/pack/")

    assert answer.status_code in (400, 409)
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.DELIVERED


def test_dispatching_an_unassigned_task_again(api_as, warehouse, manager):
    task = task_of(warehouse)
    order = delivery_order(warehouse, status=DeliveryOrderStatus.PACKED, task=task)

    answer = api_as(manager).post(f"{API}/tasks/{task.pk}/redispatch/")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["id"], body["orders"]) == (task.pk, [order.pk])
    # No courier is near: the task is still waiting, visibly.
    assert body["status"] == DeliveryTaskStatus.UNASSIGNED
    task.refresh_from_db()
    assert task.status == DeliveryTaskStatus.UNASSIGNED


def test_summary_of_the_day(api_as, warehouse, manager, spinach):
    now = timezone.now()
    delivery_order(warehouse, minutes_left=-2)
    delivery_order(warehouse, minutes_left=20)
    on_time = delivery_order(warehouse, status=DeliveryOrderStatus.DELIVERED)
    DeliveryOrder.objects.filter(pk=on_time.pk).update(
        promised_by=now, delivered_at=now - timedelta(minutes=3)
    )
    stock = receive(warehouse, spinach, "40", by=manager)
    api_as(manager).post(
        f"{API}/write-offs/",
        {"stock_lot": stock.pk, "quantity_kg": "2", "reason": "damaged"},
        format="json",
    )
    task_of(warehouse)

    body = api_as(manager).get(f"{API}/summary/").json()

    assert (body["open_orders"], body["late"], body["unassigned_tasks"]) == (2, 1, 1)
    assert (body["on_time"]["delivered"], body["on_time"]["on_time"]) == (1, 1)
    assert body["on_time"]["rate"] == "1.0000"
    losses = body["loss_rate"]
    assert (losses["received_kg"], losses["written_off_kg"], losses["rate"]) == (
        "40.000",
        "2.000",
        "0.0500",
    )
    damaged = next(row for row in losses["by_reason"] if row["reason"] == "damaged")
    assert (damaged["quantity_kg"], damaged["rate"]) == ("2.000", "0.0500")
