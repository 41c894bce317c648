"""Every move of a consumer order's, a delivery task's and a task offer's status goes through
here: the machine's table (`ORDER_MOVES`, `TASK_MOVES`, `OFFER_MOVES`) is checked, the status
is written and an event row records the move (who, when, from, to, why), in the caller's
transaction. A move the table does not allow is refused with `InvalidTransition`
(common.state_machine) and changes nothing. The services keep their own friendlier refusals
(and their "already done, nothing to change" answers) in front of these calls; the table is
the last word.

`by` is the user who acted, None when the platform did (dispatch, an expiry, the sweep).
`why` is free text (a cancellation's reason) or one of the `Why` phrases, stored untranslated
and translated when a page shows it.
"""

from collections.abc import Sequence
from typing import TypeVar, cast

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import User
from common.state_machine import StatusEvent, Transitions

from ..models import (
    OFFER_MOVES,
    ORDER_MOVES,
    TASK_MOVES,
    DeliveryOrder,
    DeliveryOrderEvent,
    DeliveryTask,
    DeliveryTaskEvent,
    TaskOffer,
    TaskOfferEvent,
)

MAX_WHY = 300


class Why:
    """The platform's reasons, marked for translation and translated where they are shown."""

    BACKFILLED = gettext_noop("Recorded before the history was kept.")
    NO_COURIER = gettext_noop("No courier near could take it.")
    OFFERED = gettext_noop("Offered to a courier.")
    OFFERED_AGAIN = gettext_noop("Offered again by the warehouse.")
    ORDERS_CANCELLED = gettext_noop("Its orders were cancelled.")
    OFFER_RAN_OUT = gettext_noop("Not answered in time.")
    OVER_CAPACITY = gettext_noop("The courier had no room for it.")
    LAST_DELIVERED = gettext_noop("Its last order was delivered.")
    BY_CODE = gettext_noop("The consumer's code was given.")
    BY_PHOTO = gettext_noop("A photo was left of the delivery at the door.")
    COURIER_DEACTIVATED = gettext_noop("The courier was deactivated.")
    PACKED_COURIER_COMING = gettext_noop("Packed; its courier is on the way.")


Row = TypeVar("Row", DeliveryOrder, DeliveryTask, TaskOffer)
Event = TypeVar("Event", bound=StatusEvent)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("status moves are written inside the caller's transaction")


def _stamp_fields(row: models.Model) -> list[str]:
    return ["updated_at"] if any(f.name == "updated_at" for f in row._meta.fields) else []


def _move(
    row: Row,
    to: str,
    *,
    table: Transitions,
    event: type[Event],
    link: str,
    by: User | None,
    why: str,
    fields: Sequence[str],
) -> Event:
    _require_transaction()
    table.check(row.status, to)
    before = row.status
    row.status = to
    row.save(update_fields=["status", *fields, *_stamp_fields(row)])
    step = _event(event, link=link, row=row, before=before, to=to, by=by, why=why)
    step.save(force_insert=True)
    return step


def _event(
    event: type[Event], *, link: str, row: Row, before: str, to: str, by: User | None, why: str
) -> Event:
    return event(
        **{link: row}, from_status=before, to_status=to, actor=by, reason=(why or "")[:MAX_WHY]
    )


def _move_many(
    rows: Sequence[Row],
    to: str,
    *,
    table: Transitions,
    event: type[Event],
    link: str,
    by: User | None,
    why: str,
    values: dict,
) -> list[Event]:
    """One UPDATE and one INSERT for many rows of one kind, each checked against the table
    first: one forbidden move refuses them all, before anything is written."""
    _require_transaction()
    if not rows:
        return []
    for row in rows:
        table.check(row.status, to)
    model = type(rows[0])
    stamps = {"updated_at": timezone.now()} if _stamp_fields(rows[0]) else {}
    model.objects.filter(pk__in=[row.pk for row in rows]).update(status=to, **values, **stamps)
    events = []
    for row in rows:
        events.append(_event(event, link=link, row=row, before=row.status, to=to, by=by, why=why))
        row.status = to
        for name, value in {**values, **stamps}.items():
            setattr(row, name, value)
    return event._default_manager.bulk_create(events)


