"""State machines of delivery: every move of an order, a task and an offer is one the table
allows and leaves an event (who, when, from, to, why); any other move is refused and changes
nothing. The history shows on the consumer's order page, the warehouse's dashboard and the
courier's task, and in the API, naming people only as today's pages do."""

import importlib
import itertools
from datetime import time, timedelta
from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone, translation
from djmoney.money import Money
from PIL import Image
from rest_framework.test import APIClient

from accounts.choices import Role
from common.exceptions import InvalidTransition
from delivery.models import (
    OFFER_MOVES,
    ORDER_MOVES,
    TASK_MOVES,
    DeliveryOrder,
    DeliveryOrderEvent,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskEvent,
    DeliveryTaskStatus,
    FrontWarehouse,
    OfferStatus,
    TaskOffer,
    TaskOfferEvent,
    WarehouseStaff,
)
from delivery.services import couriers, dispatch, offers
from delivery.services.orders import cancel_order, pack_order, place_order
from delivery.services.transitions import (
    Why,
    move_offer,
    move_order,
    move_orders,
    move_task,
)
from tests.accounts.factories import UserFactory
from tests.delivery.factories import courier_at, front_warehouse, fund_wallet, stocked
from tests.farms.factories import ProductFactory

pytestmark = pytest.mark.django_db

WAREHOUSE_AT = (116.40, 39.90)
HOME = (116.41, 39.91)  # about 1.4 km north-east of the warehouse, inside its zone
NUMBERS = itertools.count(1)


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def shop(db):
    """A warehouse open round the clock with spinach on its shelves, its manager, a consumer
    with money in her wallet and a courier on shift beside the warehouse."""
    warehouse = front_warehouse("history", *WAREHOUSE_AT, half_side=0.05)
    FrontWarehouse.objects.filter(pk=warehouse.pk).update(opens_at=time(0), closes_at=time(0))
    warehouse.refresh_from_db()
    spinach = ProductFactory()
    stocked(warehouse, spinach, kg="20")
    manager = UserFactory(role=Role.WAREHOUSE_MANAGER, display_name="王店长")
    WarehouseStaff.objects.create(warehouse=warehouse, user=manager)
    consumer = UserFactory(role=Role.CONSUMER, display_name="林小姐")
    fund_wallet(consumer)
    courier = courier_at(
        WAREHOUSE_AT[0] + 0.001,
        WAREHOUSE_AT[1],
        user=UserFactory(role=Role.COURIER, display_name="张师傅"),
    )
    return SimpleNamespace(
        warehouse=warehouse, spinach=spinach, manager=manager, consumer=consumer, courier=courier
    )


def placed(shop) -> DeliveryOrder:
    return place_order(
        consumer=shop.consumer,
        longitude=HOME[0],
        latitude=HOME[1],
        address="朝阳区建国路 88 号",
        lines=[(shop.spinach.pk, Decimal("1.5"))],
    )


def offered(shop) -> tuple[DeliveryOrder, DeliveryTask, TaskOffer]:
    """Placed, packed by the manager and offered to the courier."""
    order = placed(shop)
    pack_order(by=shop.manager, order_id=order.pk)
    task = dispatch.dispatch_order(order_id=order.pk)
    assert task is not None
    return order, task, TaskOffer.objects.get(task=task)


def picked_up(shop) -> tuple[DeliveryOrder, DeliveryTask, TaskOffer]:
    order, task, offer = offered(shop)
    offers.accept_offer(courier=shop.courier, offer_id=offer.pk)
    couriers.pick_up(courier=shop.courier, task_id=task.pk)
    return order, task, offer


def delivered(shop) -> tuple[DeliveryOrder, DeliveryTask, TaskOffer]:
    order, task, offer = picked_up(shop)
    couriers.deliver_with_code(courier=shop.courier, order_id=order.pk, code=order.delivery_code)
    return order, task, offer


def steps(events) -> list[tuple]:
    return [(e.from_status, e.to_status, e.actor_id, e.reason) for e in events.order_by("at", "id")]


# --- Every allowed move leaves an event ---------------------------------------------------------


def test_an_order_delivered_by_code_has_every_step_with_who_and_why(shop):
    order, task, offer = delivered(shop)

    courier_user = shop.courier.user_id
    assert steps(DeliveryOrderEvent.objects.filter(order=order)) == [
        ("", "placed", shop.consumer.pk, ""),
        ("placed", "packed", shop.manager.pk, ""),
        ("packed", "assigned", courier_user, ""),
        ("assigned", "picked_up", courier_user, ""),
        ("picked_up", "delivered", courier_user, Why.BY_CODE),
    ]
    assert steps(DeliveryTaskEvent.objects.filter(task=task)) == [
        ("", "offering", None, ""),
        ("offering", "assigned", courier_user, ""),
        ("assigned", "picked_up", courier_user, ""),
        ("picked_up", "done", courier_user, Why.LAST_DELIVERED),
    ]
    assert steps(TaskOfferEvent.objects.filter(offer=offer)) == [
        ("", "pending", None, ""),
        ("pending", "accepted", courier_user, ""),
    ]


