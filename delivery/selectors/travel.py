"""The couriers' travel speed, learned from the warehouse's own deliveries.

What is learned: the effective straight-line speed (metres of straight line covered per minute
of riding) of the warehouse's couriers, per hour of the day (Asia/Shanghai). It is the one
number every travel estimate needs (`common.geo.travel_minutes` divides straight-line metres
by it), so streets, traffic and the couriers' own pace are in it at once; the detour factor
and the street speed cannot be told apart without the streets, and need not be.

How: every finished task of the last DELIVERY_TRAVEL_HISTORY_DAYS is one sample. Its route is
the one actually ridden: from the warehouse, when the courier picked the bag up, to each door
in the order they were delivered. Its riding time is from the pickup to the last delivery
minus DELIVERY_HANDLING_MINUTES at each door (the handing over, which the rules count apart);
its length the straight-line metres of that route. One sample per task, not per order: the
orders of a batch share their ride and would count it twice. Samples are discarded when
the route is shorter than MIN_ROUTE_M (a minute's error in the taps would dominate) or the
speed is outside MIN_KMH–MAX_KMH straight-line (a delivery tapped at the warehouse, a pickup
tapped an hour late): a bad record is dropped, not averaged in. The speed of an hour is the
median of its samples (one stuck courier cannot drag it), once there are
DELIVERY_TRAVEL_MIN_SAMPLES; an hour with fewer takes the median of the warehouse's whole day;
a warehouse with fewer than that (new, quiet) or DELIVERY_LEARN_TRAVEL off keeps the settings'
model (DELIVERY_COURIER_SPEED_KMH along streets DELIVERY_DETOUR_FACTOR times the line).

The warehouse stands for its city: its couriers ride its streets, and a warehouse has plenty
of samples on its own (one busy hour gives dozens), so pooling warehouses of a city would only
blur a river or a ring road between them.

The couriers' recorded positions are not used: only the last position is kept (no history
table, on purpose: it is the heaviest write of the house), and two consecutive fixes of a
courier say how fast he moved between them, not how much nearer his door he got, which is
what a promise needs. The pickup and delivery taps measure exactly that.

Cost at dispatch time: the whole day's table of a warehouse (24 hours and the all-day median)
is computed by one indexed query (delivery_order_delivered) over its recent deliveries (about
0.13 s for two weeks of a busy warehouse, 5,600 tasks) and kept in the Django cache for
DELIVERY_TRAVEL_CACHE_SECONDS (10 minutes: speeds drift over weeks, not minutes), keyed by
the warehouse and the business day of the moment asked about (so a simulated clock that moves
to another day reads that day's history). A read costs one cache get; a missing or broken
cache (Redis down) only means computing it again, never a refused dispatch. Chosen over a
beat task filling a table: no schedule to keep alive, no second copy of the history to keep
in step, and a new warehouse learns as soon as it has history.
"""

import logging
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, FloatField, Func, OuterRef

from common.dates import BUSINESS_TIME_ZONE
from common.geo import LonLat, metres_between

from ..models import DeliveryOrder, DeliveryOrderStatus, FrontWarehouse

logger = logging.getLogger(__name__)

# A route shorter than this is not a sample: a minute's slack in the taps would dominate it.
MIN_ROUTE_M = 500.0
# Straight-line speeds outside these are a bad record (km/h), not a courier.
MIN_KMH = 3.0
MAX_KMH = 45.0
CACHE_KEY = "delivery:travel:v1:{warehouse_id}:{day}"


@dataclass(frozen=True)
class LearnedSpeeds:
    """A warehouse's straight-line speeds in metres a minute: by local hour, and over the
    whole day (None where the samples were too few)."""

    by_hour: dict[int, float]
    all_day: float | None
    samples: int

    def at_hour(self, hour: int) -> float | None:
        return self.by_hour.get(hour, self.all_day)


def _epoch(field: str) -> Func:
    """Seconds since 1970 of a moment column."""
    return Func(
        field, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", output_field=FloatField()
    )


