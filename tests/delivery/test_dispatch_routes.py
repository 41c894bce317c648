"""Route-aware dispatch (the default scorer): a busy courier costs the time until he is free, is
offered a further task only when it joins the trip he is making without breaking a promise,
and his capacity still holds; queueing a task behind his route is a scorer of its own.

Distances are kilometres from the warehouse; 1 km is 5.2 minutes of riding (15 km/h, 1.3 of
detour), and every stop takes 2 minutes."""

import itertools
import random
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.choices import Role
from common.geo import metres_between
from delivery import ranking, route_scorer, routing
from delivery.courier_routes import CourierRoute, Pickup
from delivery.models import (
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    OfferStatus,
    TaskOffer,
)
from delivery.rules import current_rules
from delivery.selectors.dispatch import courier_load
from delivery.services import dispatch, offers
from tests.accounts.factories import UserFactory
from tests.delivery.dispatch_factories import (
    WAREHOUSE_AT,
    accepted_task,
    courier_near,
    near,
    packed_order,
    run_together,
)
from tests.delivery.factories import front_warehouse

QUEUEING = "delivery.route_scorer.QueueingRouteAwareScorer"


@pytest.fixture
def warehouse(db):
    return front_warehouse("wangjing", *WAREHOUSE_AT, half_side=0.08)


@pytest.fixture
def other_warehouse(db):
    return front_warehouse("xidan", 116.37, 39.91, half_side=0.02)


def pending_offer_of(task) -> TaskOffer | None:
    return TaskOffer.objects.filter(task=task, status=OfferStatus.PENDING).first()


def test_the_default_scorer_is_route_aware(settings):
    settings.DELIVERY_SCORER = ""

    assert isinstance(ranking.default_scorer(current_rules()), route_scorer.RouteAwareScorer)


# --- Busy against idle ---------------------------------------------------------------------


@pytest.mark.parametrize("scorer", ["", QUEUEING])
@pytest.mark.django_db
def test_a_busy_courier_loses_to_an_idle_one_at_the_same_distance(
    settings, warehouse, consumer, scorer
):
    settings.DELIVERY_SCORER = scorer
    busy = courier_near(north_km=0.5)
    accepted_task(busy, warehouse, consumer, {"north_km": 1.5}, picked_up=True)
    idle = courier_near(north_km=-0.5)

    task = dispatch.dispatch_order(order_id=packed_order(warehouse, consumer, east_km=1).pk)

    assert pending_offer_of(task).courier == idle


@pytest.mark.django_db
def test_one_task_at_a_time_a_busy_courier_is_not_offered_what_does_not_join_his_trip(
    warehouse, consumer
):
    busy = courier_near(north_km=0.3)
    accepted_task(busy, warehouse, consumer, {"north_km": 1}, picked_up=True)
    idle = courier_near(north_km=-2)
    task = dispatch.dispatch_order(order_id=packed_order(warehouse, consumer, east_km=1).pk)

    offers.decline_offer(courier=idle, offer_id=pending_offer_of(task).pk)

    task.refresh_from_db()
    assert task.status == DeliveryTaskStatus.UNASSIGNED
    assert not TaskOffer.objects.filter(courier=busy).exists()


@pytest.mark.django_db
def test_a_courier_whose_accepted_task_is_still_being_packed_is_busy(
    warehouse, other_warehouse, consumer
):
    # He took a task of the other warehouse whose order is not packed yet: he is on his way.
    busy = courier_near(north_km=0.3)
    accepted_task(
        busy,
        other_warehouse,
        consumer,
        {"north_km": 1},
        order_status=DeliveryOrderStatus.PLACED,
    )
    idle = courier_near(north_km=-1.5)

    task = dispatch.dispatch_order(order_id=packed_order(warehouse, consumer, east_km=1).pk)

    assert pending_offer_of(task).courier == idle


# --- Joining the trip he is making ----------------------------------------------------------


def _heading_here(warehouse, consumer, *, capacity: int = 3, orders: int = 1):
    """A courier 1 km north, on his way to the warehouse for an order going 3 km north
    (promised in 25 minutes: alone it arrives in 5.2 + 2 + 15.6 = 22.8); an idle courier
    1.5 km east (7.8 minutes away)."""
    busy = courier_near(north_km=1, capacity=capacity)
    doors = [{"north_km": 3, "promised_in_minutes": 25}] * orders
    accepted_task(busy, warehouse, consumer, *doors)
    idle = courier_near(east_km=1.5)
    return busy, idle


@pytest.mark.django_db
def test_a_courier_heading_here_gets_the_task_when_the_shared_trip_keeps_every_promise(
    warehouse, consumer
):
    busy, _idle = _heading_here(warehouse, consumer)
    # 1 km east, after his door: 22.8 + 2 + 16.4 (3.2 km back south-east) = 41.2 minutes.
    order = packed_order(warehouse, consumer, east_km=1, promised_in_minutes=45)

    task = dispatch.dispatch_order(order_id=order.pk)

    offer = pending_offer_of(task)
    assert offer.courier == busy
    assert offer.score == pytest.approx(-5.2, abs=0.1)  # he gets here in 5.2 minutes
    offers.accept_offer(courier=busy, offer_id=offer.pk)
    assert (
        DeliveryTask.objects.filter(courier=busy, status=DeliveryTaskStatus.ASSIGNED).count() == 2
    )
    assert courier_load(busy.pk) == 2


