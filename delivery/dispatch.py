"""Dispatch: who carries a packed order.

A packed order joins a delivery task: a new one, or an open task of the same warehouse going
the same way when the batch stays within a courier's capacity and every order still arrives
before its promise. A task is offered to one courier at a time: the nearest couriers on shift
are found with a PostGIS nearest-neighbour query, a `Scorer` ranks them, and the best gets an
offer for DELIVERY_OFFER_SECONDS. A decline or a time-out (a Celery countdown) moves the offer
to the next; when nobody is left the task waits UNASSIGNED, on the warehouse's page, for the
sweep or the manager's "dispatch again". The sweep also catches what a lost Celery message
left behind (an offer past its time, a packed order without a task), so every packed order
ends with a courier or visibly without one.

The scoring is a strategy: pass `scorer=` (or name a class in settings.DELIVERY_SCORER) to
replace `BalancedScorer`; the candidate search (`NearestCouriers`) can be replaced the same way.

Rows are locked in one order everywhere here: a task's orders, the task, its offer, then a
courier. While looking for a courier, courier rows are taken with SKIP LOCKED (a courier
being accepted or offered elsewhere at this moment is passed over), so two dispatchers never
give one courier two offers or two tasks; the database's one-pending-offer-per-courier
constraint is the last line of defence.
"""

import itertools
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import is_admin
from common.exceptions import RefusalKind

from . import realtime, tasks
from .exceptions import DeliveryError
from .models import (
    ACTIVE_TASK_STATUSES,
    Courier,
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    OfferStatus,
    TaskOffer,
    WarehouseStaff,
)

OPEN_TASK_STATUSES = (DeliveryTaskStatus.OFFERING, DeliveryTaskStatus.UNASSIGNED)
CARRIED_ORDER_STATUSES = (DeliveryOrderStatus.ASSIGNED, DeliveryOrderStatus.PICKED_UP)
EARTH_RADIUS_M = 6_371_008.8
# Streets are longer than the straight line between two points of a city.
DETOUR_FACTOR = 1.3
# A batch is routed by trying every visiting order; beyond this, nearest first.
MAX_PERMUTED_STOPS = 6
# A packed order whose dispatch message is still on its way is left to it by the sweep.
SWEEP_GRACE = timedelta(seconds=10)
SWEEP_BATCH = 200


# --- Refusals -------------------------------------------------------------------------------


class DispatchError(DeliveryError):
    default_message = gettext_lazy("The dispatch request was refused.")


class OfferNotFound(DispatchError):
    """Not the courier's own offer: not found, so others' offers are not confirmed to exist."""

    kind = RefusalKind.NOT_FOUND
    default_message = gettext_lazy("No such offer.")


class DispatchTaskNotFound(DispatchError):
    """Not a task of the manager's warehouse (or no such task)."""

    kind = RefusalKind.NOT_FOUND
    default_message = gettext_lazy("No such delivery task.")


class OfferExpired(DispatchError):
    kind = RefusalKind.CONFLICT
    default_message = gettext_lazy("This offer has expired; nothing was assigned to you.")


class OfferNoLongerOpen(DispatchError):
    kind = RefusalKind.CONFLICT
    default_message = gettext_lazy("This offer is no longer open.")


class CourierCannotTakeTask(DispatchError):
    """Off shift, or the task would take the courier over his capacity."""

    kind = RefusalKind.CONFLICT
    default_message = gettext_lazy("You cannot take this task now.")


class TaskAlreadyTaken(DispatchError):
    kind = RefusalKind.CONFLICT
    default_message = gettext_lazy("A courier has already taken this task.")


# --- Rules of thumb -------------------------------------------------------------------------


