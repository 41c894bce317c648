"""The couriers' speed learned from the warehouse's finished tasks, per hour of the day: dispatch's
promise check, the warehouse page's late risk and the consumer's expected arrival all ride at
it; thin history, or learning switched off, keeps the settings' model."""

import itertools
from datetime import datetime, timedelta

import pytest
from django.contrib.gis.geos import Point
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from common.dates import BUSINESS_TIME_ZONE
from common.geo import metres_between, point_at
from delivery.models import DeliveryOrder, DeliveryOrderStatus, DeliveryTask, DeliveryTaskStatus
from delivery.rules import current_rules
from delivery.selectors import shop as shop_selectors
from delivery.selectors import travel
from delivery.selectors import warehouse as warehouse_selectors
from delivery.selectors.warehouse import LateRisk
from delivery.services import dispatch
from tests.accounts.factories import UserFactory
from tests.delivery.dispatch_factories import WAREHOUSE_AT, courier_near, packed_order
from tests.delivery.factories import front_warehouse
from tests.delivery.shop_factories import HOME, order_for, receive

pytestmark = pytest.mark.django_db

# Learned from history: 3 km of straight line in 8 minutes' riding (10 minutes from pickup to
# delivery, 2 of them handing over at the door), 375 m a minute; the settings' model rides
# 15 km/h along streets 1.3 times the line, about 192 m a minute.
FAST_M_PER_MIN = 375.0
SETTINGS_M_PER_MIN = 15_000 / 60 / 1.3
_numbers = itertools.count(1)


@pytest.fixture
def warehouse(db):
    return front_warehouse("wangjing", *WAREHOUSE_AT, half_side=0.08)


def finished_tasks(warehouse, *, count: int, at: datetime, m_per_min: float, north_km=3.0):
    """`count` finished one-door tasks picked up at `at`'s hour on the days before it, each
    ridden at `m_per_min` in a straight line (plus 2 minutes' handing over at the door)."""
    consumer = UserFactory()
    courier = courier_near(north_km=-1, on_shift=False)  # off shift: never offered a task
    riding = north_km * 1000 / m_per_min
    site = warehouse.site.location
    door = point_at((site.x, site.y), metres=north_km * 1000, bearing=0)
    hour = at.astimezone(BUSINESS_TIME_ZONE).replace(minute=1, second=0, microsecond=0)
    for day in range(count):
        picked_up_at = hour - timedelta(days=1 + day % 10)
        delivered_at = picked_up_at + timedelta(minutes=riding + 2)
        task = DeliveryTask.objects.create(
            warehouse=warehouse,
            courier=courier,
            status=DeliveryTaskStatus.DONE,
            accepted_at=picked_up_at - timedelta(minutes=6),
            picked_up_at=picked_up_at,
            completed_at=delivered_at,
        )
        DeliveryOrder.objects.create(
            number=f"T-TRAVEL-{next(_numbers)}",
            consumer=consumer,
            warehouse=warehouse,
            address="朝阳区测试路 2 号",
            location=Point(*door, srid=4326),
            status=DeliveryOrderStatus.DELIVERED,
            total=Money("25.00", "CNY"),
            placed_at=picked_up_at - timedelta(minutes=15),
            promised_by=picked_up_at + timedelta(minutes=15),
            packed_at=picked_up_at - timedelta(minutes=8),
            assigned_at=picked_up_at - timedelta(minutes=6),
            picked_up_at=picked_up_at,
            delivered_at=delivered_at,
            delivery_code="4321",
            task=task,
        )


def ride_minutes(rules, metres=3000.0) -> float:
    return rules.travel_minutes(metres)


# --- Learning -------------------------------------------------------------------------------


