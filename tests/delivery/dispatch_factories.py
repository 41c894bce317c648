"""Builders of the dispatch tests: couriers and packed orders placed by kilometres from the warehouse."""

import itertools
import math
import threading
from datetime import timedelta

from django.contrib.gis.geos import Point
from django.db import close_old_connections
from django.utils import timezone
from djmoney.money import Money

from delivery.models import DeliveryOrder, DeliveryOrderStatus, DeliveryTask, DeliveryTaskStatus
from tests.delivery.factories import courier_at

WAREHOUSE_AT = (116.40, 39.90)


KM_OF_LATITUDE = 1 / 111.2


KM_OF_LONGITUDE = 1 / (111.32 * math.cos(math.radians(WAREHOUSE_AT[1])))


_order_numbers = itertools.count(1)


def near(*, north_km: float = 0.0, east_km: float = 0.0) -> tuple[float, float]:
    """A point the given kilometres north and east of the warehouse."""
    return (
        WAREHOUSE_AT[0] + east_km * KM_OF_LONGITUDE,
        WAREHOUSE_AT[1] + north_km * KM_OF_LATITUDE,
    )


def courier_near(*, north_km: float = 0.0, east_km: float = 0.0, **extra):
    return courier_at(*near(north_km=north_km, east_km=east_km), **extra)


def packed_order(
    warehouse,
    consumer,
    *,
    north_km: float = 0.0,
    east_km: float = 0.0,
    promised_in_minutes: float = 30,
    packed_minutes_ago: float = 0,
    status: str = DeliveryOrderStatus.PACKED,
) -> DeliveryOrder:
    """A paid order packed at the warehouse, written directly (the shop's place_order and
    pack_order are the shop's own tests)."""
    now = timezone.now()
    return DeliveryOrder.objects.create(
        number=f"T-DISPATCH-{next(_order_numbers)}",
        consumer=consumer,
        warehouse=warehouse,
        address="朝阳区测试路 1 号",
        location=Point(*near(north_km=north_km, east_km=east_km), srid=4326),
        status=status,
        total=Money("25.00", "CNY"),
        placed_at=now - timedelta(minutes=5),
        promised_by=now + timedelta(minutes=promised_in_minutes),
        packed_at=now - timedelta(minutes=packed_minutes_ago),
        delivery_code="4321",
    )


def accepted_task(
    courier, warehouse, consumer, *doors: dict, picked_up: bool = False, order_status=None
) -> DeliveryTask:
    """A task the courier has accepted, one order per door (`packed_order`'s keywords: where
    and when promised); he is on his way to the warehouse, or (`picked_up`) to the doors.
    `order_status`: the orders' own status, when not the one the task implies."""
    task = DeliveryTask.objects.create(
        warehouse=warehouse,
        courier=courier,
        status=DeliveryTaskStatus.PICKED_UP if picked_up else DeliveryTaskStatus.ASSIGNED,
        accepted_at=timezone.now(),
    )
    status = order_status or (
        DeliveryOrderStatus.PICKED_UP if picked_up else DeliveryOrderStatus.ASSIGNED
    )
    for door in doors:
        order = packed_order(warehouse, consumer, status=status, **door)
        order.task = task
        order.save()
    return task


def run_together(*calls):
    """Run the calls at once, each in its own thread (its own connection); their outcomes (a
    raised error is an outcome: the race tests check it)."""
    start = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            start.wait()
            outcomes[index] = call()
        except Exception as error:  # the outcome is what the test checks
            outcomes[index] = error
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
