"""The warehouse manager's pages: the dashboard (on-time rate, open orders by late risk, Pack,
dispatch again, live refresh), stock (shelf life, write-off and count forms, loss rate),
receiving; clear field errors on bad input; each role's limits."""

# The shared warehouse fixtures come from test_warehouse; tests take them as arguments.

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.choices import Role
from delivery.models import (
    DeliveryOrder,
    DeliveryOrderStatus,
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


PAGES = ["/warehouse/", "/warehouse/live/", "/warehouse/stock/", "/warehouse/receiving/"]


@pytest.fixture
def page_as():
    """page_as(user) → a test client signed in as `user`, asking for English pages."""

    def sign_in(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return sign_in


def _state():
    return (
        sorted(StockLot.objects.values_list("pk", "quantity_kg")),
        StockReceipt.objects.count(),
        StockWriteOff.objects.count(),
        StockCount.objects.count(),
    )


def _errors(response, form_name: str, field: str) -> list[str]:
    return list(response.context[form_name].errors.get(field, []))


# --- Who may see what ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COURIER, Role.CONSUMER, Role.BUYER])
def test_other_roles_are_refused(page_as, warehouse, role):
    client = page_as(UserFactory(role=role))

    for page in PAGES:
        assert client.get(page).status_code == 403, page


def test_signed_out_visitors_are_sent_to_sign_in(client, warehouse):
    answer = client.get("/warehouse/")

    assert answer.status_code == 302
    assert "/sign-in/" in answer["Location"]


def test_a_manager_without_a_warehouse_gets_not_found(page_as, warehouse):
    client = page_as(UserFactory(role=Role.WAREHOUSE_MANAGER))

    for page in PAGES:
        assert client.get(page).status_code == 404, page


def test_another_warehouses_objects_are_not_found(
    page_as, manager, other_warehouse, other_manager, spinach, buy_at_market
):
    their_stock = receive(other_warehouse, spinach, "10", by=other_manager)
    their_order = delivery_order(other_warehouse)
    their_task = task_of(other_warehouse)
    their_line = bought_line(other_manager)
    their_trade = buy_at_market(other_manager, lot=HarvestLotFactory())
    before = _state()
    client = page_as(manager)

    posts = [
        (
            f"/warehouse/stock/{their_stock.pk}/write-off/",
            {"write-off-quantity_kg": "1", "write-off-reason": "spoiled"},
        ),
        (f"/warehouse/stock/{their_stock.pk}/count/", {"count-counted_kg": "1"}),
        (f"/warehouse/orders/{their_order.pk}/pack/", {}),
        (f"/warehouse/tasks/{their_task.pk}/redispatch/", {}),
        (
            f"/warehouse/receiving/order-lines/{their_line.pk}/",
            {f"line-{their_line.pk}-quantity_kg": "1"},
        ),
        (
            f"/warehouse/receiving/trades/{their_trade.pk}/",
            {f"trade-{their_trade.pk}-quantity_kg": "1"},
        ),
    ]

    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert _state() == before
    their_order.refresh_from_db()
    assert their_order.status == DeliveryOrderStatus.PLACED
    dashboard = client.get("/warehouse/").content.decode()
    assert their_order.number not in dashboard
    stock_page = client.get("/warehouse/stock/").content.decode()
    assert their_stock.lot.lot_code not in stock_page
    receiving = client.get("/warehouse/receiving/").content.decode()
    assert f"order-line-{their_line.pk}" not in receiving
    assert f'data-testid="trade-{their_trade.pk}"' not in receiving


def test_an_admin_picks_any_warehouse(page_as, admin_user, warehouse, other_warehouse):
    theirs = delivery_order(other_warehouse)
    client = page_as(admin_user)

    answer = client.get("/warehouse/", {"warehouse": other_warehouse.pk})

    assert answer.status_code == 200
    assert theirs.number in answer.content.decode()
    assert answer.context["warehouse"] == other_warehouse
    assert f"/warehouse/live/?warehouse={other_warehouse.pk}" in answer.content.decode()


# --- The dashboard ---------------------------------------------------------------------------


def test_dashboard_shows_open_orders_by_late_risk_and_the_on_time_rate(
    page_as, warehouse, manager, spinach
):
    late = delivery_order(warehouse, minutes_left=-4, product=spinach)
    hurried = delivery_order(warehouse, status=DeliveryOrderStatus.PACKED, minutes_left=6)
    relaxed = delivery_order(warehouse, status=DeliveryOrderStatus.ASSIGNED, minutes_left=28)
    now = timezone.now()
    for minutes_late in (0, 0, 0, 5):
        done = delivery_order(warehouse, status=DeliveryOrderStatus.DELIVERED)
        DeliveryOrder.objects.filter(pk=done.pk).update(
            promised_by=now - timedelta(minutes=10),
            delivered_at=now - timedelta(minutes=10 - minutes_late),
        )

    answer = page_as(manager).get("/warehouse/")

    assert answer.status_code == 200
    html = answer.content.decode()
    risks = dict(re.findall(r'data-testid="order-(\d+)" data-risk="(\w+)"', html))
    assert risks == {str(late.pk): "late", str(hurried.pk): "at_risk", str(relaxed.pk): "on_time"}
    assert re.search(r'data-testid="on-time-rate">\s*<span class="value">75\.0%', html)
    assert f'data-testid="pack-{late.pk}"' in html  # placed: a Pack button
    assert f'data-testid="pack-{hurried.pk}"' not in html  # packed already
    assert "4321" not in html  # the consumer's delivery code is hers
    assert 'data-live-refresh="/warehouse/live/"' in html
    assert 'data-live-events="delivery.order delivery.task"' in html


def test_the_live_fragment_is_the_lists_alone(page_as, warehouse, manager):
    order = delivery_order(warehouse)

    answer = page_as(manager).get("/warehouse/live/")

    html = answer.content.decode()
    assert f'data-testid="order-{order.pk}"' in html
    assert "<html" not in html


def test_packing_from_the_dashboard(page_as, warehouse, manager):
    order = delivery_order(warehouse)

    answer = page_as(manager).post(f"/warehouse/orders/{order.pk}/pack/", follow=True)

    assert answer.redirect_chain[-1][0] == "/warehouse/"
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.PACKED
    assert f'data-testid="pack-{order.pk}"' not in answer.content.decode()


def test_packing_a_delivered_order_is_refused_with_a_message(page_as, warehouse, manager):
    order = delivery_order(warehouse, status=DeliveryOrderStatus.DELIVERED)

    answer = page_as(manager).post(f"/warehouse/orders/{order.pk}/pack/", follow=True)

    assert [message.level_tag for message in answer.context["messages"]] == ["error"]
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.DELIVERED


def test_unassigned_tasks_offer_dispatch_again(page_as, warehouse, manager):
    task = task_of(warehouse)
    order = delivery_order(warehouse, status=DeliveryOrderStatus.PACKED, task=task)
    client = page_as(manager)

    html = client.get("/warehouse/").content.decode()
    answer = client.post(f"/warehouse/tasks/{task.pk}/redispatch/")

    assert f'data-testid="redispatch-{task.pk}"' in html
    assert order.number in html
    assert answer.status_code == 302
    assert answer["Location"] == "/warehouse/"


# --- Stock -----------------------------------------------------------------------------------


def test_stock_page_shows_lots_with_shelf_life_and_the_loss_rate(
    page_as, warehouse, manager, spinach
):
    soon = receive(warehouse, spinach, "4", by=manager, harvested_days_ago=4)
    fresh = receive(warehouse, spinach, "16", by=manager)
    StockLot.objects.filter(pk=soon.pk).update(expires_at=timezone.now() + timedelta(hours=5))
    StockLot.objects.filter(pk=fresh.pk).update(expires_at=timezone.now() + timedelta(days=6))
    client = page_as(manager)
    client.post(
        f"/warehouse/stock/{soon.pk}/write-off/",
        {"write-off-quantity_kg": "1", "write-off-reason": WriteOffReason.SPOILED},
    )

    answer = client.get("/warehouse/stock/")

    html = answer.content.decode()
    assert answer.status_code == 200
    lots = re.findall(r'data-testid="stock-lot-(\d+)"', html)
    assert lots == [str(soon.pk), str(fresh.pk)]  # earliest expiry first
    assert html.count('data-testid="near-expiry"') == 1
    losses = answer.context["losses"]
    assert (losses.received_kg, losses.written_off_kg, losses.percent) == (
        Decimal("20.000"),
        Decimal("1.000"),
        Decimal("5.0"),
    )
    assert re.search(r'data-testid="loss-spoiled"><td>[^<]+</td><td class="kg">1</td>', html)


def test_writing_off_from_the_stock_page(page_as, warehouse, manager, spinach):
    stock = receive(warehouse, spinach, "10", by=manager)

    answer = page_as(manager).post(
        f"/warehouse/stock/{stock.pk}/write-off/",
        {
            "write-off-quantity_kg": "2.5",
            "write-off-reason": WriteOffReason.DAMAGED,
            "write-off-note": "箱子压坏",
        },
    )

    assert answer.status_code == 302
    assert answer["Location"] == "/warehouse/stock/"
    stock.refresh_from_db()
    assert stock.quantity_kg == Decimal("7.500")
    write_off = StockWriteOff.objects.get()
    assert (write_off.reason, write_off.note, write_off.recorded_by) == (
        WriteOffReason.DAMAGED,
        "箱子压坏",
        manager,
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"write-off-quantity_kg": "10.5", "write-off-reason": "spoiled"}, "quantity_kg"),
        ({"write-off-quantity_kg": "-2", "write-off-reason": "spoiled"}, "quantity_kg"),
        ({"write-off-quantity_kg": "", "write-off-reason": "spoiled"}, "quantity_kg"),
        ({"write-off-quantity_kg": "2", "write-off-reason": ""}, "reason"),
        ({"write-off-quantity_kg": "2", "write-off-reason": "stolen"}, "reason"),
    ],
)
def test_bad_write_offs_show_on_their_field_and_change_nothing(
    page_as, warehouse, manager, spinach, data, field
):
    stock = receive(warehouse, spinach, "10", by=manager)
    before = _state()

    answer = page_as(manager).post(f"/warehouse/stock/{stock.pk}/write-off/", data)

    assert answer.status_code == 400
    (product,) = answer.context["products"]
    (row,) = product["rows"]
    assert row.is_open
    assert list(row.write_off_form.errors) == [field]
    assert 'class="errorlist"' in answer.content.decode()
    assert _state() == before