@dataclass(frozen=True)
class DispatchRules:
    """The numbers dispatch works with, read from settings at each call (tests change them).

    Travel times come from a simple speed model: straight-line distance times a detour factor
    at `speed_kmh` (an e-bike in city traffic), plus `handling_minutes` at each stop (loading
    at the warehouse, handing over at a door).
    """

    offer_seconds: int
    candidates: int
    search_radius_m: float
    speed_kmh: float = 15.0
    handling_minutes: float = 2.0
    # How long a courier not yet known is reckoned to need to reach the warehouse.
    pickup_minutes: float = 5.0
    batch_max_orders: int = 3
    batch_max_angle_degrees: float = 45.0
    # A courier is not offered a task again for this long after his last offer of it ended
    # (declined, expired or withdrawn).
    reoffer_after_minutes: float = 5.0

    def travel_minutes(self, metres: float) -> float:
        return metres * DETOUR_FACTOR / (self.speed_kmh * 1000 / 60)


def current_rules() -> DispatchRules:
    return DispatchRules(
        offer_seconds=settings.DELIVERY_OFFER_SECONDS,
        candidates=settings.DELIVERY_CANDIDATES,
        search_radius_m=settings.DELIVERY_SEARCH_RADIUS_M,
        speed_kmh=float(getattr(settings, "DELIVERY_COURIER_SPEED_KMH", 15)),
        handling_minutes=float(getattr(settings, "DELIVERY_HANDLING_MINUTES", 2)),
        pickup_minutes=float(getattr(settings, "DELIVERY_PICKUP_MINUTES", 5)),
        batch_max_orders=int(getattr(settings, "DELIVERY_BATCH_MAX_ORDERS", 3)),
        batch_max_angle_degrees=float(getattr(settings, "DELIVERY_BATCH_MAX_ANGLE_DEGREES", 45)),
        reoffer_after_minutes=float(getattr(settings, "DELIVERY_REOFFER_AFTER_MINUTES", 5)),
    )


# --- Geometry and routes --------------------------------------------------------------------

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


@dataclass(frozen=True)
class Stop:
    """A door to deliver to and the time promised there."""

    order_id: int
    point: LonLat
    promised_by: datetime

    @classmethod
    def of(cls, order: DeliveryOrder) -> "Stop":
        return cls(order.pk, (order.location.x, order.location.y), order.promised_by)


def route_slack_minutes(
    *, origin: LonLat, stops: list[Stop], leave_at: datetime, rules: DispatchRules
) -> float:
    """Leaving `origin` at `leave_at`, the minutes to spare at the tightest door on the best
    visiting order of `stops` (negative: some promise is broken whatever the order)."""
    if not stops:
        return math.inf
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


# --- Candidates and scoring (the replaceable strategy) ---------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A courier on shift near the warehouse, free to take the task (no pending offer, room
    for its orders)."""

    courier_id: int
    distance_m: float  # from his last position to the warehouse
    load: int  # orders he carries or is going to fetch now
    capacity: int


@dataclass(frozen=True)
class TaskAtHand:
    """What a scorer knows of the task being offered."""

    task_id: int
    orders: int
    minutes_left: float  # until the earliest promise among its orders
    # Minutes to spare at the tightest door if a courier were at the warehouse now: a
    # courier further than this (in minutes) breaks a promise.
    slack_minutes: float


class Scorer(Protocol):
    """Ranks candidates for a task: higher is better. `default_scorer` builds the class named
    in settings.DELIVERY_SCORER with the current DispatchRules."""

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


def default_scorer(rules: DispatchRules) -> Scorer:
    path = getattr(settings, "DELIVERY_SCORER", "")
    return import_string(path)(rules) if path else BalancedScorer(rules)


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
    DELIVERY_SEARCH_RADIUS_M, who could take the task now: on shift, no offer waiting for
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
    ) -> dict:
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
            "active_tasks": list(ACTIVE_TASK_STATUSES),
            "carried_orders": list(CARRIED_ORDER_STATUSES),
        }


# --- Reads ----------------------------------------------------------------------------------


def courier_load(courier_id: int) -> int:
    """Orders the courier carries or is going to fetch: those of his assigned and picked-up
    tasks not yet delivered. His load plus a task's orders may not exceed his capacity."""
    return DeliveryOrder.objects.filter(
        task__courier_id=courier_id,
        task__status__in=ACTIVE_TASK_STATUSES,
        status__in=CARRIED_ORDER_STATUSES,
    ).count()