def test_a_photo_delivery_says_so(shop):
    order, _task, _offer = picked_up(shop)
    buffer = BytesIO()
    Image.new("RGB", (64, 48), "green").save(buffer, "JPEG")
    photo = SimpleUploadedFile("door.jpg", buffer.getvalue(), content_type="image/jpeg")

    couriers.deliver_with_photo(courier=shop.courier, order_id=order.pk, photo=photo)

    last = DeliveryOrderEvent.objects.filter(order=order).last()
    assert (last.to_status, last.reason) == ("delivered", Why.BY_PHOTO)


def test_a_cancelled_order_records_the_reason_and_its_task_and_offer_end(shop):
    order, task, offer = offered(shop)

    cancel_order(by=shop.consumer, order_id=order.pk, reason="买多了")

    assert steps(DeliveryOrderEvent.objects.filter(order=order))[-1] == (
        "packed",
        "cancelled",
        shop.consumer.pk,
        "买多了",
    )
    assert steps(DeliveryTaskEvent.objects.filter(task=task))[-1] == (
        "offering",
        "cancelled",
        None,
        Why.ORDERS_CANCELLED,
    )
    assert steps(TaskOfferEvent.objects.filter(offer=offer))[-1] == (
        "pending",
        "withdrawn",
        None,
        Why.ORDERS_CANCELLED,
    )


def test_a_declined_offer_leaves_the_task_unassigned_and_the_manager_offers_it_again(shop):
    _order, task, offer = offered(shop)

    offers.decline_offer(courier=shop.courier, offer_id=offer.pk)
    dispatch.redispatch(by=shop.manager, task_id=task.pk)  # to him again: he may change his mind

    assert steps(TaskOfferEvent.objects.filter(offer=offer))[-1] == (
        "pending",
        "declined",
        shop.courier.user_id,
        "",
    )
    assert steps(DeliveryTaskEvent.objects.filter(task=task)) == [
        ("", "offering", None, ""),
        ("offering", "unassigned", None, Why.NO_COURIER),
        ("unassigned", "offering", shop.manager.pk, Why.OFFERED_AGAIN),
    ]
    second = TaskOffer.objects.get(task=task, status=OfferStatus.PENDING)
    assert steps(TaskOfferEvent.objects.filter(offer=second)) == [("", "pending", None, "")]


def test_an_offer_that_ran_out_expires_by_the_platform(shop):
    _order, _task, offer = offered(shop)

    offers.expire_offer(offer_id=offer.pk, now=offer.expires_at + timedelta(seconds=1))

    assert steps(TaskOfferEvent.objects.filter(offer=offer))[-1] == (
        "pending",
        "expired",
        None,
        Why.OFFER_RAN_OUT,
    )


# --- The tables: each allowed move recorded, every other one refused ---------------------------


def _order_row(warehouse, consumer, status) -> DeliveryOrder:
    now = timezone.now()
    return DeliveryOrder.objects.create(
        number=f"T-HISTORY-{next(NUMBERS)}",
        consumer=consumer,
        warehouse=warehouse,
        address="朝阳区测试路 1 号",
        location=Point(*HOME, srid=4326),
        status=status,
        total=Money("25.00", "CNY"),
        placed_at=now,
        promised_by=now + timedelta(minutes=30),
        delivery_code="4321",
    )


def _task_row(shop, status) -> DeliveryTask:
    # A courier on every row: the database wants one from ASSIGNED on, and allows it before.
    return DeliveryTask.objects.create(
        warehouse=shop.warehouse, status=status, courier=shop.courier
    )


def _offer_row(shop, status) -> TaskOffer:
    now = timezone.now()
    return TaskOffer.objects.create(
        task=_task_row(shop, DeliveryTaskStatus.OFFERING),
        courier=shop.courier,
        status=status,
        offered_at=now,
        expires_at=now + timedelta(seconds=30),
        distance_m=100,
        score=1,
    )


def _pairs(choices, table, *, allowed: bool) -> list[tuple[str, str]]:
    return [
        (current, requested)
        for current in choices.values
        for requested in choices.values
        if table.allows(current, requested) is allowed
    ]