def _route_samples(warehouse: FrontWarehouse, since: datetime, until: datetime):
    """(local hour of the pickup, straight-line metres a minute) of each finished task."""
    open_sibling = DeliveryOrder.objects.filter(task_id=OuterRef("task_id")).exclude(
        status=DeliveryOrderStatus.DELIVERED
    )
    rows = (
        DeliveryOrder.objects.filter(
            warehouse=warehouse,
            status=DeliveryOrderStatus.DELIVERED,
            task__isnull=False,
            picked_up_at__isnull=False,
            delivered_at__gte=since,
            delivered_at__lt=until,
        )
        .exclude(Exists(open_sibling))  # a task still under way (or half-failed) is no route yet
        .order_by("task_id", "delivered_at", "pk")
        # Plain numbers, not geometries and dates: thousands of rows are read at once.
        .annotate(
            lon=Func("location", function="ST_X", output_field=FloatField()),
            lat=Func("location", function="ST_Y", output_field=FloatField()),
            picked=_epoch("picked_up_at"),
            delivered=_epoch("delivered_at"),
        )
        .values_list("task_id", "picked", "delivered", "lon", "lat")
    )
    routes: dict[int, list] = defaultdict(list)
    for task_id, picked, delivered, lon, lat in rows:
        routes[task_id].append((picked, delivered, (lon, lat)))
    origin: LonLat = (warehouse.site.location.x, warehouse.site.location.y)
    handling = settings.DELIVERY_HANDLING_MINUTES
    for stops in routes.values():
        metres, here = 0.0, origin
        for _picked, _delivered, door in stops:
            metres += metres_between(here, door)
            here = door
        left = min(stop[0] for stop in stops)
        riding = (stops[-1][1] - left) / 60 - handling * len(stops)
        if metres < MIN_ROUTE_M or riding <= 0:
            continue
        speed = metres / riding
        if MIN_KMH * 1000 / 60 <= speed <= MAX_KMH * 1000 / 60:
            yield datetime.fromtimestamp(left, BUSINESS_TIME_ZONE).hour, speed


def learn_speeds(warehouse: FrontWarehouse, at: datetime) -> LearnedSpeeds:
    """The warehouse's learned speeds from the finished tasks of the days before `at`
    (uncached; see the module's docstring for the rules)."""
    days = settings.DELIVERY_TRAVEL_HISTORY_DAYS
    least = settings.DELIVERY_TRAVEL_MIN_SAMPLES
    by_hour: dict[int, list[float]] = defaultdict(list)
    for hour, speed in _route_samples(warehouse, at - timedelta(days=days), at):
        by_hour[hour].append(speed)
    every = [speed for speeds in by_hour.values() for speed in speeds]
    return LearnedSpeeds(
        by_hour={
            hour: statistics.median(speeds)
            for hour, speeds in by_hour.items()
            if len(speeds) >= least
        },
        all_day=statistics.median(every) if len(every) >= least else None,
        samples=len(every),
    )


def learned_speeds(warehouse: FrontWarehouse, at: datetime) -> LearnedSpeeds:
    """`learn_speeds`, through the cache (DELIVERY_TRAVEL_CACHE_SECONDS; 0: no cache)."""
    seconds = settings.DELIVERY_TRAVEL_CACHE_SECONDS
    if not seconds:
        return learn_speeds(warehouse, at)
    key = CACHE_KEY.format(
        warehouse_id=warehouse.pk, day=at.astimezone(BUSINESS_TIME_ZONE).date().isoformat()
    )
    try:
        known = cache.get(key)
    except Exception:  # robust: the cache is a shortcut, dispatch must not need it
        logger.warning("travel speeds: cache unavailable", exc_info=True)
        known = None
    if isinstance(known, LearnedSpeeds):
        return known
    speeds = learn_speeds(warehouse, at)
    try:
        cache.set(key, speeds, seconds)
    except Exception:  # robust: as above
        logger.warning("travel speeds: cache unavailable", exc_info=True)
    return speeds


def learned_line_speed(warehouse: FrontWarehouse | None, at: datetime | None) -> float | None:
    """Straight-line metres a minute of the warehouse's couriers at `at`, learned (the hour's
    median, else the day's); None, for the settings' model, when DELIVERY_LEARN_TRAVEL is off,
    no warehouse or moment is named, or the history is too thin."""
    if warehouse is None or at is None or not settings.DELIVERY_LEARN_TRAVEL:
        return None
    return learned_speeds(warehouse, at).at_hour(at.astimezone(BUSINESS_TIME_ZONE).hour)