@pytest.mark.django_db
def test_a_shared_trip_counts_from_the_end_of_packing_not_from_his_arrival(
    settings, warehouse, consumer
):
    """The same trip as above, but the new order was placed just now and is still being packed
    (dispatched ahead): he cannot leave before it is packed, 10 minutes from now rather than
    his 5.2, and then the order arrives at 46 minutes, past its promise of 45."""
    settings.DELIVERY_PACKING_MINUTES = 10  # the warehouse has no history of its own
    busy, idle = _heading_here(warehouse, consumer)
    order = packed_order(
        warehouse, consumer, east_km=1, promised_in_minutes=45, status=DeliveryOrderStatus.PLACED
    )
    DeliveryOrder.objects.filter(pk=order.pk).update(packed_at=None, placed_at=timezone.now())

    task = dispatch.dispatch_order(order_id=order.pk)

    assert pending_offer_of(task).courier == idle
    assert not TaskOffer.objects.filter(courier=busy).exists()


@pytest.mark.django_db
def test_a_courier_heading_here_loses_the_task_when_the_shared_trip_breaks_a_promise(
    warehouse, consumer
):
    busy, idle = _heading_here(warehouse, consumer)
    # Promised in 30: after his door it arrives at 41.2; before it, his own arrives at 30.8.
    order = packed_order(warehouse, consumer, east_km=1, promised_in_minutes=30)

    task = dispatch.dispatch_order(order_id=order.pk)

    assert pending_offer_of(task).courier == idle
    offers.decline_offer(courier=idle, offer_id=pending_offer_of(task).pk)
    assert pending_offer_of(task) is None
    assert not TaskOffer.objects.filter(courier=busy).exists()


@pytest.mark.django_db
def test_a_task_joins_only_a_trip_to_its_own_warehouse(warehouse, other_warehouse, consumer):
    busy = courier_near(north_km=0.2)
    accepted_task(busy, other_warehouse, consumer, {"north_km": 0.5, "promised_in_minutes": 90})
    idle = courier_near(east_km=2)

    task = dispatch.dispatch_order(order_id=packed_order(warehouse, consumer, north_km=1).pk)

    assert pending_offer_of(task).courier == idle


@pytest.mark.django_db
def test_a_courier_heading_here_with_no_room_left_is_not_offered_the_task(warehouse, consumer):
    busy, idle = _heading_here(warehouse, consumer, capacity=2, orders=2)
    for door in DeliveryTask.objects.get(courier=busy).orders.all():
        door.promised_by = timezone.now() + timedelta(minutes=90)
        door.save()
    order = packed_order(warehouse, consumer, north_km=2, promised_in_minutes=90)

    task = dispatch.dispatch_order(order_id=order.pk)

    assert pending_offer_of(task).courier == idle
    assert courier_load(busy.pk) == 2


def test_the_scorer_keeps_a_joining_courier_within_his_capacity():
    rules = current_rules()
    now = timezone.now()
    later = now + timedelta(minutes=90)
    route = CourierRoute(
        position=near(north_km=0.5),
        pickups=(Pickup(7, WAREHOUSE_AT, (routing.Stop(1, near(north_km=1), later),)),),
    )
    task = ranking.TaskAtHand(
        task_id=2,
        orders=2,
        minutes_left=90,
        slack_minutes=80,
        warehouse_id=7,
        warehouse=WAREHOUSE_AT,
        stops=(
            routing.Stop(2, near(north_km=1.2), later),
            routing.Stop(3, near(north_km=1.4), later),
        ),
        now=now,
    )
    scorer = route_scorer.RouteAwareScorer(rules)

    roomy = ranking.Candidate(courier_id=1, distance_m=500, load=1, capacity=3, route=route)
    full = ranking.Candidate(courier_id=1, distance_m=500, load=1, capacity=2, route=route)

    assert scorer.score(roomy, task) == pytest.approx(-2.6, abs=0.05)
    assert scorer.score(full, task) == ranking.NEVER


def test_the_nearest_idle_yardstick_counts_a_task_still_being_packed_as_work():
    rules = current_rules()
    later = timezone.now() + timedelta(minutes=60)
    heading = CourierRoute(
        position=near(north_km=0.2),
        pickups=(Pickup(7, WAREHOUSE_AT, (routing.Stop(1, near(north_km=1), later),)),),
    )
    task = ranking.TaskAtHand(task_id=2, orders=1, minutes_left=60, slack_minutes=50)
    scorer = ranking.NearestIdleScorer(rules)

    idle = ranking.Candidate(courier_id=1, distance_m=900, load=0, capacity=3)
    on_his_way = ranking.Candidate(courier_id=2, distance_m=200, load=0, capacity=3, route=heading)

    assert scorer.score(idle, task) == -900
    assert scorer.score(on_his_way, task) == ranking.NEVER