def _begin(row: Row, *, event: type[Event], link: str, by: User | None, why: str) -> Event:
    _require_transaction()
    step = _event(event, link=link, row=row, before="", to=row.status, by=by, why=why)
    step.save(force_insert=True)
    return step


def first_step_sql(event: type[StatusEvent], *, link: str, rows: str) -> str:
    """`_begin` as SQL, for a statement that writes new rows itself (dispatch's hot path, one
    round trip instead of two): an INSERT … SELECT of the first step of each row of the CTE
    named `rows` (its columns `id` and `status`), from nothing to its status, by the platform,
    at the parameter %(at)s."""
    table = event._meta.db_table
    column = cast(models.Field, event._meta.get_field(link)).column
    return (
        f"INSERT INTO {table} ({column}, from_status, to_status, actor_id, reason, at)"
        f" SELECT id, '', status, NULL, '', %(at)s FROM {rows}"
    )


# --- Consumer orders ------------------------------------------------------------------------


def order_placed(order: DeliveryOrder, *, by: User | None, why: str = "") -> DeliveryOrderEvent:
    """The first step of a new order's history (from nothing to its first status)."""
    return _begin(order, event=DeliveryOrderEvent, link="order", by=by, why=why)


def move_order(
    order: DeliveryOrder,
    to: str,
    *,
    by: User | None,
    why: str = "",
    fields: Sequence[str] = (),
) -> DeliveryOrderEvent:
    """Move one order to `to` (saving `fields` set by the caller with it) and record it."""
    return _move(
        order,
        to,
        table=ORDER_MOVES,
        event=DeliveryOrderEvent,
        link="order",
        by=by,
        why=why,
        fields=fields,
    )


def note_order(
    order: DeliveryOrder, *, by: User | None, why: str, fields: Sequence[str] = ()
) -> DeliveryOrderEvent:
    """A step of the order's life that leaves its status where it is (packing an order whose
    courier is already on the way): `fields` saved, and an event from and to its status, so
    the history still tells who did it and when."""
    _require_transaction()
    order.save(update_fields=[*fields, *_stamp_fields(order)])
    step = _event(
        DeliveryOrderEvent,
        link="order",
        row=order,
        before=order.status,
        to=order.status,
        by=by,
        why=why,
    )
    step.save(force_insert=True)
    return step


def move_orders(
    orders: Sequence[DeliveryOrder],
    to: str,
    *,
    by: User | None,
    why: str = "",
    values: dict | None = None,
) -> list[DeliveryOrderEvent]:
    """Move several orders to `to` in one statement (with `values`, e.g. a timestamp, on each
    row and its instance), one event each; all or none."""
    return _move_many(
        orders,
        to,
        table=ORDER_MOVES,
        event=DeliveryOrderEvent,
        link="order",
        by=by,
        why=why,
        values=values or {},
    )


# --- Delivery tasks -------------------------------------------------------------------------


def move_task(
    task: DeliveryTask,
    to: str,
    *,
    by: User | None,
    why: str = "",
    fields: Sequence[str] = (),
) -> DeliveryTaskEvent:
    return _move(
        task,
        to,
        table=TASK_MOVES,
        event=DeliveryTaskEvent,
        link="task",
        by=by,
        why=why,
        fields=fields,
    )


# --- Task offers ----------------------------------------------------------------------------


def move_offer(
    offer: TaskOffer,
    to: str,
    *,
    by: User | None,
    why: str = "",
    fields: Sequence[str] = (),
) -> TaskOfferEvent:
    return _move(
        offer,
        to,
        table=OFFER_MOVES,
        event=TaskOfferEvent,
        link="offer",
        by=by,
        why=why,
        fields=fields,
    )
