"""Offers of delivery tasks to couriers: offering a task to the best candidate, and the
courier's answers (accept, decline) or the offer's time running out.

A task is offered to one courier at a time: the candidates (`ranking.NearestCouriers`) are
ranked by a `Scorer` and the best gets an offer for DELIVERY_OFFER_SECONDS. A decline or a
time-out (a Celery countdown) moves the offer to the next; when nobody is left the task
waits UNASSIGNED, on the warehouse's page, for the sweep or the manager's "dispatch again".

Rows are locked in one order everywhere in dispatch: a task's orders, the task, its offer,
then a courier. While looking for a courier, courier rows are taken with SKIP LOCKED (a
courier being accepted or offered elsewhere at this moment is passed over), so two
dispatchers never give one courier two offers or two tasks; the database's
one-pending-offer-per-courier constraint is the last line of defence.
"""

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from common.metrics import count, timed

from .. import realtime, tasks
from ..exceptions import (
    CourierCannotTakeTask,
    CourierNotActive,
    DeliveryError,
    OfferExpired,
    OfferNoLongerOpen,
    OfferNotFound,
)
from ..metrics import DISPATCH_SECONDS, OFFERS_CLOSED, OFFERS_MADE
from ..models import (
    ACTIVE_TASK_STATUSES,
    Courier,
    CourierStatus,
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    OfferStatus,
    TaskOffer,
    TaskOfferEvent,
)
from ..ranking import (
    NEVER,
    Candidate,
    CandidateSearch,
    NearestCouriers,
    Scorer,
    TaskAtHand,
    default_scorer,
    with_routes,
)
from ..routing import Stop, route_slack_minutes
from ..rules import DispatchRules, current_rules
from ..selectors.dispatch import (
    CARRIED_ORDER_STATUSES,
    OPEN_TASK_STATUSES,
    WAITING_ORDER_STATUSES,
    courier_load,
    waiting_orders_of,
)
from ..selectors.packing import ready_in_minutes
from .transitions import Why, first_step_sql, move_offer, move_orders, move_task

_COURIER = Courier._meta.db_table
_TASK = DeliveryTask._meta.db_table
_ORDER = DeliveryOrder._meta.db_table
_OFFER = TaskOffer._meta.db_table


# --- Locks shared with services.dispatch ----------------------------------------------------


def lock_task(task_id: int, *, skip_locked: bool = False) -> DeliveryTask | None:
    return (
        DeliveryTask.objects.select_for_update(no_key=True, skip_locked=skip_locked, of=("self",))
        .select_related("warehouse__site")
        .defer("warehouse__delivery_zone")
        .filter(pk=task_id)
        .first()
    )


def lock_pending_offer(task: DeliveryTask) -> TaskOffer | None:
    return (
        TaskOffer.objects.select_for_update(no_key=True, of=("self",))
        .select_related("courier")
        .filter(task=task, status=OfferStatus.PENDING)
        .first()
    )


# --- Offering -------------------------------------------------------------------------------


def _task_at_hand(
    task: DeliveryTask, orders: list[DeliveryOrder], *, now: datetime, rules: DispatchRules
) -> TaskAtHand:
    earliest = min(order.promised_by for order in orders)
    location = task.warehouse.site.location
    stops = tuple(
        Stop(order.pk, (order.location.x, order.location.y), order.promised_by) for order in orders
    )
    slack = route_slack_minutes(
        origin=(location.x, location.y),
        stops=list(stops),
        leave_at=now + timedelta(minutes=rules.handling_minutes),
        rules=rules,
    )
    return TaskAtHand(
        task_id=task.pk,
        orders=len(orders),
        minutes_left=(earliest - now).total_seconds() / 60,
        slack_minutes=slack,
        ready_in_minutes=ready_in_minutes(orders, warehouse_id=task.warehouse_id, now=now),
        warehouse_id=task.warehouse_id,
        warehouse=(location.x, location.y),
        stops=stops,
        now=now,
    )


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
    with transaction.atomic():
        task = lock_task(task_id)
        if task is None or task.status not in OPEN_TASK_STATUSES:
            return None
        rules = current_rules(warehouse=task.warehouse, at=now)
        return offer_task(task, now=now, rules=rules, scorer=scorer, search=search)


