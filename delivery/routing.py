"""Routes of a delivery task, pure geometry and arithmetic (no database): the widest angle of
a batch seen from the warehouse, the minutes an order needs to reach its door, and the slack
of the best visiting order of a batch's doors. Distances and travel times come from the
house's one model, `common.geo`, through `DispatchRules`."""

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
    if len(stops) > MAX_PERMUTED_STOPS:
        sequence = sorted(stops, key=lambda stop: metres_between(origin, stop.point))
        return _slack_of(origin, sequence, leave_at=leave_at, rules=rules)
    # Every visiting order, depth first on a table of ride minutes (index 0: the origin),
    # dropping a partial order as soon as it cannot beat the best found (720 orders of six
    # doors took 20 ms when each was ridden out with fresh distances).
    points = [origin, *(stop.point for stop in stops)]
    ride = [[rules.travel_minutes(metres_between(a, b)) for b in points] for a in points]
    due = [(stop.promised_by - leave_at).total_seconds() / 60 for stop in stops]
    best = -math.inf

    def visit(here: int, minutes: float, tightest: float, left: list[int]) -> None:
        nonlocal best
        if not left:
            best = max(best, tightest)
            return
        # No door is reached sooner than by riding straight to it from here.
        if min(due[d] - minutes - ride[here][d + 1] for d in left) <= best:
            return
        # The most urgent door first: a good order found early prunes the rest.
        for door in sorted(left, key=lambda d: due[d] - ride[here][d + 1]):
            at = minutes + ride[here][door + 1]
            slack = min(tightest, due[door] - at)
            if slack > best:
                visit(door + 1, at + rules.handling_minutes, slack, [d for d in left if d != door])

    visit(0, 0.0, math.inf, list(range(len(stops))))
    return best


def _slack_of(
    origin: LonLat, sequence: list[Stop], *, leave_at: datetime, rules: DispatchRules
) -> float:
    """The minutes to spare at the tightest door, visiting `sequence` in its order."""
    at, here, tightest = leave_at, origin, math.inf
    for stop in sequence:
        at += timedelta(minutes=rules.travel_minutes(metres_between(here, stop.point)))
        tightest = min(tightest, (stop.promised_by - at).total_seconds() / 60)
        at += timedelta(minutes=rules.handling_minutes)
        here = stop.point
    return tightest