def test_a_missing_quantity_and_reason_both_show(page_as, warehouse, manager, spinach):
    stock = receive(warehouse, spinach, "10", by=manager)

    answer = page_as(manager).post(f"/warehouse/stock/{stock.pk}/write-off/", {})

    (row,) = answer.context["products"][0]["rows"]
    assert sorted(row.write_off_form.errors) == ["quantity_kg", "reason"]


def test_counting_from_the_stock_page(page_as, warehouse, manager, spinach):
    stock = receive(warehouse, spinach, "10", by=manager)
    client = page_as(manager)

    short = client.post(f"/warehouse/stock/{stock.pk}/count/", {"count-counted_kg": "9.2"})
    bad = client.post(f"/warehouse/stock/{stock.pk}/count/", {"count-counted_kg": "-1"})

    assert short.status_code == 302
    stock.refresh_from_db()
    assert stock.quantity_kg == Decimal("9.200")
    assert StockWriteOff.objects.get().reason == WriteOffReason.COUNT_DIFFERENCE
    assert bad.status_code == 400
    (row,) = bad.context["products"][0]["rows"]
    assert list(row.count_form.errors) == ["counted_kg"]
    assert StockCount.objects.count() == 1


# --- Receiving -------------------------------------------------------------------------------


def test_receiving_lists_what_is_waiting_and_receives_it_once(
    page_as, warehouse, manager, buy_at_market
):
    line = bought_line(manager, packed="9.8")
    trade = buy_at_market(manager, lot=HarvestLotFactory(), gross_kg="20", tare_kg="0")
    client = page_as(manager)

    page = client.get("/warehouse/receiving/")
    html = page.content.decode()
    received_line = client.post(
        f"/warehouse/receiving/order-lines/{line.pk}/", {f"line-{line.pk}-quantity_kg": "9.8"}
    )
    received_trade = client.post(
        f"/warehouse/receiving/trades/{trade.pk}/", {f"trade-{trade.pk}-quantity_kg": "20"}
    )
    again = client.post(
        f"/warehouse/receiving/order-lines/{line.pk}/",
        {f"line-{line.pk}-quantity_kg": "9.8"},
        follow=True,
    )

    assert f'data-testid="order-line-{line.pk}"' in html
    assert f'data-testid="trade-{trade.pk}"' in html
    assert 'value="9.800"' in html  # the packed weight, ready to confirm
    assert (received_line.status_code, received_trade.status_code) == (302, 302)
    assert sorted(StockLot.objects.values_list("quantity_kg", flat=True)) == [
        Decimal("9.800"),
        Decimal("20.000"),
    ]
    levels = [message.level_tag for message in again.context["messages"]]
    assert levels == ["success", "success", "error"]  # the second scan is refused
    assert StockReceipt.objects.count() == 2
    after = again.content.decode()
    assert f'data-testid="order-line-{line.pk}"' not in after
    assert f'data-testid="trade-{trade.pk}"' not in after