MACHINES = {
    "order": (DeliveryOrderStatus, ORDER_MOVES),
    "task": (DeliveryTaskStatus, TASK_MOVES),
    "offer": (OfferStatus, OFFER_MOVES),
}


def _row_and_move(machine: str, shop, status):
    if machine == "order":
        return _order_row(shop.warehouse, shop.consumer, status), move_order, DeliveryOrderEvent
    if machine == "task":
        return _task_row(shop, status), move_task, DeliveryTaskEvent
    return _offer_row(shop, status), move_offer, TaskOfferEvent


ALLOWED = [
    pytest.param(machine, current, requested, id=f"{machine}:{current}->{requested}")
    for machine, (choices, table) in MACHINES.items()
    for current, requested in _pairs(choices, table, allowed=True)
]
FORBIDDEN = [
    pytest.param(machine, current, requested, id=f"{machine}:{current}->{requested}")
    for machine, (choices, table) in MACHINES.items()
    for current, requested in _pairs(choices, table, allowed=False)
]


def test_the_tables_match_what_the_services_do():
    assert ORDER_MOVES.table == {
        "placed": {"packed", "assigned", "cancelled"},  # assigned: a courier asked ahead
        "packed": {"assigned", "cancelled"},
        "assigned": {"picked_up"},
        "picked_up": {"delivered"},
    }
    assert TASK_MOVES.table == {
        "offering": {"unassigned", "assigned", "cancelled"},
        "unassigned": {"offering", "cancelled"},
        "assigned": {"picked_up"},
        "picked_up": {"done"},
    }
    assert OFFER_MOVES.table == {"pending": {"accepted", "declined", "expired", "withdrawn"}}


@pytest.mark.parametrize(("machine", "current", "requested"), ALLOWED)
def test_every_allowed_move_is_written_with_its_event(shop, machine, current, requested):
    row, move, event_model = _row_and_move(machine, shop, current)

    event = move(row, requested, by=shop.manager, why="because")

    row.refresh_from_db()
    assert row.status == requested
    assert (event.from_status, event.to_status, event.actor, event.reason) == (
        current,
        requested,
        shop.manager,
        "because",
    )
    assert event_model.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(("machine", "current", "requested"), FORBIDDEN)
def test_every_other_move_is_refused_and_changes_nothing(shop, machine, current, requested):
    row, move, event_model = _row_and_move(machine, shop, current)
    events_before = event_model.objects.count()

    with pytest.raises(InvalidTransition):
        move(row, requested, by=shop.manager)

    row.refresh_from_db()
    assert row.status == current
    assert event_model.objects.count() == events_before


def test_a_bulk_move_with_one_forbidden_order_moves_none(shop):
    packed = _order_row(shop.warehouse, shop.consumer, DeliveryOrderStatus.PACKED)
    delivered_already = _order_row(shop.warehouse, shop.consumer, DeliveryOrderStatus.DELIVERED)

    with pytest.raises(InvalidTransition):
        move_orders([packed, delivered_already], DeliveryOrderStatus.ASSIGNED, by=None)

    assert set(
        DeliveryOrder.objects.filter(pk__in=[packed.pk, delivered_already.pk]).values_list(
            "status", flat=True
        )
    ) == {"packed", "delivered"}
    assert not DeliveryOrderEvent.objects.filter(order__in=[packed, delivered_already]).exists()


def test_a_bulk_move_writes_one_event_per_order(shop):
    orders = [_order_row(shop.warehouse, shop.consumer, DeliveryOrderStatus.PACKED) for _ in "ab"]
    at = timezone.now()

    move_orders(orders, DeliveryOrderStatus.ASSIGNED, by=shop.manager, values={"assigned_at": at})

    assert list(
        DeliveryOrder.objects.filter(pk__in=[o.pk for o in orders]).values_list(
            "status", "assigned_at"
        )
    ) == [("assigned", at), ("assigned", at)]
    assert DeliveryOrderEvent.objects.filter(order__in=orders, to_status="assigned").count() == 2


def test_a_refused_step_of_a_service_records_nothing(shop):
    order, _task, _offer = delivered(shop)
    before = DeliveryOrderEvent.objects.count(), DeliveryTaskEvent.objects.count()

    with pytest.raises(Exception):  # noqa: B017,PT011 - the service's own refusal
        cancel_order(by=shop.consumer, order_id=order.pk)

    assert (DeliveryOrderEvent.objects.count(), DeliveryTaskEvent.objects.count()) == before


