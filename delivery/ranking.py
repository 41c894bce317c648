"""Who is offered a task first: the candidate search and the scoring, each a replaceable
strategy. `NearestCouriers` finds the couriers who could take the task with a PostGIS
nearest-neighbour query, `with_routes` adds what the busy ones among them still have to do
(one more query), and a `Scorer` (by default `route_scorer.RouteAwareScorer`, or the class
named in settings.DELIVERY_SCORER) ranks them."""

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from common.geo import LonLat

from .courier_routes import CourierRoute, routes_of
from .models import (
    ACTIVE_TASK_STATUSES,
    Courier,
    CourierStatus,
    DeliveryOrder,
    DeliveryTask,
    OfferStatus,
    TaskOffer,
)
from .routing import Stop
from .rules import DispatchRules
from .selectors.dispatch import CARRIED_ORDER_STATUSES

# A score meaning "do not offer him this task".
NEVER = -math.inf


@dataclass(frozen=True)
class Candidate:
    """An active courier on shift near the warehouse, free to take the task (no pending offer, room
    for its orders)."""

    courier_id: int
    distance_m: float  # from his last position to the warehouse
    load: int  # orders he carries or is going to fetch now
    capacity: int
    # What he has accepted and not yet delivered (`with_routes`); None: nothing.
    route: CourierRoute | None = None


@dataclass(frozen=True)
class TaskAtHand:
    """What a scorer knows of the task being offered."""

    task_id: int
    orders: int
    minutes_left: float  # until the earliest promise among its orders
    # Minutes to spare at the tightest door if a courier were at the warehouse now: a
    # courier further than this (in minutes) breaks a promise.
    slack_minutes: float
    # Minutes until its orders are expected to be packed (0: all are): a courier who gets
    # there sooner waits, so he is no later than one who arrives just then.
    ready_in_minutes: float = 0.0
    # Where and when, for scorers that route it: its warehouse, its doors, the time now.
    warehouse_id: int | None = None
    warehouse: LonLat | None = None
    stops: tuple[Stop, ...] = ()
    now: datetime | None = None


class Scorer(Protocol):
    """Ranks candidates for a task: higher is better; `NEVER` (minus infinity): not offered
    at all. `default_scorer` builds the class named in settings.DELIVERY_SCORER with the
    current DispatchRules."""

    def score(self, candidate: Candidate, task: TaskAtHand) -> float: ...


class CandidateSearch(Protocol):
    def candidates(
        self,
        *,
        longitude: float,
        latitude: float,
        orders: int,
        task_id: int,
        cool_down_since: datetime | None,
        rules: DispatchRules,
    ) -> list[Candidate]: ...


class BalancedScorer:
    """A cost in minutes, scored as its negative: the courier's way to the warehouse, plus
    `minutes_per_carried_order` for each order he already carries (while there is time, work
    is spread: an idle courier beats a busy one a little nearer), plus `late_weight` times
    each minute by which he would break the tightest promise of the task (when time is short,
    the one who can still make it wins, busy or not)."""

    minutes_per_carried_order = 6.0
    late_weight = 3.0

    def __init__(self, rules: DispatchRules) -> None:
        self.rules = rules

    def score(self, candidate: Candidate, task: TaskAtHand) -> float:
        reach = self.rules.travel_minutes(candidate.distance_m)
        late = max(0.0, reach - task.slack_minutes)
        return -(reach + self.minutes_per_carried_order * candidate.load + self.late_weight * late)


class NearestIdleScorer:
    """The simplest sensible dispatch, kept as the yardstick of the others (bench/
    dispatch_quality reports every policy as a ratio to it): the nearest courier carrying
    nothing; a busy courier (orders carried, or a task accepted whose orders are still being
    packed) is never offered the task, however near."""

    def __init__(self, rules: DispatchRules) -> None:
        self.rules = rules

    def score(self, candidate: Candidate, task: TaskAtHand) -> float:
        idle = candidate.load == 0 and candidate.route is None
        return -candidate.distance_m if idle else NEVER


DEFAULT_SCORER = "delivery.route_scorer.RouteAwareScorer"