@pytest.mark.parametrize("quantity", ["10", "-1", "", "x"])
def test_bad_receiving_quantities_show_on_the_field(page_as, warehouse, manager, quantity):
    line = bought_line(manager, packed="9.8")

    answer = page_as(manager).post(
        f"/warehouse/receiving/order-lines/{line.pk}/", {f"line-{line.pk}-quantity_kg": quantity}
    )

    assert answer.status_code == 400
    (row,) = answer.context["lines"]
    assert list(row.form.errors) == ["quantity_kg"]
    assert _state() == ([], 0, 0, 0)


def test_a_line_not_handed_over_is_not_offered_for_receiving(page_as, warehouse, manager):
    waiting = bought_line(manager, status=OrderStatus.READY, packed=None)

    html = page_as(manager).get("/warehouse/receiving/").content.decode()

    assert f'data-testid="order-line-{waiting.pk}"' not in html


def test_receiving_another_arrival_by_lot_code(page_as, warehouse, manager):
    lot = shipped_to(warehouse)
    someone_elses = HarvestLotFactory()
    client = page_as(manager)

    unknown = client.post(
        "/warehouse/receiving/lot/", {"lot-lot_code": "NO-SUCH-LOT", "lot-quantity_kg": "2"}
    )
    foreign = client.post(
        "/warehouse/receiving/lot/",
        {"lot-lot_code": someone_elses.lot_code, "lot-quantity_kg": "2"},
    )
    bad = client.post(
        "/warehouse/receiving/lot/", {"lot-lot_code": lot.lot_code, "lot-quantity_kg": "0"}
    )
    done = client.post(
        "/warehouse/receiving/lot/", {"lot-lot_code": lot.lot_code, "lot-quantity_kg": "2"}
    )

    assert (unknown.status_code, bad.status_code, done.status_code) == (400, 400, 302)
    assert foreign.status_code == 400
    assert (
        unknown.context["lot_form"].errors
        == foreign.context["lot_form"].errors
        == {"lot_code": ["Not found, or not yours."]}
    )
    assert list(bad.context["lot_form"].errors) == ["quantity_kg"]
    assert StockLot.objects.get().lot == lot