def test_rows_from_before_the_history_get_the_steps_their_times_tell(shop):
    now = timezone.now()
    order = _order_row(shop.warehouse, shop.consumer, DeliveryOrderStatus.DELIVERED)
    DeliveryOrder.objects.filter(pk=order.pk).update(
        packed_at=now, assigned_at=now, picked_up_at=now, delivered_at=now
    )
    migration = importlib.import_module("delivery.migrations.0006_status_history")

    migration.backfill(None, SimpleNamespace(connection=connection))

    assert [
        (e.from_status, e.to_status, e.actor_id, e.reason)
        for e in DeliveryOrderEvent.objects.filter(order=order).order_by("id")
    ] == [
        ("", "placed", shop.consumer.pk, Why.BACKFILLED),
        ("placed", "packed", None, Why.BACKFILLED),
        ("packed", "assigned", None, Why.BACKFILLED),
        ("assigned", "picked_up", None, Why.BACKFILLED),
        ("picked_up", "delivered", None, Why.BACKFILLED),
    ]


# --- Who sees the history ------------------------------------------------------------------------


def page_as(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def api_as(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user=user)
    return client


def test_the_consumer_sees_her_orders_steps_without_the_staffs_names(shop):
    order, _task, _offer = delivered(shop)

    page = page_as(shop.consumer).get(f"/shop/orders/{order.pk}/").content.decode()

    assert 'data-testid="order-history"' in page
    assert "Placed" in page
    assert "Delivered" in page
    assert "You" in page
    assert "Warehouse staff" in page
    assert "Your courier" in page
    assert "The consumer&#x27;s code was given." in page
    assert "王店长" not in page


def test_the_consumer_sees_why_the_warehouse_cancelled(shop):
    order = placed(shop)
    cancel_order(by=shop.manager, order_id=order.pk, reason="菠菜坏了")

    page = page_as(shop.consumer).get(f"/shop/orders/{order.pk}/").content.decode()

    assert "菠菜坏了" in page
    assert "Warehouse staff" in page
    assert "王店长" not in page


def test_the_warehouse_dashboard_shows_an_open_orders_steps_without_the_consumers_name(shop):
    order = placed(shop)
    pack_order(by=shop.manager, order_id=order.pk)

    page = page_as(shop.manager).get("/warehouse/").content.decode()

    assert f'data-testid="history-{order.pk}"' in page
    assert "The consumer" in page
    assert "林小姐" not in page


def test_the_courier_sees_his_tasks_steps(shop):
    picked_up(shop)

    page = page_as(shop.courier.user).get("/courier/").content.decode()

    assert 'data-testid="task-history"' in page
    assert "Picked up" in page
    assert "You" in page


def test_the_order_api_sends_the_history_named_for_each_reader(shop):
    order, _task, _offer = delivered(shop)

    mine = api_as(shop.consumer).get(f"/api/delivery/orders/{order.pk}/").json()
    staffs = api_as(shop.manager).get(f"/api/delivery/orders/{order.pk}/").json()

    assert [(e["status"], e["by"]) for e in mine["events"]] == [
        ("placed", "You"),
        ("packed", "Warehouse staff"),
        ("assigned", "Your courier"),
        ("picked_up", "Your courier"),
        ("delivered", "Your courier"),
    ]
    assert [(e["status"], e["by"]) for e in staffs["events"]] == [
        ("placed", "The consumer"),
        ("packed", "You"),
        ("assigned", "张师傅"),
        ("picked_up", "张师傅"),
        ("delivered", "张师傅"),
    ]
    assert mine["events"][-1]["why"] == "The consumer's code was given."
    assert mine["events"][0]["from_status"] == ""


def test_the_order_list_does_not_carry_the_history(shop):
    placed(shop)

    listed = api_as(shop.consumer).get("/api/delivery/orders/").json()

    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows
    assert "events" not in rows[0]


def test_another_consumer_sees_no_history_of_the_order(shop):
    order = placed(shop)
    stranger = UserFactory(role=Role.CONSUMER)

    assert api_as(stranger).get(f"/api/delivery/orders/{order.pk}/").status_code == 404
    assert page_as(stranger).get(f"/shop/orders/{order.pk}/").status_code == 404


def test_the_courier_api_sends_his_tasks_history_and_not_to_another_courier(shop):
    _order, task, _offer = picked_up(shop)
    other = courier_at(*WAREHOUSE_AT)

    body = api_as(shop.courier.user).get(f"/api/delivery/courier/tasks/{task.pk}/").json()

    assert [(e["status"], e["by"]) for e in body["events"]] == [
        ("offering", "FreshChain"),
        ("assigned", "You"),
        ("picked_up", "You"),
    ]
    assert api_as(other.user).get(f"/api/delivery/courier/tasks/{task.pk}/").status_code == 404