def _warehouse_point(task: DeliveryTask) -> LonLat:
    location = task.warehouse.site.location
    return (location.x, location.y)


def _task_at_hand(
    task: DeliveryTask, orders: list[DeliveryOrder], *, now: datetime, rules: DispatchRules
) -> TaskAtHand:
    earliest = min(order.promised_by for order in orders)
    slack = route_slack_minutes(
        origin=_warehouse_point(task),
        stops=[Stop.of(order) for order in orders],
        leave_at=now + timedelta(minutes=rules.handling_minutes),
        rules=rules,
    )
    return TaskAtHand(
        task_id=task.pk,
        orders=len(orders),
        minutes_left=(earliest - now).total_seconds() / 60,
        slack_minutes=slack,
    )


# --- Writes ---------------------------------------------------------------------------------


def request_dispatch(order: DeliveryOrder) -> None:
    """Called inside the transaction that packs `order`: once it commits, a worker looks for a
    courier (a lost message is caught by the sweep)."""
    # robust: a broker that is down must not turn the committed packing into an error.
    transaction.on_commit(partial(tasks.dispatch_order.delay, order.pk), robust=True)


# What dispatch reads of an order and its warehouse (the zone polygon stays in the database).
DISPATCH_FIELDS = (
    "status",
    "task",
    "location",
    "promised_by",
    "warehouse",
    "warehouse__site",
    "warehouse__site__location",
)


def _lock_task(task_id: int, *, skip_locked: bool = False) -> DeliveryTask | None:
    return (
        DeliveryTask.objects.select_for_update(no_key=True, skip_locked=skip_locked, of=("self",))
        .select_related("warehouse__site")
        .defer("warehouse__delivery_zone")
        .filter(pk=task_id)
        .first()
    )


def _packed_orders(task: DeliveryTask) -> list[DeliveryOrder]:
    return list(
        DeliveryOrder.objects.filter(task=task, status=DeliveryOrderStatus.PACKED).order_by("pk")
    )


def _pending_offer(task: DeliveryTask) -> TaskOffer | None:
    return (
        TaskOffer.objects.select_for_update(no_key=True, of=("self",))
        .select_related("courier")
        .filter(task=task, status=OfferStatus.PENDING)
        .first()
    )


def _batch_task_for(
    order: DeliveryOrder, *, now: datetime, rules: DispatchRules
) -> tuple[DeliveryTask, TaskOffer | None] | None:
    """An open task of the order's warehouse it can join: not yet accepted, going the same
    way (every order within the angle of this one, seen from the warehouse), within the batch
    limit and the offered courier's room, and keeping every promise on the estimated route.
    Among several, the one whose direction is closest. Returned locked, with its pending offer
    (locked too) if it has one."""
    if rules.batch_max_orders < 2:
        return None
    by_task: dict[int, list[DeliveryOrder]] = {}
    for other in (
        DeliveryOrder.objects.filter(
            task__warehouse_id=order.warehouse_id,
            task__status__in=OPEN_TASK_STATUSES,
            status=DeliveryOrderStatus.PACKED,
        )
        .only("pk", "task_id", "location", "promised_by")
        .order_by()[:200]
    ):
        by_task.setdefault(other.task_id, []).append(other)
    origin = _point(order.warehouse.site.location)
    ranked = []
    for task_id, orders in by_task.items():
        widest = _widest_angle(origin, order, orders)
        if len(orders) < rules.batch_max_orders and widest <= rules.batch_max_angle_degrees:
            ranked.append((widest, task_id))
    for _widest, task_id in sorted(ranked):
        task = _lock_task(task_id, skip_locked=True)
        if task is None or task.status not in OPEN_TASK_STATUSES:
            continue  # being accepted or offered right now: not the moment to change it
        pending = _pending_offer(task)
        if _can_join(task, order, pending=pending, now=now, rules=rules):
            return task, pending
    return None


def _point(location) -> LonLat:
    return (location.x, location.y)


