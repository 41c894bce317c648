"""A courier asked while the order is being packed: he accepts it (the order is his, ASSIGNED),
cannot pick it up before it is packed and can right after; packing records it without moving
its status, his page and API say the bag is still being packed and are pushed when it is; the
warehouse and the consumer see the courier coming; packing, accepting and cancelling racing
on real threads leave one coherent state."""

from functools import partial

import pytest
from django.test import Client
from django.utils import translation

from accounts.choices import Role
from delivery.exceptions import OfferNoLongerOpen, OrderStepRefused, StepNotAllowed
from delivery.models import (
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    OfferStatus,
    TaskOffer,
)
from delivery.services import couriers, dispatch, offers
from delivery.services.orders import cancel_order, pack_order
from tests.accounts.factories import UserFactory
from tests.delivery.courier_factories import events_for
from tests.delivery.dispatch_factories import WAREHOUSE_AT, courier_near, packed_order, run_together
from tests.delivery.factories import front_warehouse
from tests.delivery.warehouse_factories import manager_of


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def being_packed(warehouse, consumer, **where) -> DeliveryOrder:
    """A placed (paid) order not packed yet."""
    order = packed_order(warehouse, consumer, status=DeliveryOrderStatus.PLACED, **where)
    DeliveryOrder.objects.filter(pk=order.pk).update(packed_at=None)
    order.refresh_from_db()
    return order


def offered_ahead(warehouse, consumer):
    """A placed order dispatched ahead of its packing, offered to the one courier near."""
    courier = courier_near(north_km=0.3)
    order = being_packed(warehouse, consumer, north_km=1)
    task = dispatch.dispatch_order(order_id=order.pk)
    offer = TaskOffer.objects.get(task=task, status=OfferStatus.PENDING)
    return courier, order, task, offer


@pytest.fixture
def accepted(db, consumer):
    """The courier accepted the task while its order is still being packed."""
    warehouse = front_warehouse("wangjing", *WAREHOUSE_AT, half_side=0.08)
    courier, order, task, offer = offered_ahead(warehouse, consumer)
    offers.accept_offer(courier=courier, offer_id=offer.pk)
    return {
        "warehouse": warehouse,
        "manager": manager_of(warehouse),
        "courier": courier,
        "order": order,
        "task": task,
    }


def page_as(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_accepting_makes_the_order_being_packed_his(accepted):
    order = DeliveryOrder.objects.get(pk=accepted["order"].pk)
    assert order.status == DeliveryOrderStatus.ASSIGNED
    assert order.assigned_at is not None
    assert order.packed_at is None
    assert DeliveryTask.objects.get(pk=accepted["task"].pk).status == DeliveryTaskStatus.ASSIGNED
    assert list(order.events.values_list("from_status", "to_status")) == [("placed", "assigned")]


@pytest.mark.django_db
def test_the_courier_cannot_pick_up_before_packing_and_can_right_after(accepted):
    courier, order, task = accepted["courier"], accepted["order"], accepted["task"]

    with pytest.raises(StepNotAllowed) as refusal:
        couriers.pick_up(courier=courier, task_id=task.pk)

    assert str(refusal.value.message).startswith(f"Still being packed: {order.number}.")
    assert DeliveryTask.objects.get(pk=task.pk).status == DeliveryTaskStatus.ASSIGNED
    assert DeliveryOrder.objects.get(pk=order.pk).status == DeliveryOrderStatus.ASSIGNED

    pack_order(by=accepted["manager"], order_id=order.pk)
    couriers.pick_up(courier=courier, task_id=task.pk)

    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.PICKED_UP
    assert order.packed_at is not None
    assert DeliveryTask.objects.get(pk=task.pk).status == DeliveryTaskStatus.PICKED_UP


@pytest.mark.django_db
def test_packing_keeps_the_order_assigned_and_its_history_says_packed(accepted):
    manager = accepted["manager"]

    pack_order(by=manager, order_id=accepted["order"].pk)
    again = pack_order(by=manager, order_id=accepted["order"].pk)  # a retried tap

    order = DeliveryOrder.objects.get(pk=accepted["order"].pk)
    assert order.status == DeliveryOrderStatus.ASSIGNED
    assert again.packed_at == order.packed_at
    events = list(order.events.order_by("at", "id"))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("placed", "assigned"),
        ("assigned", "assigned"),
    ]
    assert events[-1].actor == manager
    answer = page_as(manager).get("/warehouse/").content.decode()
    assert "Packed; its courier is on the way." in answer


@pytest.mark.django_db
def test_packing_pushes_the_courier_his_task_and_the_consumer_her_order(
    accepted, django_capture_on_commit_callbacks
):
    order, courier = accepted["order"], accepted["courier"]

    def pack():
        with django_capture_on_commit_callbacks(execute=True):
            pack_order(by=accepted["manager"], order_id=order.pk)

    received = events_for([order.consumer, courier.user], pack)

    [to_consumer] = received[order.consumer.pk]
    assert to_consumer["payload"] == {"quiet": True, "order_id": order.pk, "status": "assigned"}
    [to_courier] = received[courier.user.pk]
    assert to_courier["event"] == "delivery.task"
    assert to_courier["payload"]["task_id"] == accepted["task"].pk


