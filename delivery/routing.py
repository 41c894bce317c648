"""Routes of a delivery task, pure geometry and arithmetic (no database): distances and
bearings between points, the widest angle of a batch seen from the warehouse, and the slack
of the best visiting order of a batch's doors."""

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .rules import DispatchRules

# A batch is routed by trying every visiting order; beyond this, nearest first.
MAX_PERMUTED_STOPS = 6
EARTH_RADIUS_M = 6_371_008.8

LonLat = tuple[float, float]


def metres_between(start: LonLat, end: LonLat) -> float:
    """Great-circle distance (haversine) between two WGS 84 points, in metres."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*start, *end))
    hav = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(hav)))


def bearing_degrees(start: LonLat, end: LonLat) -> float:
    """Compass bearing from `start` to `end`: 0 north, 90 east."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*start, *end))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(y, x)) % 360


def angle_between(first: float, second: float) -> float:
    """The smaller angle between two bearings, 0–180 degrees."""
    difference = abs(first - second) % 360
    return min(difference, 360 - difference)


def widest_angle(origin: LonLat, door: LonLat, others: Iterable[LonLat]) -> float:
    """The widest angle, seen from `origin` (the warehouse), between `door` and the others."""
    home = bearing_degrees(origin, door)
    return max(angle_between(home, bearing_degrees(origin, other)) for other in others)


@dataclass(frozen=True)
class Stop:
    """A door to deliver to and the time promised there."""

    order_id: int
    point: LonLat
    promised_by: datetime


def route_slack_minutes(
    *, origin: LonLat, stops: list[Stop], leave_at: datetime, rules: DispatchRules
) -> float:
    """Leaving `origin` at `leave_at`, the minutes to spare at the tightest door on the best
    visiting order of `stops` (negative: some promise is broken whatever the order)."""
    if not stops:
        return math.inf
    sequences: Iterable[Iterable[Stop]]
    if len(stops) <= MAX_PERMUTED_STOPS:
        sequences = itertools.permutations(stops)
    else:
        sequences = [sorted(stops, key=lambda stop: metres_between(origin, stop.point))]
    best = -math.inf
    for sequence in sequences:
        at, here, tightest = leave_at, origin, math.inf
        for stop in sequence:
            at += timedelta(minutes=rules.travel_minutes(metres_between(here, stop.point)))
            tightest = min(tightest, (stop.promised_by - at).total_seconds() / 60)
            at += timedelta(minutes=rules.handling_minutes)
            here = stop.point
        best = max(best, tightest)
    return best