def test_the_speed_of_an_hour_is_the_median_of_its_finished_tasks(warehouse):
    at = datetime(2026, 3, 10, 12, 30, tzinfo=BUSINESS_TIME_ZONE)
    finished_tasks(warehouse, count=20, at=at, m_per_min=FAST_M_PER_MIN)
    finished_tasks(warehouse, count=5, at=at, m_per_min=FAST_M_PER_MIN / 3)  # a slow few
    finished_tasks(warehouse, count=3, at=at, m_per_min=5000)  # tapped at the door at once

    learned = travel.learn_speeds(warehouse, at)

    assert learned.samples == 25  # the impossible ones are bad records, not couriers
    assert learned.by_hour[12] == pytest.approx(FAST_M_PER_MIN)
    assert ride_minutes(current_rules(warehouse=warehouse, at=at)) == pytest.approx(8)
    assert ride_minutes(current_rules()) == pytest.approx(3000 / SETTINGS_M_PER_MIN)


def test_each_hour_rides_at_its_own_speed_and_an_unknown_hour_at_the_days(warehouse):
    noon = datetime(2026, 3, 10, 12, 30, tzinfo=BUSINESS_TIME_ZONE)
    evening = noon.replace(hour=18)
    finished_tasks(warehouse, count=20, at=noon, m_per_min=FAST_M_PER_MIN)
    finished_tasks(warehouse, count=21, at=evening, m_per_min=250)

    assert ride_minutes(current_rules(warehouse=warehouse, at=noon)) == pytest.approx(8)
    assert ride_minutes(current_rules(warehouse=warehouse, at=evening)) == pytest.approx(12)
    # 3 p.m. has no history: the whole day's median (the evening's, one task more).
    at_three = noon.replace(hour=15)
    assert ride_minutes(current_rules(warehouse=warehouse, at=at_three)) == pytest.approx(12)


def test_thin_history_keeps_the_settings_model(warehouse, settings):
    at = datetime(2026, 3, 10, 12, 30, tzinfo=BUSINESS_TIME_ZONE)
    finished_tasks(warehouse, count=settings.DELIVERY_TRAVEL_MIN_SAMPLES - 1, at=at, m_per_min=375)

    assert current_rules(warehouse=warehouse, at=at) == current_rules()


def test_history_older_than_the_window_or_of_another_warehouse_is_not_learned(warehouse):
    at = datetime(2026, 3, 10, 12, 30, tzinfo=BUSINESS_TIME_ZONE)
    other = front_warehouse("xidan", 116.37, 39.91, half_side=0.02)
    finished_tasks(other, count=20, at=at, m_per_min=FAST_M_PER_MIN)
    finished_tasks(warehouse, count=20, at=at - timedelta(days=15), m_per_min=FAST_M_PER_MIN)

    assert current_rules(warehouse=warehouse, at=at) == current_rules()
    assert ride_minutes(current_rules(warehouse=other, at=at)) == pytest.approx(8)


def test_learning_switched_off_keeps_the_settings_model(warehouse, settings):
    at = datetime(2026, 3, 10, 12, 30, tzinfo=BUSINESS_TIME_ZONE)
    finished_tasks(warehouse, count=20, at=at, m_per_min=FAST_M_PER_MIN)
    settings.DELIVERY_LEARN_TRAVEL = False

    assert current_rules(warehouse=warehouse, at=at) == current_rules()


def test_the_cached_speeds_are_read_again_without_a_query(
    warehouse, settings, django_assert_num_queries
):
    settings.DELIVERY_TRAVEL_CACHE_SECONDS = 60
    at = datetime(2000, 1, 1, 12, 30, tzinfo=BUSINESS_TIME_ZONE)  # a day no other test keys
    cache.delete(travel.CACHE_KEY.format(warehouse_id=warehouse.pk, day="2000-01-01"))
    finished_tasks(warehouse, count=20, at=at, m_per_min=FAST_M_PER_MIN)
    first = travel.learned_speeds(warehouse, at)

    with django_assert_num_queries(0):
        again = travel.learned_speeds(warehouse, at)

    assert again == first
    assert again.by_hour[12] == pytest.approx(FAST_M_PER_MIN)