def _widest_angle(origin: LonLat, order: DeliveryOrder, others: list[DeliveryOrder]) -> float:
    """The widest angle, seen from the warehouse, between the order's door and the others'."""
    home = bearing_degrees(origin, _point(order.location))
    return max(angle_between(home, bearing_degrees(origin, _point(o.location))) for o in others)


def _can_join(
    task: DeliveryTask,
    order: DeliveryOrder,
    *,
    pending: TaskOffer | None,
    now: datetime,
    rules: DispatchRules,
) -> bool:
    """Checked again under the task's lock: the batch as it is now."""
    orders = _packed_orders(task)
    if not orders or len(orders) >= rules.batch_max_orders:
        return False
    origin = _warehouse_point(task)
    if _widest_angle(origin, order, orders) > rules.batch_max_angle_degrees:
        return False
    reach_minutes = rules.pickup_minutes
    if pending is not None:
        if courier_load(pending.courier_id) + len(orders) + 1 > pending.courier.capacity:
            return False
        reach_minutes = rules.travel_minutes(pending.distance_m)
    slack = route_slack_minutes(
        origin=origin,
        stops=[Stop.of(o) for o in [*orders, order]],
        leave_at=now + timedelta(minutes=reach_minutes + rules.handling_minutes),
        rules=rules,
    )
    return slack >= 0


def dispatch_order(
    *,
    order_id: int,
    now: datetime | None = None,
    scorer: Scorer | None = None,
    search: CandidateSearch | None = None,
) -> DeliveryTask | None:
    """A packed order gets its delivery task, and the task a courier's offer.

    The order joins an open task going its way when that keeps every promise (see
    `_batch_task_for`), else a new task is offered to the best candidate. Idempotent: an order
    already on a task returns that task; an order not packed (cancelled, unknown) gets None.
    """
    now = now or timezone.now()
    rules = current_rules()
    with transaction.atomic():
        order = (
            DeliveryOrder.objects.select_for_update(no_key=True, of=("self",))
            .select_related("warehouse__site")
            .only(*DISPATCH_FIELDS)
            .filter(pk=order_id)
            .first()
        )
        if order is None:
            return None
        if order.task_id is not None:
            return order.task
        if order.status != DeliveryOrderStatus.PACKED:
            return None
        joined = _batch_task_for(order, now=now, rules=rules)
        if joined is not None:
            task, pending = joined
            order.task = task
            order.save(update_fields=["task", "updated_at"])
            if pending is not None:
                realtime.push_offer(pending)  # the card now shows one order more
            else:
                _offer_next(task, now=now, rules=rules, scorer=scorer, search=search)
            return task
        task = DeliveryTask.objects.create(
            warehouse=order.warehouse, status=DeliveryTaskStatus.OFFERING
        )
        order.task = task
        order.save(update_fields=["task", "updated_at"])
        _offer_next(task, now=now, rules=rules, scorer=scorer, search=search, new_orders=[order])
    return task


def offer_next(
    *,
    task_id: int,
    now: datetime | None = None,
    scorer: Scorer | None = None,
    search: CandidateSearch | None = None,
) -> TaskOffer | None:
    """Offer an open task to the best candidate whose last offer of it (if any) ended more
    than DELIVERY_REOFFER_AFTER_MINUTES ago. Returns the new PENDING offer (the task is
    OFFERING), the one already pending, or None: nobody can take it (the task is UNASSIGNED)
    or it is no longer open."""
    now = now or timezone.now()
    rules = current_rules()
    with transaction.atomic():
        task = _lock_task(task_id)
        if task is None or task.status not in OPEN_TASK_STATUSES:
            return None
        return _offer_next(task, now=now, rules=rules, scorer=scorer, search=search)