@pytest.mark.django_db
def test_the_couriers_page_and_api_wait_for_packing(accepted, api_as):
    courier, order, task = accepted["courier"], accepted["order"], accepted["task"]
    phone = page_as(courier.user)

    html = phone.get("/courier/task/").content.decode()
    assert "data-being-packed" in html
    assert f"Still being packed: {order.number}" in html
    assert "data-pick-up" not in html
    api = api_as(courier.user)
    body = api.get(f"/api/delivery/courier/tasks/{task.pk}/").json()
    assert body["can_pick_up"] is False
    assert [o["being_packed"] for o in body["orders"]] == [True]
    refused = api.post(f"/api/delivery/courier/tasks/{task.pk}/pick-up/")
    assert refused.status_code == 409
    assert order.number in str(refused.json())

    pack_order(by=accepted["manager"], order_id=order.pk)

    html = phone.get("/courier/task/").content.decode()
    assert "data-being-packed" not in html
    assert "data-pick-up" in html
    body = api.get(f"/api/delivery/courier/tasks/{task.pk}/").json()
    assert body["can_pick_up"] is True
    assert [o["being_packed"] for o in body["orders"]] == [False]


@pytest.mark.django_db
def test_the_warehouse_sees_the_courier_coming_and_packs_it(accepted):
    manager, order = accepted["manager"], accepted["order"]

    html = page_as(manager).get("/warehouse/").content.decode()

    assert f'data-testid="courier-coming-{order.pk}"' in html
    assert f'data-testid="pack-{order.pk}"' in html
    page_as(manager).post(f"/warehouse/orders/{order.pk}/pack/")
    html = page_as(manager).get("/warehouse/").content.decode()
    assert f'data-testid="pack-{order.pk}"' not in html


@pytest.mark.django_db
def test_the_consumer_sees_her_courier_coming_before_the_packing(accepted, api_as):
    order = accepted["order"]

    body = api_as(order.consumer).get(f"/api/delivery/orders/{order.pk}/").json()

    assert body["status"] == "assigned"
    assert [(s["step"], s["done"]) for s in body["steps"][:3]] == [
        ("placed", True),
        ("assigned", True),
        ("packed", False),
    ]


@pytest.mark.django_db
def test_an_order_whose_courier_accepted_can_no_longer_be_cancelled(accepted):
    order = accepted["order"]

    with pytest.raises(OrderStepRefused):
        cancel_order(by=order.consumer, order_id=order.pk)

    assert DeliveryOrder.objects.get(pk=order.pk).status == DeliveryOrderStatus.ASSIGNED


# --- Races (real threads, each its own database connection) ---------------------------------


def _steps(order) -> list[tuple[str, str]]:
    return list(order.events.order_by("at", "id").values_list("from_status", "to_status"))


@pytest.mark.django_db(transaction=True)
def test_packing_and_accepting_at_once_lose_neither(settings):
    settings.DELIVERY_OFFER_SECONDS = 600  # no countdown comes due during the test
    warehouse = front_warehouse("race-pack", *WAREHOUSE_AT, half_side=0.08)
    manager = manager_of(warehouse)
    consumer = UserFactory(role=Role.CONSUMER)
    for _round in range(4):
        courier, order, task, offer = offered_ahead(warehouse, consumer)

        outcomes = run_together(
            partial(pack_order, by=manager, order_id=order.pk),
            partial(offers.accept_offer, courier=courier, offer_id=offer.pk),
        )

        assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
        order.refresh_from_db()
        assert order.status == DeliveryOrderStatus.ASSIGNED
        assert order.packed_at is not None
        assert order.assigned_at is not None
        assert DeliveryTask.objects.get(pk=task.pk).status == DeliveryTaskStatus.ASSIGNED
        assert _steps(order) in (
            [("placed", "packed"), ("packed", "assigned")],
            [("placed", "assigned"), ("assigned", "assigned")],
        )
        couriers.pick_up(courier=courier, task_id=task.pk)  # packed: he may go
        courier.is_on_shift = False  # next round: a fresh courier
        courier.save()


@pytest.mark.django_db(transaction=True)
def test_cancelling_and_accepting_at_once_leave_one_of_them(settings):
    settings.DELIVERY_OFFER_SECONDS = 600
    warehouse = front_warehouse("race-cancel", *WAREHOUSE_AT, half_side=0.08)
    consumer = UserFactory(role=Role.CONSUMER)
    for _round in range(4):
        courier, order, task, offer = offered_ahead(warehouse, consumer)

        cancelled, accepted = run_together(
            partial(cancel_order, by=consumer, order_id=order.pk),
            partial(offers.accept_offer, courier=courier, offer_id=offer.pk),
        )

        order.refresh_from_db()
        task.refresh_from_db()
        offer.refresh_from_db()
        if isinstance(accepted, Exception):
            assert isinstance(accepted, OfferNoLongerOpen), accepted
            assert order.status == DeliveryOrderStatus.CANCELLED
            assert order.task_id is None
            assert task.status == DeliveryTaskStatus.CANCELLED
            assert offer.status == OfferStatus.WITHDRAWN
        else:
            assert isinstance(cancelled, OrderStepRefused), cancelled
            assert order.status == DeliveryOrderStatus.ASSIGNED
            assert order.task_id == task.pk
            assert task.status == DeliveryTaskStatus.ASSIGNED
            assert offer.status == OfferStatus.ACCEPTED
        courier.is_on_shift = False
        courier.save()
