"""Dispatch timed from packing: the warehouse's packing time learned from its recent orders (or
the setting while it has too few), a placed order's dispatch scheduled so its courier arrives
as packing ends, offered at that moment while still being packed, caught by the sweep when its
message was lost; and with DELIVERY_DISPATCH_AHEAD off, dispatch only at packing, as before."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.gis.geos import Point
from django.utils import timezone
from djmoney.money import Money

from delivery import tasks
from delivery.models import (
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    OfferStatus,
    TaskOffer,
)
from delivery.selectors.packing import PACKING_SAMPLE, packing_minutes
from delivery.services import dispatch, offers
from delivery.services.orders import pack_order
from tests.delivery.dispatch_factories import WAREHOUSE_AT, courier_near, near, packed_order
from tests.delivery.factories import front_warehouse
from tests.delivery.shop_factories import order_for, receive
from tests.delivery.warehouse_factories import manager_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse(db):
    return front_warehouse("wangjing", *WAREHOUSE_AT, half_side=0.08)


def packed_in(warehouse, consumer, minutes: float, *, days_ago: float = 0) -> DeliveryOrder:
    """A delivered order of `warehouse` that took `minutes` from placing to packing."""
    packed_at = timezone.now() - timedelta(days=days_ago, minutes=1)
    placed_at = packed_at - timedelta(minutes=minutes)
    return DeliveryOrder.objects.create(
        number=f"T-PACKED-{DeliveryOrder.objects.count() + 1}",
        consumer=consumer,
        warehouse=warehouse,
        address="朝阳区测试路 9 号",
        location=Point(*near(north_km=1), srid=4326),
        status=DeliveryOrderStatus.DELIVERED,
        total=Money("25.00", "CNY"),
        placed_at=placed_at,
        promised_by=placed_at + timedelta(minutes=30),
        packed_at=packed_at,
        delivered_at=packed_at + timedelta(minutes=15),
        delivery_code="1234",
    )


def being_packed(warehouse, consumer, **where) -> DeliveryOrder:
    """A placed (paid) order not packed yet."""
    order = packed_order(warehouse, consumer, status=DeliveryOrderStatus.PLACED, **where)
    DeliveryOrder.objects.filter(pk=order.pk).update(packed_at=None)
    order.refresh_from_db()
    return order


@pytest.fixture
def scheduled(monkeypatch):
    """The dispatch messages sent: (order id, countdown in seconds) each."""
    sent: list[tuple[int, float]] = []

    def apply_async(args, countdown=0, **_options):
        sent.append((args[0], countdown))

    monkeypatch.setattr(tasks.dispatch_order, "apply_async", apply_async)
    monkeypatch.setattr(tasks.dispatch_order, "delay", lambda order_id: sent.append((order_id, 0)))
    return sent


# --- The packing estimate ---------------------------------------------------------------------


def test_the_estimate_is_the_lower_third_of_the_warehouses_recent_packing_times(
    warehouse, other_warehouse, consumer
):
    for minutes in range(4, 16):  # 4 … 15 minutes, 12 orders
        packed_in(warehouse, consumer, minutes)
    packed_in(warehouse, consumer, 45, days_ago=20)  # too old to count
    for _ in range(12):
        packed_in(other_warehouse, consumer, 30)  # another warehouse's pace

    # The 1/3 quantile of 4…15 (interpolated, as percentile_cont): 4 + 11/3.
    assert packing_minutes(warehouse.pk) == pytest.approx(4 + 11 / 3)
    assert packing_minutes(other_warehouse.pk) == pytest.approx(30)


def test_only_the_latest_orders_count(warehouse, consumer):
    for _ in range(PACKING_SAMPLE):
        packed_in(warehouse, consumer, 5)  # the latest ones
    for _ in range(20):
        packed_in(warehouse, consumer, 40, days_ago=3)

    assert packing_minutes(warehouse.pk) == pytest.approx(5)


def test_with_too_little_history_the_setting_stands_in(warehouse, consumer, settings):
    settings.DELIVERY_PACKING_MINUTES = 7.5
    for _ in range(9):
        packed_in(warehouse, consumer, 20)

    assert packing_minutes(warehouse.pk) == pytest.approx(7.5)


def test_the_estimate_is_one_query(warehouse, consumer, django_assert_num_queries):
    for minutes in range(10, 30):
        packed_in(warehouse, consumer, minutes)

    with django_assert_num_queries(1):
        packing_minutes(warehouse.pk)


# --- Placing schedules the dispatch -----------------------------------------------------------


@pytest.fixture
def shop(chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "20", harvested_days_ago=1)
    return {"warehouse": chaoyang, "spinach": spinach, "consumer": funded_consumer}


def test_placing_schedules_dispatch_for_the_end_of_packing_less_the_ride(
    shop, scheduled, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_PICKUP_MINUTES = 5
    for _ in range(12):
        packed_in(shop["warehouse"], shop["consumer"], 12)

    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(shop["consumer"], (shop["spinach"].pk, "1.5"))

    assert scheduled == [(order.pk, pytest.approx((12 - 5) * 60))]


def test_packing_quicker_than_the_ride_dispatches_at_once(
    shop, scheduled, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_PICKUP_MINUTES = 5
    settings.DELIVERY_PACKING_MINUTES = 3  # no history: the setting

    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(shop["consumer"], (shop["spinach"].pk, "1.5"))

    assert scheduled == [(order.pk, 0)]


def test_the_scheduled_dispatch_offers_the_order_still_being_packed(warehouse, consumer, settings):
    settings.DELIVERY_PICKUP_MINUTES = 5
    settings.DELIVERY_OFFER_SECONDS = 45
    for _ in range(12):
        packed_in(warehouse, consumer, 11)
    nearest = courier_near(north_km=0.4)
    courier_near(north_km=1.5)
    placed_at = timezone.now()
    due = placed_at + timedelta(minutes=11 - 5)
    order = being_packed(warehouse, consumer, north_km=2)
    DeliveryOrder.objects.filter(pk=order.pk).update(placed_at=placed_at)

    with time_machine.travel(due, tick=False):
        task_id = tasks.dispatch_order(order.pk)

    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.PLACED  # still being packed
    assert order.task_id == task_id
    offer = TaskOffer.objects.get(task_id=task_id)
    assert offer.courier == nearest
    assert offer.offered_at == due
    assert offer.expires_at == due + timedelta(seconds=45)
    # The ride the courier is reckoned to need brings him as packing is predicted to end.
    assert offer.offered_at + timedelta(minutes=5) == placed_at + timedelta(minutes=11)


def test_packing_an_order_already_offered_keeps_its_task_and_offer(
    warehouse, consumer, scheduled, django_capture_on_commit_callbacks
):
    courier = courier_near(north_km=0.4)
    order = being_packed(warehouse, consumer, north_km=2)
    task = dispatch.dispatch_order(order_id=order.pk)

    with django_capture_on_commit_callbacks(execute=True):
        pack_order(by=manager_of(warehouse), order_id=order.pk)

    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.PACKED
    assert order.task == task
    assert scheduled == [(order.pk, 0)]  # packing asks again; the second ask changes nothing
    assert dispatch.dispatch_order(order_id=order.pk) == task
    offer = TaskOffer.objects.get(task=task)
    assert offer.courier == courier
    assert offer.status == OfferStatus.PENDING


def test_a_placed_order_joins_a_task_of_placed_orders_going_its_way(warehouse, consumer):
    courier_near(north_km=0.3)
    first = being_packed(warehouse, consumer, north_km=1)
    second = being_packed(warehouse, consumer, north_km=1.2, east_km=0.1)

    task = dispatch.dispatch_order(order_id=first.pk)
    joined = dispatch.dispatch_order(order_id=second.pk)

    assert joined == task
    assert set(DeliveryOrder.objects.filter(task=task).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert TaskOffer.objects.filter(task=task).count() == 1


def test_an_unassigned_task_of_placed_orders_is_offered_again_by_the_sweep(warehouse, consumer):
    order = being_packed(warehouse, consumer, north_km=1)
    task = dispatch.dispatch_order(order_id=order.pk)  # nobody on shift yet
    assert DeliveryTask.objects.get(pk=task.pk).status == DeliveryTaskStatus.UNASSIGNED
    courier = courier_near(north_km=0.3)

    result = dispatch.sweep()

    assert result.offered_tasks == 1
    assert DeliveryTask.objects.get(pk=task.pk).status == DeliveryTaskStatus.OFFERING
    assert TaskOffer.objects.get(task=task).courier == courier
    assert DeliveryOrder.objects.get(pk=order.pk).status == DeliveryOrderStatus.PLACED


def test_the_sweep_dispatches_a_placed_order_whose_message_was_lost_once_due(
    warehouse, consumer, settings
):
    settings.DELIVERY_PACKING_MINUTES = 10
    settings.DELIVERY_PICKUP_MINUTES = 5
    courier_near(north_km=0.3)
    order = being_packed(warehouse, consumer, north_km=1)
    placed_at = order.placed_at

    early = dispatch.sweep(now=placed_at + timedelta(minutes=4))
    assert early.dispatched_orders == 0
    assert DeliveryOrder.objects.get(pk=order.pk).task_id is None

    late = dispatch.sweep(now=placed_at + timedelta(minutes=5, seconds=11))

    assert late.dispatched_orders == 1
    assert DeliveryOrder.objects.get(pk=order.pk).task_id is not None


def test_cancelling_a_placed_order_on_an_offered_task_withdraws_the_offer(
    warehouse, consumer, scheduled
):
    from delivery.services.orders import cancel_order

    courier_near(north_km=0.3)
    order = being_packed(warehouse, consumer, north_km=1)
    task = dispatch.dispatch_order(order_id=order.pk)

    cancel_order(by=consumer, order_id=order.pk, reason="changed my mind")

    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.CANCELLED
    assert order.task_id is None
    assert DeliveryTask.objects.get(pk=task.pk).status == DeliveryTaskStatus.CANCELLED
    assert TaskOffer.objects.get(task=task).status == OfferStatus.WITHDRAWN


# --- Off: today's behaviour -------------------------------------------------------------------


def test_off_placing_schedules_nothing_and_a_placed_order_is_not_dispatched(
    shop, scheduled, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_DISPATCH_AHEAD = False
    courier_near(north_km=0.3)

    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(shop["consumer"], (shop["spinach"].pk, "1.5"))

    assert scheduled == []
    assert dispatch.dispatch_order(order_id=order.pk) is None
    assert dispatch.sweep(now=timezone.now() + timedelta(hours=1)).dispatched_orders == 0
    assert not DeliveryTask.objects.exists()


def test_off_packing_dispatches_as_before(
    warehouse, consumer, scheduled, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_DISPATCH_AHEAD = False
    courier = courier_near(north_km=0.3)
    order = being_packed(warehouse, consumer, north_km=1)

    with django_capture_on_commit_callbacks(execute=True):
        pack_order(by=manager_of(warehouse), order_id=order.pk)
    assert scheduled == [(order.pk, 0)]
    task = dispatch.dispatch_order(order_id=order.pk)

    offer = TaskOffer.objects.get(task=task)
    offers.accept_offer(courier=courier, offer_id=offer.pk)
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.ASSIGNED
    assert list(order.events.values_list("from_status", "to_status")) == [
        ("placed", "packed"),
        ("packed", "assigned"),
    ]
