"""Dispatch: who carries an order, and when he is asked.

When he is asked: with DELIVERY_DISPATCH_AHEAD (the default) placing an order schedules its
dispatch for the moment a courier, riding the usual time to the warehouse, would arrive as
its packing is expected to end (`selectors.packing`): the ride overlaps the packing instead of
following it. Packing still asks for dispatch (an order packed sooner than predicted, or whose
message was lost, goes then; a second ask changes nothing). Without the setting, an order
looks for a courier only once packed. The courier cannot pick a task up before every order of
it is packed (`services.couriers.pick_up`).

An order waiting at the warehouse (packed, or placed and being packed) joins a delivery task:
a new one, or an open task of the same warehouse going the same way when the batch stays
within a courier's capacity and every order still arrives before its promise. The task is then
offered to couriers one at a time (`services.offers`). The sweep catches what a lost Celery
message left behind (an offer past its time, a packed order without a task), so every packed
order ends with a courier or visibly without one.

The scoring is a strategy: pass `scorer=` (or name a class in settings.DELIVERY_SCORER) to
replace `route_scorer.RouteAwareScorer`; the candidate search (`ranking.NearestCouriers`) can
be replaced the same way.

Rows are locked in one order everywhere in dispatch: a task's orders, the task, its offer,
then a courier (see `services.offers`).
"""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from common.geo import LonLat

from .. import realtime, tasks
from ..exceptions import DispatchTaskNotFound, TaskAlreadyTaken
from ..models import (
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskEvent,
    DeliveryTaskStatus,
    OfferStatus,
    TaskOffer,
)
from ..ranking import CandidateSearch, Scorer
from ..routing import Stop, route_slack_minutes, widest_angle
from ..rules import DispatchRules, current_rules
from ..selectors.dispatch import (
    OPEN_TASK_STATUSES,
    WAITING_ORDER_STATUSES,
    courier_load,
    tasks_visible_to,
    waiting_orders_of,
)
from ..selectors.packing import dispatch_delay_seconds, ready_in_minutes
from . import offers
from .transitions import Why, first_step_sql

# A packed order whose dispatch message is still on its way is left to it by the sweep.
SWEEP_GRACE = timedelta(seconds=10)
SWEEP_BATCH = 200

# What dispatch reads of an order and its warehouse (the zone polygon stays in the database).
DISPATCH_FIELDS = (
    "status",
    "task",
    "location",
    "promised_by",
    "placed_at",
    "packed_at",
    "warehouse",
    "warehouse__site",
    "warehouse__site__location",
)


def request_dispatch(order: DeliveryOrder) -> None:
    """Called inside the transaction that packs `order`: once it commits, a worker looks for a
    courier (a lost message is caught by the sweep)."""
    # robust: a broker that is down must not turn the committed packing into an error.
    transaction.on_commit(partial(tasks.dispatch_order.delay, order.pk), robust=True)


def schedule_dispatch(order: DeliveryOrder, *, now: datetime) -> float | None:
    """Called inside the transaction that places `order`: with DELIVERY_DISPATCH_AHEAD, once
    it commits a worker looks for a courier after `dispatch_delay_seconds` (when one would
    reach the warehouse as packing is expected to end). Returns that delay, None when the
    setting is off (the order waits for its packing). A lost message costs only the head
    start: packing asks again."""
    if not settings.DELIVERY_DISPATCH_AHEAD:
        return None
    delay = dispatch_delay_seconds(order.warehouse_id, rules=current_rules(), now=now)
    # robust: a broker that is down must not turn the committed order into an error.
    transaction.on_commit(
        partial(tasks.dispatch_order.apply_async, (order.pk,), countdown=delay), robust=True
    )
    return delay


def _point(location: Point) -> LonLat:
    return (location.x, location.y)


def _stop(order: DeliveryOrder) -> Stop:
    return Stop(order.pk, _point(order.location), order.promised_by)


def _widest_angle(origin: LonLat, order: DeliveryOrder, others: list[DeliveryOrder]) -> float:
    """The widest angle, seen from the warehouse, between the order's door and the others'."""
    return widest_angle(origin, _point(order.location), (_point(o.location) for o in others))


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
            status__in=WAITING_ORDER_STATUSES,
        )
        .only("pk", "task_id", "location", "promised_by")
        .order_by()[:200]
    ):
        assert other.task_id is not None  # filtered on its task
        by_task.setdefault(other.task_id, []).append(other)
    origin = _point(order.warehouse.site.location)
    ranked = []
    for task_id, orders in by_task.items():
        widest = _widest_angle(origin, order, orders)
        if len(orders) < rules.batch_max_orders and widest <= rules.batch_max_angle_degrees:
            ranked.append((widest, task_id))
    for _widest, task_id in sorted(ranked):
        task = offers.lock_task(task_id, skip_locked=True)
        if task is None or task.status not in OPEN_TASK_STATUSES:
            continue  # being accepted or offered right now: not the moment to change it
        pending = offers.lock_pending_offer(task)
        if _can_join(task, order, pending=pending, now=now, rules=rules):
            return task, pending
    return None