# --- Queueing behind his route (a scorer of its own) ----------------------------------------


@pytest.mark.django_db
def test_queueing_charges_a_courier_who_picked_up_his_remaining_route_and_the_ride_back(
    settings, warehouse, consumer
):
    settings.DELIVERY_SCORER = QUEUEING
    busy = courier_near(north_km=1)
    accepted_task(busy, warehouse, consumer, {"north_km": 2}, picked_up=True)
    # 3 km south: 15.6 minutes. Counted from where he is now (1 km), he would look nearer.
    idle = courier_near(north_km=-3)
    task = dispatch.dispatch_order(
        order_id=packed_order(warehouse, consumer, east_km=1, promised_in_minutes=60).pk
    )
    assert pending_offer_of(task).courier == idle

    offers.decline_offer(courier=idle, offer_id=pending_offer_of(task).pk)

    offer = pending_offer_of(task)
    assert offer.courier == busy
    # To his door 1 km on (5.2), handing over (2), back 2 km to the warehouse (10.4).
    assert offer.score == pytest.approx(-17.6, abs=0.2)


@pytest.mark.django_db
def test_queueing_never_offers_a_task_whose_promise_he_would_break(settings, warehouse, consumer):
    settings.DELIVERY_SCORER = QUEUEING
    busy = courier_near(north_km=1)
    accepted_task(busy, warehouse, consumer, {"north_km": 2}, picked_up=True)

    # He is free and back in 17.6 minutes; loaded and 1 km away it would be 24.8, past 20.
    task = dispatch.dispatch_order(
        order_id=packed_order(warehouse, consumer, east_km=1, promised_in_minutes=20).pk
    )

    assert DeliveryTask.objects.get(pk=task.pk).status == DeliveryTaskStatus.UNASSIGNED
    assert not TaskOffer.objects.exists()


def test_route_slack_is_the_best_over_every_visiting_order():
    rules = current_rules()
    now = timezone.now()
    draw = random.Random(16)

    def ridden(sequence) -> float:
        at, here, tightest = 0.0, WAREHOUSE_AT, float("inf")
        for stop in sequence:
            at += rules.travel_minutes(metres_between(here, stop.point))
            tightest = min(tightest, (stop.promised_by - now).total_seconds() / 60 - at)
            at += rules.handling_minutes
            here = stop.point
        return tightest

    for _case in range(60):
        stops = [
            routing.Stop(
                n,
                near(north_km=draw.uniform(-3, 3), east_km=draw.uniform(-3, 3)),
                now + timedelta(minutes=draw.uniform(0, 60)),
            )
            for n in range(draw.randint(1, routing.MAX_PERMUTED_STOPS))
        ]
        best = max(ridden(sequence) for sequence in itertools.permutations(stops))

        slack = routing.route_slack_minutes(
            origin=WAREHOUSE_AT, stops=stops, leave_at=now, rules=rules
        )

        assert slack == pytest.approx(best, abs=1e-6)


# --- Cost and races ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_busy_candidates_routes_are_read_in_one_query(warehouse, consumer):
    for north_km in (0.3, 0.6, 0.9):
        accepted_task(courier_near(north_km=north_km), warehouse, consumer, {"north_km": 1})
    courier_near(east_km=1)
    order = packed_order(warehouse, consumer, north_km=-1)

    with CaptureQueriesContext(connection) as captured:
        dispatch.dispatch_order(order_id=order.pk)

    routes = [q["sql"] for q in captured.captured_queries if "ST_X(c.position" in q["sql"]]
    assert len(routes) == 1
    assert TaskOffer.objects.filter(status=OfferStatus.PENDING).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_racing_for_a_courier_heading_here_give_him_one_offer(settings):
    settings.DELIVERY_OFFER_SECONDS = 600  # no countdown comes due during the test
    warehouse = front_warehouse("race-join", *WAREHOUSE_AT, half_side=0.08)
    consumer = UserFactory(role=Role.CONSUMER)
    busy = courier_near(north_km=0.3, capacity=4)
    accepted_task(busy, warehouse, consumer, {"north_km": 1, "promised_in_minutes": 90})
    orders = [
        packed_order(warehouse, consumer, north_km=1.2, promised_in_minutes=90),
        packed_order(warehouse, consumer, north_km=-1.2, promised_in_minutes=90),
    ]
    opened = []
    for order in orders:
        task = DeliveryTask.objects.create(warehouse=warehouse, status=DeliveryTaskStatus.OFFERING)
        order.task = task
        order.save()
        opened.append(task)

    outcomes = run_together(*(partial(offers.offer_next, task_id=task.pk) for task in opened))

    assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    assert TaskOffer.objects.filter(courier=busy, status=OfferStatus.PENDING).count() == 1
    statuses = sorted(
        DeliveryTask.objects.filter(pk__in=[t.pk for t in opened]).values_list("status", flat=True)
    )
    assert statuses == [DeliveryTaskStatus.OFFERING, DeliveryTaskStatus.UNASSIGNED]