def _offer_next(
    task: DeliveryTask,
    *,
    now: datetime,
    rules: DispatchRules,
    scorer: Scorer | None = None,
    search: CandidateSearch | None = None,
    cool_down: bool = True,
    new_orders: list[DeliveryOrder] | None = None,
) -> TaskOffer | None:
    """Caller holds the task's lock; the task is OFFERING or UNASSIGNED. `new_orders`: the
    orders of a task just made (it has no offer yet)."""
    if new_orders is not None:
        orders = new_orders
    else:
        pending = _pending_offer(task)
        if pending is not None:
            return pending
        orders = _packed_orders(task)
    if not orders:  # its orders were cancelled meanwhile
        _set_task_status(task, DeliveryTaskStatus.CANCELLED)
        return None
    at_hand = _task_at_hand(task, orders, now=now, rules=rules)
    scorer = scorer or default_scorer(rules)
    search = search or NearestCouriers()
    warehouse = task.warehouse.site.location
    candidates = search.candidates(
        longitude=warehouse.x,
        latitude=warehouse.y,
        orders=len(orders),
        task_id=task.pk,
        cool_down_since=now - timedelta(minutes=rules.reoffer_after_minutes) if cool_down else None,
        rules=rules,
    )
    ranked = sorted(
        ((scorer.score(candidate, at_hand), candidate) for candidate in candidates),
        key=lambda pair: (-pair[0], pair[1].distance_m, pair[1].courier_id),
    )
    for score, candidate in ranked:
        offer = _offer_to(task, candidate, score=score, orders=len(orders), now=now, rules=rules)
        if offer is not None:
            _set_task_status(task, DeliveryTaskStatus.OFFERING)
            return offer
    _set_task_status(task, DeliveryTaskStatus.UNASSIGNED)
    return None


def _set_task_status(task: DeliveryTask, status: str) -> None:
    if task.status != status:
        task.status = status
        task.save(update_fields=["status", "updated_at"])


# One statement takes the courier's row lock (SKIP LOCKED: a courier locked by another
# dispatcher or by his own accept is passed over) and writes the offer only if he is still on
# shift, has no offer waiting for his answer and has room for the task's orders. What can
# commit between the statement's snapshot and the lock is safe: another offer to him meets the
# one-pending-offer constraint (ON CONFLICT: nothing written); his accepting one needed a
# pending offer the snapshot still sees; going off shift is re-checked on the locked row.
_OFFER_IF_FREE_SQL = f"""
WITH courier AS (
        SELECT id, user_id, capacity
          FROM {_COURIER}
         WHERE id = %(courier)s AND is_on_shift
           FOR NO KEY UPDATE SKIP LOCKED
), offer AS (
        INSERT INTO {_OFFER}
               (task_id, courier_id, status, offered_at, expires_at, distance_m, score)
        SELECT %(task)s, courier.id, %(pending)s::varchar, %(offered_at)s, %(expires_at)s,
               %(distance_m)s, %(score)s
          FROM courier
         WHERE NOT EXISTS (
                SELECT 1 FROM {_OFFER} p
                 WHERE p.courier_id = courier.id AND p.status = %(pending)s::varchar)
           AND (SELECT count(*)
                  FROM {_TASK} t
                  JOIN {_ORDER} o ON o.task_id = t.id
                 WHERE t.courier_id = courier.id
                   AND t.status = ANY(%(active_tasks)s)
                   AND o.status = ANY(%(carried_orders)s)) + %(orders)s <= courier.capacity
        ON CONFLICT DO NOTHING
        RETURNING id
)
SELECT offer.id, courier.user_id FROM offer, courier
"""


def _offer_to(
    task: DeliveryTask,
    candidate: Candidate,
    *,
    score: float,
    orders: int,
    now: datetime,
    rules: DispatchRules,
) -> TaskOffer | None:
    """The candidate list was read without locks: the offer is written under the courier's
    lock, after checking again that he can take it (see _OFFER_IF_FREE_SQL)."""
    offer = TaskOffer(
        task=task,
        courier_id=candidate.courier_id,
        status=OfferStatus.PENDING,
        offered_at=now,
        expires_at=now + timedelta(seconds=rules.offer_seconds),
        distance_m=candidate.distance_m,
        score=score,
    )
    params = {
        "courier": candidate.courier_id,
        "task": task.pk,
        "orders": orders,
        "pending": OfferStatus.PENDING,
        "active_tasks": list(ACTIVE_TASK_STATUSES),
        "carried_orders": list(CARRIED_ORDER_STATUSES),
        "offered_at": offer.offered_at,
        "expires_at": offer.expires_at,
        "distance_m": offer.distance_m,
        "score": offer.score,
    }
    with connection.cursor() as cursor:
        cursor.execute(_OFFER_IF_FREE_SQL, params)
        inserted = cursor.fetchone()
    if inserted is None:
        return None
    offer.pk, user_id = inserted
    offer.courier = Courier(pk=candidate.courier_id, user_id=user_id)  # as the push needs him
    _schedule_expiry(offer, seconds=rules.offer_seconds)
    realtime.push_offer(offer)
    return offer