@timed(DISPATCH_SECONDS)
def offer_task(
    task: DeliveryTask,
    *,
    now: datetime,
    rules: DispatchRules,
    scorer: Scorer | None = None,
    search: CandidateSearch | None = None,
    cool_down: bool = True,
    new_orders: list[DeliveryOrder] | None = None,
    by: User | None = None,
) -> TaskOffer | None:
    """Caller holds the task's lock; the task is OFFERING or UNASSIGNED. `new_orders`: the
    orders of a task just made (it has no offer yet). `by`: the manager who asked for it
    again (the task's history names him), None when dispatch offers it on its own."""
    if new_orders is not None:
        orders = new_orders
    else:
        pending = lock_pending_offer(task)
        if pending is not None:
            return pending
        orders = waiting_orders_of(task)
    if not orders:  # its orders were cancelled meanwhile
        set_task_status(task, DeliveryTaskStatus.CANCELLED, why=Why.ORDERS_CANCELLED)
        return None
    at_hand = _task_at_hand(task, orders, now=now, rules=rules)
    scorer = scorer or default_scorer(rules)
    search = search or NearestCouriers()
    warehouse = task.warehouse.site.location
    found = search.candidates(
        longitude=warehouse.x,
        latitude=warehouse.y,
        orders=len(orders),
        task_id=task.pk,
        cool_down_since=now - timedelta(minutes=rules.reoffer_after_minutes) if cool_down else None,
        rules=rules,
    )
    candidates = with_routes(found)
    scored = ((scorer.score(candidate, at_hand), candidate) for candidate in candidates)
    ranked = sorted(
        ((score, candidate) for score, candidate in scored if score != NEVER),
        key=lambda pair: (-pair[0], pair[1].distance_m, pair[1].courier_id),
    )
    for score, candidate in ranked:
        offer = _offer_to(task, candidate, score=score, orders=len(orders), now=now, rules=rules)
        if offer is not None:
            why = Why.OFFERED_AGAIN if by is not None else Why.OFFERED
            set_task_status(task, DeliveryTaskStatus.OFFERING, by=by, why=why)
            return offer
    set_task_status(task, DeliveryTaskStatus.UNASSIGNED, by=by, why=Why.NO_COURIER)
    return None


def set_task_status(
    task: DeliveryTask, status: str, *, by: User | None = None, why: str = ""
) -> None:
    """Move an open task (offered, unassigned) on; staying where it is records nothing."""
    if task.status != status:
        move_task(task, status, by=by, why=why)