# --- Dispatch, the warehouse page and the consumer ride at it --------------------------------


def _batch_far_then_on_the_way(warehouse, consumer):
    """Two orders going north: alone the far one arrives in about 1 + 2 + 15.6 minutes by the
    settings' model, inside its 19; with a stop on the way first it would not (see
    test_dispatch's test_no_batch_when_it_would_break_a_promise). At the learned 375 m a
    minute both arrive in time."""
    courier_near(north_km=0.2)
    courier_near(north_km=-0.2)
    far = packed_order(warehouse, consumer, north_km=3, promised_in_minutes=19)
    task = dispatch.dispatch_order(order_id=far.pk)
    on_the_way = packed_order(warehouse, consumer, north_km=1, promised_in_minutes=12)
    return task, dispatch.dispatch_order(order_id=on_the_way.pk)


def test_dispatch_batches_what_the_learned_speed_delivers_in_time(warehouse, consumer):
    finished_tasks(warehouse, count=20, at=timezone.now(), m_per_min=FAST_M_PER_MIN)

    task, batched = _batch_far_then_on_the_way(warehouse, consumer)

    assert batched == task
    assert task.orders.count() == 2


@pytest.mark.parametrize("history", ["thin", "switched_off"])
def test_without_learning_dispatch_refuses_that_batch(warehouse, consumer, settings, history):
    count = 20
    if history == "thin":
        count = settings.DELIVERY_TRAVEL_MIN_SAMPLES - 1
    else:
        settings.DELIVERY_LEARN_TRAVEL = False
    finished_tasks(warehouse, count=count, at=timezone.now(), m_per_min=FAST_M_PER_MIN)

    task, other = _batch_far_then_on_the_way(warehouse, consumer)

    assert other != task
    assert task.orders.count() == 1


def test_the_warehouse_page_judges_late_risk_at_the_learned_speed(warehouse, consumer):
    now = timezone.now()
    far = packed_order(warehouse, consumer, north_km=4.5, promised_in_minutes=15.5)
    # The settings' model: 2 minutes' loading and a 24-minute ride, at risk.
    assert [
        (e.travel_minutes, e.risk) for e in warehouse_selectors.open_orders(warehouse, now)
    ] == [(26, LateRisk.AT_RISK)]
    finished_tasks(warehouse, count=20, at=now, m_per_min=FAST_M_PER_MIN)

    listed = warehouse_selectors.open_orders(warehouse, now)

    # Learned: 2 minutes' loading and a 12-minute ride (4.5 km at 375 m a minute).
    assert [(entry.order, entry.travel_minutes, entry.risk) for entry in listed] == [
        (far, 14, LateRisk.ON_TIME)
    ]


def _expected(chaoyang, placed_at, m_per_min: float) -> datetime:
    """Packing (6 minutes), a courier reckoned 5 minutes away, loading (2), the ride home."""
    warehouse_at = (chaoyang.site.location.x, chaoyang.site.location.y)
    ride = metres_between(warehouse_at, (HOME["longitude"], HOME["latitude"])) / m_per_min
    return placed_at + timedelta(minutes=6 + 5 + 2 + ride)


def test_the_consumer_sees_the_expected_arrival_at_the_learned_speed(
    api_as, chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    finished_tasks(chaoyang, count=20, at=timezone.now(), m_per_min=FAST_M_PER_MIN, north_km=2)
    order = order_for(funded_consumer, (spinach.pk, "1"))
    expected = _expected(chaoyang, order.placed_at, FAST_M_PER_MIN)

    shown = api_as(funded_consumer).get(f"/api/delivery/orders/{order.pk}/").json()
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(funded_consumer)
    page = browser.get(f"/shop/orders/{order.pk}/").content.decode()

    assert abs(datetime.fromisoformat(shown["expected_at"]) - expected) < timedelta(seconds=1)
    assert expected < _expected(chaoyang, order.placed_at, SETTINGS_M_PER_MIN)
    assert datetime.fromisoformat(shown["promised_by"]) == order.promised_by  # as sold
    assert 'data-testid="expected-at"' in page
    assert timezone.localtime(expected).strftime("%H:%M") in page


def test_a_delivered_order_has_no_expected_arrival(api_as, chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "1"))
    DeliveryOrder.objects.filter(pk=order.pk).update(
        status=DeliveryOrderStatus.DELIVERED, delivered_at=timezone.now()
    )

    shown = api_as(funded_consumer).get(f"/api/delivery/orders/{order.pk}/").json()

    assert shown["expected_at"] is None


