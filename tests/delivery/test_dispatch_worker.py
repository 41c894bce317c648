"""Dispatch through a real Celery worker: an offer nobody answers times out and moves to the
next courier by the countdown task, and the sweep picks up what a lost worker left behind."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.choices import Role
from delivery.models import DeliveryOrder, DeliveryTask, DeliveryTaskStatus, OfferStatus, TaskOffer
from delivery.services import dispatch, offers
from delivery.tasks import sweep_dispatch
from tests.accounts.factories import UserFactory
from tests.delivery.dispatch_factories import WAREHOUSE_AT, courier_near, packed_order
from tests.delivery.factories import front_warehouse

DEADLINE_SECONDS = 30


def wait_for(condition, what: str):
    """Poll the database until `condition()` holds (the worker commits on its own connection)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"the worker did not get there in {DEADLINE_SECONDS} s: {what}")
        time.sleep(0.1)


@pytest.fixture
def warehouse(transactional_db):
    return front_warehouse("worker", *WAREHOUSE_AT, half_side=0.08)


@pytest.fixture
def shopper(transactional_db):
    return UserFactory(role=Role.CONSUMER)


@pytest.mark.django_db(transaction=True)
def test_unanswered_offers_time_out_and_move_on_through_the_worker(
    celery_worker_live, settings, warehouse, shopper
):
    settings.DELIVERY_OFFER_SECONDS = 1
    first = courier_near(north_km=0.4)
    second = courier_near(north_km=-0.9)
    order = packed_order(warehouse, shopper, east_km=2)

    # As the shop's pack_order does: dispatch is asked inside the packing transaction and
    # runs in the worker once it commits.
    with transaction.atomic():
        dispatch.request_dispatch(order)

    task_id = wait_for(
        lambda: DeliveryOrder.objects.filter(pk=order.pk).values_list("task_id", flat=True)[0],
        "the order is on a task",
    )
    wait_for(
        lambda: DeliveryTask.objects.filter(
            pk=task_id, status=DeliveryTaskStatus.UNASSIGNED
        ).exists(),
        "both offers expired and the task waits unassigned",
    )
    offers = list(
        TaskOffer.objects.filter(task_id=task_id)
        .order_by("offered_at", "pk")
        .values_list("courier_id", "status")
    )
    assert offers == [(first.pk, OfferStatus.EXPIRED), (second.pk, OfferStatus.EXPIRED)]
    task = DeliveryTask.objects.get(pk=task_id)
    assert task.courier is None
    assert DeliveryOrder.objects.get(pk=order.pk).status == "packed"


@pytest.mark.django_db(transaction=True)
def test_the_next_courier_accepts_after_the_first_offer_timed_out_in_the_worker(
    celery_worker_live, settings, warehouse, shopper
):
    settings.DELIVERY_OFFER_SECONDS = 2
    first = courier_near(north_km=0.4)
    second = courier_near(north_km=-0.9)
    order = packed_order(warehouse, shopper, east_km=2)
    with transaction.atomic():
        dispatch.request_dispatch(order)

    offer = wait_for(
        lambda: TaskOffer.objects.filter(courier=second, status=OfferStatus.PENDING).first(),
        "the first offer expired and the second courier was offered the task",
    )
    # The second courier answers in time (the offer is lengthened so that the test's own pace
    # cannot matter); his offer's countdown, when it runs, finds it answered.
    TaskOffer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() + timedelta(minutes=10))
    task = offers.accept_offer(courier=second, offer_id=offer.pk)

    assert TaskOffer.objects.get(courier=first).status == OfferStatus.EXPIRED
    task.refresh_from_db()
    assert task.courier == second
    assert task.status == DeliveryTaskStatus.ASSIGNED
    assert DeliveryOrder.objects.get(pk=order.pk).status == "assigned"


@pytest.mark.django_db(transaction=True)
def test_the_sweep_in_the_worker_recovers_what_a_lost_worker_left_behind(
    celery_worker_live, settings, warehouse, shopper
):
    settings.DELIVERY_OFFER_SECONDS = 600  # no countdown comes due during the test
    waiting = courier_near(north_km=0.3)
    free = courier_near(north_km=-0.6)
    courier_near(east_km=0.8)
    # A worker died after offering a task and before its countdown ran: the offer is long past
    # its time and nothing will ever expire it.
    stuck_task = DeliveryTask.objects.create(
        warehouse=warehouse, status=DeliveryTaskStatus.OFFERING
    )
    stuck_order = packed_order(warehouse, shopper, north_km=1.5, packed_minutes_ago=3)
    stuck_order.task = stuck_task
    stuck_order.save()
    long_ago = timezone.now() - timedelta(minutes=2)
    stuck_offer = TaskOffer.objects.create(
        task=stuck_task,
        courier=waiting,
        offered_at=long_ago,
        expires_at=long_ago + timedelta(seconds=45),
        distance_m=300,
        score=-1,
    )
    # Another order was packed, but its dispatch message was lost with the worker.
    lost = packed_order(warehouse, shopper, north_km=-2, packed_minutes_ago=1)

    result = sweep_dispatch.delay().get(timeout=DEADLINE_SECONDS)

    assert result == {
        "expired_offers": 1,
        "dispatched_orders": 1,
        "offered_tasks": 0,
        "unassigned_tasks": 0,
    }
    assert TaskOffer.objects.get(pk=stuck_offer.pk).status == OfferStatus.EXPIRED
    # Every packed order ends with a courier's offer, or visibly unassigned.
    for order in DeliveryOrder.objects.filter(status="packed"):
        assert order.task is not None
        pending = TaskOffer.objects.filter(task=order.task, status=OfferStatus.PENDING).first()
        assert pending is not None or order.task.status == DeliveryTaskStatus.UNASSIGNED
    # The stuck task went to the nearest courier not just offered it; the lost order's new
    # task to the one left free, the courier whose offer had expired.
    assert TaskOffer.objects.get(task=stuck_task, status=OfferStatus.PENDING).courier == free
    lost.refresh_from_db()
    assert TaskOffer.objects.get(task=lost.task, status=OfferStatus.PENDING).courier == waiting
