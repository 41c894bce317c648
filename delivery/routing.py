"""Routes of a delivery task, pure geometry and arithmetic (no database): the widest angle of
a batch seen from the warehouse, the minutes an order needs to reach its door, and the slack
of the best visiting order of a batch's doors. Distances and travel times come from the
house's one model, `common.geo`, through `DispatchRules`."""

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from common.geo import LonLat, angle_between, bearing_degrees, metres_between

from .rules import DispatchRules

# A batch is routed by trying every visiting order; beyond this, nearest first.
MAX_PERMUTED_STOPS = 6


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


def minutes_to_door(
    start: LonLat, door: LonLat, *, rules: DispatchRules, at_warehouse: bool
) -> float:
    """Minutes an order needs from `start` to its door: loading first when it is still at
    the warehouse (`at_warehouse`), then the ride. The same arithmetic as the first stop of
    `route_slack_minutes`, so the warehouse page and dispatch judge a promise alike."""
    loading = rules.handling_minutes if at_warehouse else 0.0
    return loading + rules.travel_minutes(metres_between(start, door))


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