def test_a_batch_is_one_sample_along_the_route_it_was_delivered_in(warehouse):
    """Two doors north, 1 and 3 km out, delivered nearest first: 3 km of route in 8 minutes'
    riding (12 from pickup to the last door, 2 handing over at each)."""
    at = datetime(2026, 3, 10, 12, 30, tzinfo=BUSINESS_TIME_ZONE)
    consumer, courier = UserFactory(), courier_near(north_km=-1, on_shift=False)
    site = warehouse.site.location
    for day in range(20):
        picked_up_at = at.replace(minute=1) - timedelta(days=1 + day % 10)
        task = DeliveryTask.objects.create(
            warehouse=warehouse,
            courier=courier,
            status=DeliveryTaskStatus.DONE,
            accepted_at=picked_up_at,
            picked_up_at=picked_up_at,
        )
        for km, minutes in ((1, 8 / 3 + 2), (3, 12)):
            DeliveryOrder.objects.create(
                number=f"T-TRAVEL-{next(_numbers)}",
                consumer=consumer,
                warehouse=warehouse,
                address="朝阳区测试路 3 号",
                location=Point(*point_at((site.x, site.y), metres=km * 1000, bearing=0)),
                status=DeliveryOrderStatus.DELIVERED,
                total=Money("25.00", "CNY"),
                placed_at=picked_up_at - timedelta(minutes=15),
                promised_by=picked_up_at + timedelta(minutes=30),
                picked_up_at=picked_up_at,
                delivered_at=picked_up_at + timedelta(minutes=minutes),
                delivery_code="4321",
                task=task,
            )

    learned = travel.learn_speeds(warehouse, at)

    assert learned.samples == 20
    assert learned.by_hour[12] == pytest.approx(FAST_M_PER_MIN)


def test_a_cache_that_is_down_only_means_learning_again(warehouse, settings, monkeypatch):
    settings.DELIVERY_TRAVEL_CACHE_SECONDS = 60
    at = datetime(2000, 1, 2, 12, 30, tzinfo=BUSINESS_TIME_ZONE)
    finished_tasks(warehouse, count=20, at=at, m_per_min=FAST_M_PER_MIN)

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(travel.cache, "get", down)
    monkeypatch.setattr(travel.cache, "set", down)

    assert ride_minutes(current_rules(warehouse=warehouse, at=at)) == pytest.approx(8)


def test_once_picked_up_the_expected_arrival_is_the_ride_from_the_courier(warehouse, consumer):
    now = timezone.now()
    finished_tasks(warehouse, count=20, at=now, m_per_min=FAST_M_PER_MIN)
    courier = courier_near(north_km=1.5)
    task = DeliveryTask.objects.create(
        warehouse=warehouse, courier=courier, status=DeliveryTaskStatus.PICKED_UP
    )
    order = packed_order(warehouse, consumer, north_km=3, status=DeliveryOrderStatus.PICKED_UP)
    DeliveryOrder.objects.filter(pk=order.pk).update(task=task)
    order.refresh_from_db()

    expected = shop_selectors.expected_at(order, now=now)

    # 1.5 km left at 375 m a minute: 4 minutes.
    assert (expected - now).total_seconds() / 60 == pytest.approx(4, abs=0.01)
