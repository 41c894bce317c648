"""The history of an order or a task as its reader may see it: each step's status, when, who
and why.

Who is told as today's pages tell people: a reader sees "You" for her own steps; a consumer
sees her courier as "Your courier" and the warehouse's people as "Warehouse staff", never
their names; the warehouse's staff see a colleague's and a courier's name (the dashboard
shows the courier's) but the consumer only as "The consumer"; a courier sees the others by
their part only; a platform admin sees every name. A step the platform took on its own
(dispatch, an expiry) is FreshChain's. The reason is the one given (a cancellation's), or the
platform's own phrase in the reader's language.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from accounts.permissions import is_admin

from ..models import (
    DeliveryOrder,
    DeliveryOrderEvent,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskEvent,
    DeliveryTaskStatus,
)


@dataclass(frozen=True)
class Reader:
    """Who reads a history, and what she is to the order or task."""

    user_id: int | None
    is_admin: bool = False
    is_staff: bool = False  # of the order's or task's warehouse
    is_courier: bool = False  # of the task


@dataclass(frozen=True)
class HistoryStep:
    status: str
    label: str
    from_status: str
    at: datetime
    by: str
    why: str


def _who(actor: User | None, *, reader: Reader, consumer_id: int | None) -> str:
    if actor is None:
        return _("FreshChain")
    if actor.pk == reader.user_id:
        return _("You")
    if reader.is_admin:
        return str(actor)
    if actor.pk == consumer_id or actor.role == Role.CONSUMER:
        return _("The consumer")
    if actor.is_platform_admin:
        return _("FreshChain staff")
    if actor.role == Role.COURIER:
        if reader.is_staff:
            return str(actor)
        return _("Your courier") if consumer_id == reader.user_id else _("The courier")
    if actor.role == Role.WAREHOUSE_MANAGER:
        return str(actor) if reader.is_staff else _("Warehouse staff")
    return _("Someone else")


def _why(reason: str) -> str:
    # The platform's reasons are stored as English msgids; a reason someone typed is shown as
    # typed (gettext leaves text it has no translation for unchanged).
    return _(reason) if reason else ""


def events_with_actors(model) -> QuerySet:
    return model.objects.select_related("actor").order_by("at", "id")


def order_events_prefetch() -> Prefetch:
    """For a list that shows each order's history: one query for all their steps."""
    return Prefetch("events", queryset=events_with_actors(DeliveryOrderEvent))


def order_reader(user, order: DeliveryOrder) -> Reader:
    """The reader of an order's history: the caller has checked she may see the order (the
    consumer, the warehouse's staff or an admin)."""
    if not (user and user.is_authenticated):
        return Reader(user_id=None)
    post = getattr(user, "warehouse_post", None)
    return Reader(
        user_id=user.pk,
        is_admin=is_admin(user),
        is_staff=post is not None and post.warehouse_id == order.warehouse_id,
    )


def order_history(order: DeliveryOrder, *, reader: Reader) -> list[HistoryStep]:
    """The order's steps, oldest first (uses a prefetch of `events` when there is one). A step
    that left the status where it was is its packing while the courier was on the way."""
    return [
        HistoryStep(
            status=event.to_status,
            label=str(
                DeliveryOrderStatus.PACKED.label
                if event.from_status == event.to_status
                else DeliveryOrderStatus(event.to_status).label
            ),
            from_status=event.from_status,
            at=event.at,
            by=_who(event.actor, reader=reader, consumer_id=order.consumer_id),
            why=_why(event.reason),
        )
        for event in _events(order, DeliveryOrderEvent, "order")
    ]


def task_history(task: DeliveryTask, *, reader: Reader) -> list[HistoryStep]:
    """The task's steps, oldest first: made, offered, assigned, picked up, done."""
    return [
        HistoryStep(
            status=event.to_status,
            label=str(DeliveryTaskStatus(event.to_status).label),
            from_status=event.from_status,
            at=event.at,
            by=_who(event.actor, reader=reader, consumer_id=None),
            why=_why(event.reason),
        )
        for event in _events(task, DeliveryTaskEvent, "task")
    ]


def _events(row, model, link: str) -> list:
    cache = getattr(row, "_prefetched_objects_cache", {})
    if "events" in cache:
        return list(cache["events"])
    return list(events_with_actors(model).filter(**{link: row}))
