"""The day simulator of bench/dispatch_quality: its clock drives the real services (an order is
placed, offered and delivered at the simulated moments, a year away from the wall clock), and
its days are the same for the same seed, with a lunch and a dinner peak."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from bench.simulation import POLICIES
from bench.simulation.days import DayParams, Packing, Shift, generate_day
from bench.simulation.replay import replay_day
from common.geo import metres_between
from delivery.models import DeliveryOrder, DeliveryOrderStatus, TaskOffer

# Two couriers on shift from 09:30, three orders between 10:00 and 10:30 (3 per courier-hour
# over the half hour), every offer accepted.
TINY = DayParams(
    name="tiny",
    seed=11,
    day=date(2025, 3, 11),
    opens="10:00",
    closes="10:30",
    orders_per_courier_hour=3.0,
    couriers_per_warehouse=2,
    shifts=(Shift("09:30", "12:00", 1.0),),
    packing=(Packing(mean_minutes=4, sd_minutes=1, packers=1),),
    decline_share=0.0,
    timeout_share=0.0,
)


def _orders_of(outcome) -> list[DeliveryOrder]:
    return list(
        DeliveryOrder.objects.filter(warehouse__in=outcome.world.warehouses)
        .select_related("warehouse__site")
        .order_by("placed_at")
    )


@pytest.mark.django_db(transaction=True)
def test_a_replayed_day_runs_the_services_on_the_simulated_clock():
    day = generate_day(TINY)
    assert len(day.orders) == 3
    outcome = replay_day(day, policy=POLICIES["greedy"], tag="test.tiny", slot=0)

    orders = _orders_of(outcome)
    assert [o.status for o in orders] == [DeliveryOrderStatus.DELIVERED] * 3
    # Placed at the day's arrival times, in 2025, whatever the wall clock says.
    assert [o.placed_at for o in orders] == [spec.at for spec in day.orders]
    assert all(timezone.now() - o.placed_at > timedelta(days=300) for o in orders)
    for order in orders:
        # Dispatch ran when packing ended (its Celery message, due at once, ran then), and
        # the offer's countdown starts at that simulated moment.
        first = TaskOffer.objects.filter(task=order.task_id).order_by("pk").first()
        assert first.offered_at == order.packed_at
        assert first.expires_at == first.offered_at + timedelta(
            seconds=settings.DELIVERY_OFFER_SECONDS
        )
        # Delivered when the courier reached the door: loaded at the warehouse, then the
        # ride in a straight line at the day's speed.
        warehouse = order.warehouse.site.location
        ride_minutes = (
            metres_between((warehouse.x, warehouse.y), (order.location.x, order.location.y))
            / TINY.speed_m_per_min
        )
        arrival = order.picked_up_at + timedelta(
            minutes=TINY.warehouse_service_minutes + ride_minutes
        )
        assert abs((order.delivered_at - arrival).total_seconds()) < 0.01
        assert order.delivered_at.date() == date(2025, 3, 11)
    assert outcome.figures.delivered == 3


def test_a_day_is_the_same_for_the_same_seed_and_peaks_at_lunch_and_dinner():
    params = DayParams(name="medium", seed=5, warehouses=2, orders_per_courier_hour=2.0)
    day = generate_day(params)
    assert generate_day(params) == day
    assert generate_day(DayParams(name="medium", seed=6, warehouses=2)) != day

    def orders_between(start: str, end: str) -> int:
        return sum(params.local(start) <= o.at < params.local(end) for o in day.orders)

    afternoon = orders_between("14:30", "15:30")
    assert orders_between("11:30", "12:30") > 1.5 * afternoon
    assert orders_between("17:30", "18:30") > 1.5 * afternoon
    assert all(params.local(params.opens) <= o.at < params.local(params.closes) for o in day.orders)