def default_scorer(rules: DispatchRules) -> Scorer:
    scorer: Scorer = import_string(settings.DELIVERY_SCORER or DEFAULT_SCORER)(rules)
    return scorer


def with_routes(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates, each with the route of the work he has accepted and not yet delivered
    (one query for them all). Every candidate is asked, not only those whose `load` counts
    orders: a task accepted while its orders are still being packed is work too."""
    routes = routes_of([candidate.courier_id for candidate in candidates])
    return [
        replace(candidate, route=routes[candidate.courier_id])
        if candidate.courier_id in routes
        else candidate
        for candidate in candidates
    ]


_COURIER = Courier._meta.db_table
_TASK = DeliveryTask._meta.db_table
_ORDER = DeliveryOrder._meta.db_table
_OFFER = TaskOffer._meta.db_table
_HERE = "ST_SetSRID(ST_MakePoint(%(longitude)s, %(latitude)s), 4326)::geography"

# The nearest couriers who could take the task, by walking the GiST index nearest first
# (ORDER BY <-> LIMIT); the radius is applied to those few afterwards. Put inside, as
# ST_DWithin, it tempts the planner to fetch every courier in the radius and sort them all.
CANDIDATES_SQL = f"""
SELECT id, distance_m, load, capacity
  FROM (
        SELECT c.id, ST_Distance(c.position, {_HERE}) AS distance_m, busy.load, c.capacity
          FROM {_COURIER} c
         CROSS JOIN LATERAL (
                SELECT count(*) AS load
                  FROM {_TASK} t
                  JOIN {_ORDER} o ON o.task_id = t.id
                 WHERE t.courier_id = c.id
                   AND t.status = ANY(%(active_tasks)s)
                   AND o.status = ANY(%(carried_orders)s)
               ) busy
         WHERE c.is_on_shift
           AND c.status = %(active)s
           AND busy.load + %(orders)s <= c.capacity
           AND NOT EXISTS (
                SELECT 1 FROM {_OFFER} p
                 WHERE p.courier_id = c.id AND p.status = %(pending)s)
           AND NOT EXISTS (
                SELECT 1 FROM {_OFFER} r
                 WHERE r.courier_id = c.id AND r.task_id = %(task_id)s
                   AND COALESCE(r.answered_at, r.expires_at) >= %(since)s)
         ORDER BY c.position <-> {_HERE}
         LIMIT %(limit)s
       ) nearest
 WHERE distance_m <= %(radius_m)s
 ORDER BY distance_m, id
"""


class NearestCouriers:
    """The DELIVERY_CANDIDATES couriers nearest the warehouse, within
    DELIVERY_SEARCH_RADIUS_M, who could take the task now: active and on shift, no offer waiting for
    their answer, room for its orders, no offer of this task ended since `cool_down_since`
    (None: no cool-down). The KNN operator (<->) walks the GiST index of Courier.position
    nearest first and stops at the limit."""

    def candidates(
        self,
        *,
        longitude: float,
        latitude: float,
        orders: int,
        task_id: int,
        cool_down_since: datetime | None,
        rules: DispatchRules,
    ) -> list[Candidate]:
        params = self.params(
            longitude=longitude,
            latitude=latitude,
            orders=orders,
            task_id=task_id,
            cool_down_since=cool_down_since,
            rules=rules,
        )
        with connection.cursor() as cursor:
            cursor.execute(CANDIDATES_SQL, params)
            return [Candidate(*row) for row in cursor.fetchall()]

    @staticmethod
    def params(
        *,
        longitude: float,
        latitude: float,
        orders: int,
        task_id: int,
        cool_down_since: datetime | None,
        rules: DispatchRules,
    ) -> dict[str, Any]:
        return {
            "longitude": longitude,
            "latitude": latitude,
            "radius_m": rules.search_radius_m,
            "orders": orders,
            "task_id": task_id,
            # No cool-down: every offer of this task ended before the end of time.
            "since": cool_down_since or datetime.max.replace(tzinfo=UTC),
            "limit": rules.candidates,
            "pending": OfferStatus.PENDING,
            "active": CourierStatus.ACTIVE,
            "active_tasks": list(ACTIVE_TASK_STATUSES),
            "carried_orders": list(CARRIED_ORDER_STATUSES),
        }
