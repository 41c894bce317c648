"""Dispatch's default scorer: a courier is charged the minutes until he can be at the warehouse
for this task, reckoned along the route he is already riding, and a busy courier is offered a
further task only when it joins that route.

Why. Replayed on public meal-delivery instances (about 250,000 orders, issue 16), the earlier
`ranking.BalancedScorer` delivered later than sending each order to the nearest idle courier
(mean click-to-door 56.7 min against 53.5; 64 % late against 55 %). It charged 6 minutes per
order a courier carried and measured his ride from where he was, so a busy courier looked
nearly as cheap as an idle one: 73 % of tasks went to couriers already carrying orders, and
those orders waited behind the current trip, 28 minutes after being ready against 3 for orders
given to an idle courier. The same replay showed that batching itself helps. So:

- An idle courier costs his ride to the warehouse.
- A busy courier costs the time until he is free, not his distance now: his bag's doors
  nearest first from where he is, then each warehouse where accepted orders wait for him and
  their doors, rides by the DispatchRules travel model plus `handling_minutes` at every stop
  (`courier_routes.plan_route`); then the ride from his last door to this warehouse.
- Lateness against the task's tightest promise is weighted as before (`late_weight`, 3 per
  minute late): when time is short the one who can still make it wins.
- One task at a time, as the couriers' page says. A busy courier is offered a further task only
  when it JOINS his route: he has accepted a task at this same warehouse and not picked it up
  yet, his orders and the new ones fit his capacity, and, leaving the warehouse when he gets
  there (plus loading), the best visiting order of all those doors keeps every promise
  (`routing.route_slack_minutes`). He then costs only the minutes until he gets there: he is
  coming anyway, and the shared trip spares another courier a ride. Otherwise he is not offered
  it at all (`ranking.NEVER`).

Queueing a task behind a busy courier's route (he takes it when he is free) is not allowed by
default. It is `QueueingRouteAwareScorer` (DELIVERY_SCORER=delivery.route_scorer.
QueueingRouteAwareScorer), which offers it to him only when his cost (free time plus the ride
from his last door) keeps the promise, and ranks him against the idle couriers by that cost.
Why not by default: it is the pattern that produced the 28-minute waits; it rests on an
estimate of a whole remaining route, where every ride compounds the travel model's error (the
replay found the model's couriers 1.7 to 2.3 times slower than real ones), against one ride for
an idle courier; and an accepted task is not offered again when someone frees up sooner, so a
wrong estimate cannot be undone. A task nobody idle can take waits UNASSIGNED and the sweep
offers it again every 20 seconds to whoever is actually free. bench/dispatch_quality measures
both on the same days.

Measured (bench/dispatch_quality, 12 generated days, 744 orders, through the real services, with
dispatch timed ahead of packing and the learned travel model): mean click-to-door 20.7 minutes
against 28.1 for the nearest idle courier (0.74; light load 0.85, medium 0.71, heavy 0.72), late
10.9 % against 25.7 %, the bag waiting 6.0 minutes for its courier against 15.0. On two days with
8 couriers at one warehouse (where the nearest idle courier is hard to beat) 18.0 against 19.6
minutes at medium load, 1 order in 86 late against none.
"""

from datetime import timedelta

from common.geo import metres_between

from .courier_routes import CourierRoute, RoutePlan, plan_route
from .ranking import NEVER, Candidate, TaskAtHand
from .routing import route_slack_minutes
from .rules import DispatchRules


class RouteAwareScorer:
    """A cost in minutes, scored as its negative (see the module's docstring): an idle
    courier's ride to the warehouse, a joining courier's minutes until he gets there, plus
    `late_weight` for each minute past the task's tightest promise; a busy courier whose route
    the task does not join is not offered it."""

    late_weight = 3.0
    # Offer a task to a busy courier to take once his route is done (see the module docstring).
    queue_behind_route = False

    def __init__(self, rules: DispatchRules) -> None:
        self.rules = rules

    def score(self, candidate: Candidate, task: TaskAtHand) -> float:
        route = candidate.route
        if route is None:
            if candidate.load:  # busy, but his route was not read: nothing to judge it by
                return NEVER
            return -self._with_lateness(self.rules.travel_minutes(candidate.distance_m), task)
        plan = plan_route(route, rules=self.rules)
        joining = self.minutes_to_join(candidate, route, plan, task)
        if joining is not None:
            return -joining
        if not self.queue_behind_route or task.warehouse is None:
            return NEVER
        reach = plan.free_in_minutes + self.rules.travel_minutes(
            metres_between(plan.last_door, task.warehouse)
        )
        return NEVER if max(reach, task.ready_in_minutes) > task.slack_minutes else -reach

    def _with_lateness(self, reach: float, task: TaskAtHand) -> float:
        # He leaves when he is there and the bag is packed, whichever comes last.
        leaves_in = max(reach, task.ready_in_minutes)
        return reach + self.late_weight * max(0.0, leaves_in - task.slack_minutes)

    def minutes_to_join(
        self, candidate: Candidate, route: CourierRoute, plan: RoutePlan, task: TaskAtHand
    ) -> float | None:
        """Minutes until the courier reaches the task's warehouse when the task joins his
        route there (see the module docstring); None when it does not."""
        if task.warehouse_id is None or task.now is None:
            return None
        pickup = route.pickup_at(task.warehouse_id)
        if pickup is None:
            return None
        if max(candidate.load, route.orders) + task.orders > candidate.capacity:
            return None
        arrival = plan.arrivals[task.warehouse_id]
        slack = route_slack_minutes(
            origin=pickup.point,
            stops=[*pickup.stops, *task.stops],
            leave_at=task.now
            + timedelta(minutes=max(arrival, task.ready_in_minutes) + self.rules.handling_minutes),
            rules=self.rules,
        )
        return arrival if slack >= 0 else None


class QueueingRouteAwareScorer(RouteAwareScorer):
    """`RouteAwareScorer`, and a busy courier whose route the task does not join may still be
    offered it, to take when he is free, if his free time plus the ride from his last door
    keeps the promise; he is ranked against the idle couriers by that cost."""

    queue_behind_route = True