def _can_join(
    task: DeliveryTask,
    order: DeliveryOrder,
    *,
    pending: TaskOffer | None,
    now: datetime,
    rules: DispatchRules,
) -> bool:
    """Checked again under the task's lock: the batch as it is now."""
    orders = waiting_orders_of(task)
    if not orders or len(orders) >= rules.batch_max_orders:
        return False
    origin = _point(task.warehouse.site.location)
    if _widest_angle(origin, order, orders) > rules.batch_max_angle_degrees:
        return False
    reach_minutes = rules.pickup_minutes
    if pending is not None:
        if courier_load(pending.courier_id) + len(orders) + 1 > pending.courier.capacity:
            return False
        reach_minutes = rules.travel_minutes(pending.distance_m)
    # The courier leaves once he is there and the whole batch is packed.
    ready_in = ready_in_minutes([*orders, order], warehouse_id=task.warehouse_id, now=now)
    slack = route_slack_minutes(
        origin=origin,
        stops=[_stop(o) for o in [*orders, order]],
        leave_at=now + timedelta(minutes=max(reach_minutes, ready_in) + rules.handling_minutes),
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
    """An order waiting at the warehouse gets its delivery task, and the task a courier's
    offer: a packed order, or (DELIVERY_DISPATCH_AHEAD) a placed one still being packed.

    The order joins an open task going its way when that keeps every promise (see
    `_batch_task_for`), else a new task is offered to the best candidate. Idempotent: an order
    already on a task returns that task; any other order (cancelled, unknown, placed while
    the setting is off) gets None.
    """
    now = now or timezone.now()
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
        if not _may_dispatch(order):
            return None
        rules = current_rules(warehouse=order.warehouse, at=now)
        joined = _batch_task_for(order, now=now, rules=rules)
        if joined is not None:
            task, pending = joined
            order.task = task
            order.save(update_fields=["task", "updated_at"])
            if pending is not None:
                realtime.push_offer(pending)  # the card now shows one order more
            else:
                offers.offer_task(task, now=now, rules=rules, scorer=scorer, search=search)
            return task
        task = _new_task_for(order)
        offers.offer_task(
            task, now=now, rules=rules, scorer=scorer, search=search, new_orders=[order]
        )
    return task


_TASK = DeliveryTask._meta.db_table
_ORDER = DeliveryOrder._meta.db_table

# A new task, its first step of history and the order joining it, in one round trip instead
# of three (dispatch's hot path): what DeliveryTask.objects.create, its first step of history
# (`transitions.first_step_sql`) and order.save(update_fields=["task", "updated_at"]) would write.
_NEW_TASK_SQL = f"""
WITH task AS (
        INSERT INTO {_TASK} (created_at, updated_at, warehouse_id, status, earnings,
                             earnings_currency)
        VALUES (%(at)s, %(at)s, %(warehouse)s, %(status)s, %(earnings)s, %(currency)s)
        RETURNING id, status
), made AS (
        {first_step_sql(DeliveryTaskEvent, link="task", rows="task")}
), joined AS (
        UPDATE {_ORDER} SET task_id = task.id, updated_at = %(at)s
          FROM task
         WHERE {_ORDER}.id = %(order)s
)
SELECT id FROM task
"""


def _new_task_for(order: DeliveryOrder) -> DeliveryTask:
    """A new task being offered, of the order's warehouse, with the order on it."""
    at = timezone.now()
    task = DeliveryTask(warehouse=order.warehouse, status=DeliveryTaskStatus.OFFERING)
    with connection.cursor() as cursor:
        cursor.execute(
            _NEW_TASK_SQL,
            {
                "at": at,
                "warehouse": order.warehouse_id,
                "status": task.status,
                "earnings": task.earnings.amount,
                "currency": str(task.earnings.currency),
                "order": order.pk,
            },
        )
        (task.pk,) = cursor.fetchone()
    task.created_at = task.updated_at = at
    task._state.adding = False  # as if read from the database
    task._state.db = connection.alias
    order.task = task
    order.updated_at = at
    return task


def _may_dispatch(order: DeliveryOrder) -> bool:
    if order.status == DeliveryOrderStatus.PACKED:
        return True
    return order.status == DeliveryOrderStatus.PLACED and settings.DELIVERY_DISPATCH_AHEAD


def redispatch(*, by: User | AnonymousUser, task_id: int) -> DeliveryTask:
    """The warehouse's "dispatch again": an unassigned task is offered again, to every courier
    near (those who declined it earlier included). Only the manager of the task's warehouse or
    an admin (another's task: DispatchTaskNotFound). A task being offered is left as it is;
    one a courier has taken, or cancelled, is refused (TaskAlreadyTaken)."""
    now = timezone.now()
    with transaction.atomic():
        if not tasks_visible_to(by).filter(pk=task_id).exists():
            raise DispatchTaskNotFound()
        task = offers.lock_task(task_id)
        if task is None:  # deleted since it was seen
            raise DispatchTaskNotFound()
        if task.status == DeliveryTaskStatus.CANCELLED:
            raise TaskAlreadyTaken(_("This task was cancelled."))
        if task.status not in OPEN_TASK_STATUSES:
            raise TaskAlreadyTaken()
        manager = by if isinstance(by, User) else None  # tasks_visible_to let only users by
        rules = current_rules(warehouse=task.warehouse, at=now)
        offers.offer_task(task, now=now, rules=rules, cool_down=False, by=manager)
    return task


def order_cancelled(order: DeliveryOrder) -> None:
    """The shop is cancelling `order` (orders.cancel_order, inside its transaction, holding the
    order's lock). The order leaves its task; a task left without orders is CANCELLED and its
    pending offer WITHDRAWN (the courier's card goes away). Refused (TaskAlreadyTaken) once a
    courier has accepted the task. Saves only the order's `task`."""
    # Read from the row, not the instance: the caller's copy may predate its dispatch.
    task_id = DeliveryOrder.objects.filter(pk=order.pk).values_list("task_id", flat=True).first()
    task = offers.lock_task(task_id) if task_id is not None else None
    if task is None:
        return
    if task.status not in (*OPEN_TASK_STATUSES, DeliveryTaskStatus.CANCELLED):
        raise TaskAlreadyTaken(_("A courier has already accepted this order."))
    order.task = None
    order.save(update_fields=["task", "updated_at"])
    pending = offers.lock_pending_offer(task)
    if (
        DeliveryOrder.objects.filter(task=task)
        .exclude(status=DeliveryOrderStatus.CANCELLED)
        .exists()
    ):
        if pending is not None:
            realtime.push_offer(pending)  # the card now shows one order fewer
        return
    if pending is not None:
        offers.close_offer(pending, OfferStatus.WITHDRAWN, why=Why.ORDERS_CANCELLED)
    offers.set_task_status(task, DeliveryTaskStatus.CANCELLED, why=Why.ORDERS_CANCELLED)


def _overdue_placed(now: datetime) -> list[int]:
    """Placed orders without a task whose scheduled dispatch is past (its message was lost),
    oldest first."""
    rules = current_rules()
    delays: dict[int, timedelta] = {}
    overdue = []
    for pk, warehouse_id, placed_at in (
        DeliveryOrder.objects.filter(
            status=DeliveryOrderStatus.PLACED,
            task__isnull=True,
            placed_at__lte=now - SWEEP_GRACE,
        )
        .order_by("placed_at", "pk")
        .values_list("pk", "warehouse_id", "placed_at")[:SWEEP_BATCH]
    ):
        if warehouse_id not in delays:
            seconds = dispatch_delay_seconds(warehouse_id, rules=rules, now=now)
            delays[warehouse_id] = timedelta(seconds=seconds) + SWEEP_GRACE
        if placed_at + delays[warehouse_id] <= now:
            overdue.append(pk)
    return overdue


@dataclass(frozen=True)
class SweepResult:
    expired_offers: int
    dispatched_orders: int
    offered_tasks: int
    unassigned_tasks: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sweep(now: datetime | None = None) -> SweepResult:
    """Dispatch's safety net (Celery beat, every 20 s), each step its own short transaction:

    1. open tasks without a pending offer (UNASSIGNED ones, or one a crash left) are offered
       again, to couriers whose last offer of them ended DELIVERY_REOFFER_AFTER_MINUTES ago;
    2. pending offers past their time expire (their countdown message was lost) and move on;
    3. packed orders without a task (their dispatch message was lost) are dispatched;
    4. with DELIVERY_DISPATCH_AHEAD, placed orders without a task whose dispatch was due
       (`schedule_dispatch`'s delay ago, and the grace) are dispatched.

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
        if offers.offer_next(task_id=task_id, now=now) is not None:
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
        offer = offers.expire_offer(offer_id=offer_id, now=now)
        expired += offer is not None and offer.status == OfferStatus.EXPIRED
    orphans = list(
        DeliveryOrder.objects.filter(status=DeliveryOrderStatus.PACKED, task__isnull=True)
        .filter(Q(packed_at__isnull=True) | Q(packed_at__lte=now - SWEEP_GRACE))
        .order_by("promised_by", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    dispatched = sum(dispatch_order(order_id=pk, now=now) is not None for pk in orphans)
    if settings.DELIVERY_DISPATCH_AHEAD:
        dispatched += sum(
            dispatch_order(order_id=pk, now=now) is not None for pk in _overdue_placed(now)
        )
    return SweepResult(
        expired_offers=expired,
        dispatched_orders=dispatched,
        offered_tasks=offered,
        unassigned_tasks=unassigned,
    )