# One statement takes the courier's row lock (SKIP LOCKED: a courier locked by another
# dispatcher or by his own accept is passed over) and writes the offer only if he is still
# active and on shift, has no offer waiting for his answer and has room for the task's orders. What can
# commit between the statement's snapshot and the lock is safe: another offer to him meets the
# one-pending-offer constraint (ON CONFLICT: nothing written); his accepting one needed a
# pending offer the snapshot still sees; going off shift or being deactivated is re-checked
# on the locked row. The offer's first step of history (`transitions.first_step_sql`) is written
# by the same statement.
_OFFER_IF_FREE_SQL = f"""
WITH courier AS (
        SELECT id, user_id, capacity
          FROM {_COURIER}
         WHERE id = %(courier)s AND is_on_shift AND status = %(active)s
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
        RETURNING id, status
), made AS (
        {first_step_sql(TaskOfferEvent, link="offer", rows="offer")}
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
    params: dict[str, Any] = {
        "courier": candidate.courier_id,
        "task": task.pk,
        "orders": orders,
        "pending": OfferStatus.PENDING,
        "active": CourierStatus.ACTIVE,
        "active_tasks": list(ACTIVE_TASK_STATUSES),
        "carried_orders": list(CARRIED_ORDER_STATUSES),
        "offered_at": offer.offered_at,
        "expires_at": offer.expires_at,
        "distance_m": offer.distance_m,
        "score": offer.score,
        "at": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_OFFER_IF_FREE_SQL, params)
        inserted = cursor.fetchone()
    if inserted is None:
        return None
    offer.pk, user_id = inserted
    offer.courier = Courier(pk=candidate.courier_id, user_id=user_id)  # as the push needs him
    count(OFFERS_MADE)
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


# --- Answers --------------------------------------------------------------------------------


def _own_offer(courier: Courier, offer_id: int) -> TaskOffer:
    offer = TaskOffer.objects.filter(pk=offer_id, courier_id=courier.pk).first()
    if offer is None:
        raise OfferNotFound()
    return offer


def close_offer(
    offer: TaskOffer,
    status: str,
    *,
    answered_at: datetime | None = None,
    by: User | None = None,
    why: str = "",
) -> None:
    """The pending offer is answered (`by` the courier) or ended by dispatch (`by` None)."""
    offer.answered_at = answered_at
    move_offer(offer, status, by=by, why=why, fields=["answered_at"])
    count(OFFERS_CLOSED, status=status)
    realtime.push_offer(offer)


def accept_offer(*, courier: Courier, offer_id: int) -> DeliveryTask:
    """The courier takes the task offered to him: the task is ASSIGNED to him and its orders
    too, packed ones and placed ones still being packed alike (they tell their consumers;
    he picks the task up once all are packed). Only his own pending offer: another's is not
    found (OfferNotFound). An offer past its time is refused (OfferExpired) even when its countdown
    has not run yet: it expires now and moves on, nothing is assigned to him. His capacity is
    checked again under his row's lock. Accepting an offer he already accepted returns its
    task (a retried tap)."""
    now = timezone.now()
    seen = _own_offer(courier, offer_id)
    if seen.status != OfferStatus.PENDING:  # answered already: nothing to lock
        return _answered(seen)
    refusal: DeliveryError | None = None
    with transaction.atomic():
        # The orders first, then their task: the order cancel_order takes them in.
        list(
            DeliveryOrder.objects.select_for_update(no_key=True)
            .filter(task_id=seen.task_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        task = lock_task(seen.task_id)
        if task is None:  # deleted meanwhile, and its offers with it
            raise OfferNotFound()
        rules = current_rules(warehouse=task.warehouse, at=now)
        offer = TaskOffer.objects.select_for_update(no_key=True).get(pk=seen.pk)
        offer.courier = courier
        if offer.status != OfferStatus.PENDING:  # answered meanwhile (a double tap)
            return _answered(offer)
        if now >= offer.expires_at:
            close_offer(offer, OfferStatus.EXPIRED, why=Why.OFFER_RAN_OUT)
            offer_task(task, now=now, rules=rules)
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
) -> DeliveryError | None:
    """Caller holds the task's and the offer's locks. Returns the refusal, if any, after
    moving the offer on (so the refusal's transaction still commits that)."""
    me = Courier.objects.select_for_update(no_key=True).get(pk=courier.pk)
    orders = list(
        DeliveryOrder.objects.select_for_update(no_key=True, of=("self",))
        .filter(task=task, status__in=WAITING_ORDER_STATUSES)
        .select_related("warehouse")
        .order_by("pk")
    )
    if me.status != CourierStatus.ACTIVE:
        # Deactivated while the offer was on his screen: it goes to someone else.
        close_offer(offer, OfferStatus.WITHDRAWN, why=Why.COURIER_DEACTIVATED)
        offer_task(task, now=now, rules=rules)
        return CourierNotActive()
    if not me.is_on_shift:
        return CourierCannotTakeTask(_("Start your shift to take tasks."))
    load = courier_load(me.pk)
    if load + len(orders) > me.capacity:
        close_offer(offer, OfferStatus.WITHDRAWN, why=Why.OVER_CAPACITY)
        offer_task(task, now=now, rules=rules)
        return CourierCannotTakeTask(
            _(
                "You carry %(load)s orders; %(orders)s more would be over your limit of %(capacity)s."
            )
            % {"load": load, "orders": len(orders), "capacity": me.capacity}
        )
    close_offer(offer, OfferStatus.ACCEPTED, answered_at=now, by=me.user)
    task.courier = me
    task.accepted_at = now
    move_task(task, DeliveryTaskStatus.ASSIGNED, by=me.user, fields=["courier", "accepted_at"])
    move_orders(orders, DeliveryOrderStatus.ASSIGNED, by=me.user, values={"assigned_at": now})
    for order in orders:
        realtime.push_order(order)
    realtime.push_task(task)
    return None


def decline_offer(*, courier: Courier, offer_id: int) -> TaskOffer:
    """The courier says no: his pending offer is DECLINED and the task goes to the next
    candidate. Only his own offer (another's: OfferNotFound). Declining an offer already
    declined, expired or withdrawn changes nothing; one he accepted is refused
    (OfferNoLongerOpen)."""
    now = timezone.now()
    with transaction.atomic():
        seen = _own_offer(courier, offer_id)
        task = lock_task(seen.task_id)
        if task is None:  # deleted meanwhile, and its offers with it
            raise OfferNotFound()
        rules = current_rules(warehouse=task.warehouse, at=now)
        offer = TaskOffer.objects.select_for_update(no_key=True).get(pk=seen.pk)
        offer.courier = courier
        if offer.status == OfferStatus.ACCEPTED:
            raise OfferNoLongerOpen(_("You have accepted this task already."))
        if offer.status != OfferStatus.PENDING:
            return offer
        close_offer(offer, OfferStatus.DECLINED, answered_at=now, by=courier.user)
        if task.status in OPEN_TASK_STATUSES:
            offer_task(task, now=now, rules=rules)
    return offer


def expire_offer(*, offer_id: int, now: datetime | None = None) -> TaskOffer | None:
    """The offer's time ran out: if still PENDING and due it EXPIRES and the task goes to the
    next candidate. Harmless when run twice, after an answer, or for an unknown offer; a run
    before the offer is due schedules itself again for the remaining time."""
    now = now or timezone.now()
    task_id = TaskOffer.objects.filter(pk=offer_id).values_list("task_id", flat=True).first()
    if task_id is None:
        return None
    with transaction.atomic():
        task = lock_task(task_id)
        if task is None:  # deleted meanwhile, and its offers with it
            return None
        rules = current_rules(warehouse=task.warehouse, at=now)
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
        close_offer(offer, OfferStatus.EXPIRED, why=Why.OFFER_RAN_OUT)
        if task.status in OPEN_TASK_STATUSES:
            offer_task(task, now=now, rules=rules)
    return offer


def withdraw_offers_to(*, courier_id: int, why: str) -> int:
    """Every offer waiting for the courier's answer is WITHDRAWN (his card goes away) and its
    task offered to the next candidate; each in its own transaction, locking the task and
    the offer in dispatch's order. Returns how many were withdrawn. Harmless when run twice.
    Called once the courier can no longer be offered anything (deactivated), so no new offer
    can appear behind it."""
    now = timezone.now()
    withdrawn = 0
    waiting = TaskOffer.objects.filter(courier_id=courier_id, status=OfferStatus.PENDING)
    for offer_id, task_id in waiting.values_list("pk", "task_id"):
        with transaction.atomic():
            task = lock_task(task_id)
            if task is None:  # deleted meanwhile, and its offers with it
                continue
            rules = current_rules(warehouse=task.warehouse, at=now)
            offer = (
                TaskOffer.objects.select_for_update(no_key=True, of=("self",))
                .select_related("courier")
                .get(pk=offer_id)
            )
            if offer.status != OfferStatus.PENDING:  # answered or expired meanwhile
                continue
            close_offer(offer, OfferStatus.WITHDRAWN, why=why)
            withdrawn += 1
            if task.status in OPEN_TASK_STATUSES:
                offer_task(task, now=now, rules=rules)
    return withdrawn