def _schedule_expiry(offer: TaskOffer, *, seconds: float) -> None:
    # One second late rather than early: an early run finds the offer not yet due. robust: a
    # lost expiry is caught by the sweep, and must not turn the committed offer into an error.
    transaction.on_commit(
        partial(tasks.expire_offer.apply_async, (offer.pk,), countdown=max(0, seconds) + 1),
        robust=True,
    )


def _own_offer(courier: Courier, offer_id) -> TaskOffer:
    offer = TaskOffer.objects.filter(pk=offer_id, courier_id=courier.pk).first()
    if offer is None:
        raise OfferNotFound()
    return offer


def _close_offer(offer: TaskOffer, status: str, *, answered_at: datetime | None = None) -> None:
    offer.status = status
    offer.answered_at = answered_at
    offer.save(update_fields=["status", "answered_at"])
    realtime.push_offer(offer)


def accept_offer(*, courier: Courier, offer_id: int) -> DeliveryTask:
    """The courier takes the task offered to him: the task is ASSIGNED to him and its orders
    too (they tell their consumers). Only his own pending offer: another's is not found
    (OfferNotFound, 404). An offer past its time is refused (OfferExpired, 409) even when its
    countdown has not run yet: it expires now and moves on, nothing is assigned to him. His
    capacity is checked again under his row's lock. Accepting an offer he already accepted
    returns its task (a retried tap)."""
    now = timezone.now()
    rules = current_rules()
    seen = _own_offer(courier, offer_id)
    if seen.status != OfferStatus.PENDING:  # answered already: nothing to lock
        return _answered(seen)
    refusal: DispatchError | None = None
    with transaction.atomic():
        # The orders first, then their task: the order cancel_order takes them in.
        list(
            DeliveryOrder.objects.select_for_update(no_key=True)
            .filter(task_id=seen.task_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        task = _lock_task(seen.task_id)
        offer = TaskOffer.objects.select_for_update(no_key=True).get(pk=seen.pk)
        offer.courier = courier
        if offer.status != OfferStatus.PENDING:  # answered meanwhile (a double tap)
            return _answered(offer)
        if now >= offer.expires_at:
            _close_offer(offer, OfferStatus.EXPIRED)
            _offer_next(task, now=now, rules=rules)
            refusal = OfferExpired()
        else:
            refusal = _assign(task, offer, courier=courier, now=now, rules=rules)
    if refusal is not None:
        raise refusal
    return task


def _answered(offer: TaskOffer) -> DeliveryTask:
    """An offer no longer pending: its task when he accepted it, else the refusal."""
    if offer.status == OfferStatus.ACCEPTED:
        return DeliveryTask.objects.get(pk=offer.task_id)
    if offer.status == OfferStatus.EXPIRED:
        raise OfferExpired()
    raise OfferNoLongerOpen()


def _assign(
    task: DeliveryTask, offer: TaskOffer, *, courier: Courier, now: datetime, rules: DispatchRules
) -> DispatchError | None:
    """Caller holds the task's and the offer's locks. Returns the refusal, if any, after
    moving the offer on (so the refusal's transaction still commits that)."""
    me = Courier.objects.select_for_update(no_key=True).get(pk=courier.pk)
    orders = list(
        DeliveryOrder.objects.select_for_update(no_key=True, of=("self",))
        .filter(task=task, status=DeliveryOrderStatus.PACKED)
        .select_related("warehouse")
        .order_by("pk")
    )
    if not me.is_on_shift:
        return CourierCannotTakeTask(_("Start your shift to take tasks."))
    load = courier_load(me.pk)
    if load + len(orders) > me.capacity:
        _close_offer(offer, OfferStatus.WITHDRAWN)
        _offer_next(task, now=now, rules=rules)
        return CourierCannotTakeTask(
            _(
                "You carry %(load)s orders; %(orders)s more would be over your limit of %(capacity)s."
            )
            % {"load": load, "orders": len(orders), "capacity": me.capacity}
        )
    _close_offer(offer, OfferStatus.ACCEPTED, answered_at=now)
    task.courier = me
    task.status = DeliveryTaskStatus.ASSIGNED
    task.accepted_at = now
    task.save(update_fields=["courier", "status", "accepted_at", "updated_at"])
    for order in orders:
        order.status = DeliveryOrderStatus.ASSIGNED
        order.assigned_at = now
        order.save(update_fields=["status", "assigned_at", "updated_at"])
        realtime.push_order(order)
    realtime.push_task(task)
    return None


def decline_offer(*, courier: Courier, offer_id: int) -> TaskOffer:
    """The courier says no: his pending offer is DECLINED and the task goes to the next
    candidate. Only his own offer (another's: OfferNotFound). Declining an offer already
    declined, expired or withdrawn changes nothing; one he accepted is refused (409)."""
    now = timezone.now()
    rules = current_rules()
    with transaction.atomic():
        seen = _own_offer(courier, offer_id)
        task = _lock_task(seen.task_id)
        offer = TaskOffer.objects.select_for_update(no_key=True).get(pk=seen.pk)
        offer.courier = courier
        if offer.status == OfferStatus.ACCEPTED:
            raise OfferNoLongerOpen(_("You have accepted this task already."))
        if offer.status != OfferStatus.PENDING:
            return offer
        _close_offer(offer, OfferStatus.DECLINED, answered_at=now)
        if task.status in OPEN_TASK_STATUSES:
            _offer_next(task, now=now, rules=rules)
    return offer


def expire_offer(*, offer_id: int, now: datetime | None = None) -> TaskOffer | None:
    """The offer's time ran out: if still PENDING and due it EXPIRES and the task goes to the
    next candidate. Harmless when run twice, after an answer, or for an unknown offer; a run
    before the offer is due schedules itself again for the remaining time."""
    now = now or timezone.now()
    rules = current_rules()
    task_id = TaskOffer.objects.filter(pk=offer_id).values_list("task_id", flat=True).first()
    if task_id is None:
        return None
    with transaction.atomic():
        task = _lock_task(task_id)
        offer = (
            TaskOffer.objects.select_for_update(no_key=True, of=("self",))
            .select_related("courier")
            .get(pk=offer_id)
        )
        if offer.status != OfferStatus.PENDING:
            return offer
        if now < offer.expires_at:
            _schedule_expiry(offer, seconds=(offer.expires_at - now).total_seconds())
            return offer
        _close_offer(offer, OfferStatus.EXPIRED)
        if task.status in OPEN_TASK_STATUSES:
            _offer_next(task, now=now, rules=rules)
    return offer


def tasks_visible_to(user):
    """The delivery tasks a user may dispatch again: his warehouse's (a manager), all (an
    admin), none otherwise."""
    if is_admin(user):
        return DeliveryTask.objects.all()
    post = WarehouseStaff.objects.filter(user_id=getattr(user, "pk", None)).first()
    if post is None:
        return DeliveryTask.objects.none()
    return DeliveryTask.objects.filter(warehouse_id=post.warehouse_id)


def redispatch(*, by, task_id: int) -> DeliveryTask:
    """The warehouse's "dispatch again": an unassigned task is offered again, to every courier
    near (those who declined it earlier included). Only the manager of the task's warehouse or
    an admin (another's task: DispatchTaskNotFound, 404). A task being offered is left as it
    is; one a courier has taken, or cancelled, is refused (409)."""
    now = timezone.now()
    rules = current_rules()
    with transaction.atomic():
        if not tasks_visible_to(by).filter(pk=task_id).exists():
            raise DispatchTaskNotFound()
        task = _lock_task(task_id)
        if task.status == DeliveryTaskStatus.CANCELLED:
            raise TaskAlreadyTaken(_("This task was cancelled."))
        if task.status not in OPEN_TASK_STATUSES:
            raise TaskAlreadyTaken()
        _offer_next(task, now=now, rules=rules, cool_down=False)
    return task


def order_cancelled(order: DeliveryOrder) -> None:
    """The shop is cancelling `order` (orders.cancel_order, inside its transaction, holding the
    order's lock). The order leaves its task; a task left without orders is CANCELLED and its
    pending offer WITHDRAWN (the courier's card goes away). Refused (TaskAlreadyTaken, 409)
    once a courier has accepted the task. Saves only the order's `task`."""
    # Read from the row, not the instance: the caller's copy may predate its dispatch.
    task_id = DeliveryOrder.objects.filter(pk=order.pk).values_list("task_id", flat=True).first()
    task = _lock_task(task_id) if task_id is not None else None
    if task is None:
        return
    if task.status not in (*OPEN_TASK_STATUSES, DeliveryTaskStatus.CANCELLED):
        raise TaskAlreadyTaken(_("A courier has already accepted this order."))
    order.task = None
    order.save(update_fields=["task", "updated_at"])
    pending = _pending_offer(task)
    if (
        DeliveryOrder.objects.filter(task=task)
        .exclude(status=DeliveryOrderStatus.CANCELLED)
        .exists()
    ):
        if pending is not None:
            realtime.push_offer(pending)  # the card now shows one order fewer
        return
    if pending is not None:
        _close_offer(pending, OfferStatus.WITHDRAWN)
    _set_task_status(task, DeliveryTaskStatus.CANCELLED)


@dataclass(frozen=True)
class SweepResult:
    expired_offers: int
    dispatched_orders: int
    offered_tasks: int
    unassigned_tasks: int

    def as_dict(self) -> dict:
        return asdict(self)


def sweep(now: datetime | None = None) -> SweepResult:
    """Dispatch's safety net (Celery beat, every 20 s), each step its own short transaction:

    1. open tasks without a pending offer (UNASSIGNED ones, or one a crash left) are offered
       again, to couriers whose last offer of them ended DELIVERY_REOFFER_AFTER_MINUTES ago;
    2. pending offers past their time expire (their countdown message was lost) and move on;
    3. packed orders without a task (their dispatch message was lost) are dispatched.

    Bounded batches; what is left waits for the next run."""
    now = now or timezone.now()
    stalled = list(
        DeliveryTask.objects.filter(status__in=OPEN_TASK_STATUSES)
        .exclude(offers__status=OfferStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    offered = unassigned = 0
    for task_id in stalled:
        if offer_next(task_id=task_id, now=now) is not None:
            offered += 1
        elif DeliveryTask.objects.filter(pk=task_id, status=DeliveryTaskStatus.UNASSIGNED).exists():
            unassigned += 1
    overdue = list(
        TaskOffer.objects.filter(status=OfferStatus.PENDING, expires_at__lte=now)
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    expired = 0
    for offer_id in overdue:
        offer = expire_offer(offer_id=offer_id, now=now)
        expired += offer is not None and offer.status == OfferStatus.EXPIRED
    orphans = list(
        DeliveryOrder.objects.filter(status=DeliveryOrderStatus.PACKED, task__isnull=True)
        .filter(Q(packed_at__isnull=True) | Q(packed_at__lte=now - SWEEP_GRACE))
        .order_by("promised_by", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    dispatched = sum(dispatch_order(order_id=pk, now=now) is not None for pk in orphans)
    return SweepResult(
        expired_offers=expired,
        dispatched_orders=dispatched,
        offered_tasks=offered,
        unassigned_tasks=unassigned,
    )
