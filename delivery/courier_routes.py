"""What a busy courier still has to do, and when he will be done: his accepted tasks read in one
query for a list of couriers (`routes_of`), then pure arithmetic on the house's travel model
(`plan_route`). Dispatch's scorer uses it to charge a busy courier the time until he is free,
and to see whether a new task joins the trip he is already making."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection

from coldchain.models import Site
from common.geo import LonLat, metres_between

from .models import (
    ACTIVE_TASK_STATUSES,
    Courier,
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    FrontWarehouse,
)
from .routing import Stop
from .rules import DispatchRules


@dataclass(frozen=True)
class Pickup:
    """Orders of his accepted tasks waiting for him at one warehouse (tasks not picked up)."""

    warehouse_id: int
    point: LonLat
    stops: tuple[Stop, ...]


@dataclass(frozen=True)
class CourierRoute:
    """A courier's remaining work: the doors of the orders in his bag (tasks picked up), then
    each warehouse where orders wait for him, in the order he accepted them, with their doors."""

    position: LonLat
    bag: tuple[Stop, ...] = ()
    pickups: tuple[Pickup, ...] = ()

    @property
    def orders(self) -> int:
        return len(self.bag) + sum(len(pickup.stops) for pickup in self.pickups)

    def pickup_at(self, warehouse_id: int) -> Pickup | None:
        return next((p for p in self.pickups if p.warehouse_id == warehouse_id), None)


@dataclass(frozen=True)
class RoutePlan:
    """When a courier is done with his route, if he rides it as `plan_route` says."""

    free_in_minutes: float  # until his last door is handed over
    last_door: LonLat
    # Minutes until he first reaches each warehouse where orders wait for him.
    arrivals: dict[int, float] = field(default_factory=dict)


def plan_route(route: CourierRoute, *, rules: DispatchRules) -> RoutePlan:
    """The bag's doors first (nearest first, from where he is), then each warehouse in turn:
    the ride there, loading, its doors nearest first. Rides by `rules.travel_minutes`, and
    `rules.handling_minutes` at every stop."""
    minutes, here = _doors(route.bag, start=route.position, rules=rules)
    arrivals: dict[int, float] = {}
    for pickup in route.pickups:
        minutes += rules.travel_minutes(metres_between(here, pickup.point))
        arrivals.setdefault(pickup.warehouse_id, minutes)
        minutes += rules.handling_minutes
        ridden, here = _doors(pickup.stops, start=pickup.point, rules=rules)
        minutes += ridden
    return RoutePlan(free_in_minutes=minutes, last_door=here, arrivals=arrivals)


def _doors(stops: Iterable[Stop], *, start: LonLat, rules: DispatchRules) -> tuple[float, LonLat]:
    """Minutes to visit `stops` nearest first from `start`, and where that ends."""
    left = list(stops)
    minutes, here = 0.0, start
    while left:
        metres, nearest = min(
            ((metres_between(here, stop.point), stop) for stop in left), key=lambda m: m[0]
        )
        minutes += rules.travel_minutes(metres) + rules.handling_minutes
        here = nearest.point
        left.remove(nearest)
    return minutes, here


_TASK = DeliveryTask._meta.db_table
_ORDER = DeliveryOrder._meta.db_table
_COURIER = Courier._meta.db_table
_WAREHOUSE = FrontWarehouse._meta.db_table
_SITE = Site._meta.db_table

# Every order still to deliver on the couriers' accepted tasks, whatever its own status says:
# an order on an accepted task is waiting at the warehouse until the task is picked up, and in
# the bag after (an order may still be PLACED or PACKED while its courier is on his way).
ROUTES_SQL = f"""
SELECT t.courier_id, ST_X(c.position::geometry), ST_Y(c.position::geometry),
       t.status, t.warehouse_id, ST_X(s.location), ST_Y(s.location),
       o.id, ST_X(o.location), ST_Y(o.location), o.promised_by
  FROM {_TASK} t
  JOIN {_COURIER} c ON c.id = t.courier_id
  JOIN {_WAREHOUSE} w ON w.id = t.warehouse_id
  JOIN {_SITE} s ON s.id = w.site_id
  JOIN {_ORDER} o ON o.task_id = t.id
 WHERE t.courier_id = ANY(%(couriers)s)
   AND t.status = ANY(%(active_tasks)s)
   AND o.status <> ALL(%(finished)s)
   AND c.position IS NOT NULL
 ORDER BY t.courier_id, t.accepted_at, t.id, o.id
"""


def routes_of(courier_ids: list[int]) -> dict[int, CourierRoute]:
    """The routes of those couriers who have accepted work left (one query); a courier without
    any is absent."""
    if not courier_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            ROUTES_SQL,
            {
                "couriers": courier_ids,
                "active_tasks": list(ACTIVE_TASK_STATUSES),
                "finished": [DeliveryOrderStatus.DELIVERED, DeliveryOrderStatus.CANCELLED],
            },
        )
        rows = cursor.fetchall()
    positions: dict[int, LonLat] = {}
    bags: dict[int, list[Stop]] = {}
    # Per courier, per warehouse in the order first accepted: (point, doors).
    waiting: dict[int, dict[int, tuple[LonLat, list[Stop]]]] = {}
    for courier_id, x, y, status, warehouse_id, wx, wy, order_id, ox, oy, promised_by in rows:
        positions[courier_id] = (x, y)
        stop = Stop(order_id, (ox, oy), promised_by)
        if status == DeliveryTaskStatus.PICKED_UP:
            bags.setdefault(courier_id, []).append(stop)
        else:
            at = waiting.setdefault(courier_id, {}).setdefault(warehouse_id, ((wx, wy), []))
            at[1].append(stop)
    return {
        courier_id: CourierRoute(
            position=position,
            bag=tuple(bags.get(courier_id, ())),
            pickups=tuple(
                Pickup(warehouse_id, point, tuple(stops))
                for warehouse_id, (point, stops) in waiting.get(courier_id, {}).items()
            ),
        )
        for courier_id, position in positions.items()
    }
