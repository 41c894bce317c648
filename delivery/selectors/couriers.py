"""What a courier reads: his current task as steps (pick up at the warehouse, then each door),
the offer waiting for his answer, and his day (tasks, deliveries, earnings). A courier sees
his own tasks, offers and orders only; another's are simply not found.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone
from djmoney.money import Money

from accounts.models import CallbackRequest
from accounts.permissions import is_admin
from accounts.phone import mask_phone
from common.dates import BUSINESS_TIME_ZONE, business_today

from ..models import (
    ACTIVE_TASK_STATUSES,
    Courier,
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    FrontWarehouse,
    OfferStatus,
    TaskOffer,
)
from .history import HistoryStep, Reader, task_history


def courier_of(user) -> Courier | None:
    """The user's courier row; None for anyone who is not set up as a courier."""
    if not (user and user.is_authenticated):
        return None
    return Courier.objects.filter(user=user).first()


def tasks_visible_to(user) -> QuerySet[DeliveryTask]:
    """A courier sees his own tasks, a warehouse manager those of his warehouse, a platform
    admin all; anyone else none."""
    tasks = DeliveryTask.objects.select_related("warehouse", "courier__user")
    if is_admin(user):
        return tasks
    if not (user and user.is_authenticated):
        return tasks.none()
    mine = Q(courier__user=user)
    post = getattr(user, "warehouse_post", None)
    if post is not None:
        mine |= Q(warehouse_id=post.warehouse_id)
    return tasks.filter(mine)


def courier_tasks(courier: Courier) -> QuerySet[DeliveryTask]:
    return DeliveryTask.objects.filter(courier=courier).select_related("warehouse__site")


def courier_orders(courier: Courier) -> QuerySet[DeliveryOrder]:
    """The orders on the courier's tasks: the only orders he may act on."""
    return DeliveryOrder.objects.filter(task__courier=courier)


def courier_offers(courier: Courier) -> QuerySet[TaskOffer]:
    return TaskOffer.objects.filter(courier=courier)


def orders_awaiting_courier(courier: Courier):
    """The open orders the courier is coming to fetch or carrying: their consumers follow him
    on the map. Delivered and cancelled ones no longer do."""
    return DeliveryOrder.objects.filter(
        task__courier=courier,
        task__status__in=ACTIVE_TASK_STATUSES,
        status__in=(DeliveryOrderStatus.ASSIGNED, DeliveryOrderStatus.PICKED_UP),
    ).only("pk", "consumer_id")


# --- The current task as steps --------------------------------------------------------------


@dataclass(frozen=True)
class PickupStep:
    warehouse: FrontWarehouse
    longitude: float | None
    latitude: float | None
    is_done: bool


@dataclass(frozen=True)
class DropOffStep:
    """One door. The delivery code itself is never part of it: the consumer tells it. The
    address and the door's position are None once the courier no longer needs them
    (`door_visible_to_courier`)."""

    order: DeliveryOrder
    address: str | None
    longitude: float | None
    latitude: float | None
    tries_left: int
    # Her number as he may see it (138****0001): he reaches her with a call-back request.
    consumer_phone: str = ""
    callback_asked_at: datetime | None = None  # within the last CALLBACK_REQUEST_INTERVAL

    @property
    def can_ask_callback(self) -> bool:
        return self.is_door_shown and not self.is_cancelled and bool(self.consumer_phone)

    @property
    def is_door_shown(self) -> bool:
        return self.address is not None

    @property
    def is_delivered(self) -> bool:
        return self.order.status == DeliveryOrderStatus.DELIVERED

    @property
    def is_cancelled(self) -> bool:
        return self.order.status == DeliveryOrderStatus.CANCELLED

    @property
    def can_deliver(self) -> bool:
        return self.order.status == DeliveryOrderStatus.PICKED_UP

    @property
    def is_being_packed(self) -> bool:
        """He was asked ahead of the end of packing: this bag is not sealed yet."""
        return self.order.status == DeliveryOrderStatus.ASSIGNED and self.order.needs_packing

    @property
    def is_code_locked(self) -> bool:
        return self.tries_left == 0


@dataclass(frozen=True)
class TaskRoute:
    """A task as the courier works through it: the pickup, then each order's door (earliest
    promise first)."""

    task: DeliveryTask
    pickup: PickupStep
    drop_offs: tuple[DropOffStep, ...]
    history: tuple[HistoryStep, ...] = ()

    @property
    def being_packed(self) -> tuple[DropOffStep, ...]:
        return tuple(step for step in self.drop_offs if step.is_being_packed)

    @property
    def can_pick_up(self) -> bool:
        """Assigned to him, and every order packed (services.couriers.pick_up's rule)."""
        return self.task.status == DeliveryTaskStatus.ASSIGNED and not self.being_packed

    @property
    def order_count(self) -> int:
        return sum(1 for step in self.drop_offs if not step.is_cancelled)

    @property
    def delivered_count(self) -> int:
        return sum(1 for step in self.drop_offs if step.is_delivered)


def door_visible_to_courier(order: DeliveryOrder, *, now: datetime) -> bool:
    """A courier sees the consumer's address and door until DELIVERY_ADDRESS_VISIBLE_HOURS
    after her order was delivered or cancelled: long enough to sort out a mix-up, not a
    record of every customer's home."""
    ended = order.delivered_at or order.cancelled_at
    window = timedelta(hours=settings.DELIVERY_ADDRESS_VISIBLE_HOURS)
    return ended is None or now < ended + window


def callback_key(order_id: int) -> str:
    """What a call-back request about a consumer order is filed under (its rate limit)."""
    return f"delivery.order:{order_id}"


def _recent_callbacks(order_ids: list[int], *, now: datetime) -> dict[str, datetime]:
    since = now - timedelta(minutes=settings.CALLBACK_REQUEST_INTERVAL_MINUTES)
    rows = (
        CallbackRequest.objects.filter(
            about_key__in=[callback_key(pk) for pk in order_ids], created_at__gt=since
        )
        .values("about_key")
        .annotate(latest=Max("created_at"))
    )
    return {row["about_key"]: row["latest"] for row in rows}


def _drop_off(
    order: DeliveryOrder, *, now: datetime, maximum: int, asked: dict[str, datetime]
) -> DropOffStep:
    shown = door_visible_to_courier(order, now=now)
    return DropOffStep(
        order=order,
        address=order.address if shown else None,
        longitude=order.location.x if shown else None,
        latitude=order.location.y if shown else None,
        tries_left=max(0, maximum - order.code_attempts),
        consumer_phone=mask_phone(order.consumer.phone) if shown else "",
        callback_asked_at=asked.get(callback_key(order.pk)),
    )


def task_route(
    task: DeliveryTask, *, now: datetime | None = None, reader: Reader | None = None
) -> TaskRoute:
    """The steps of one task (the caller has checked it is the courier's own), and its
    history as `reader` (by default its courier) may see it."""
    now = now or timezone.now()
    if reader is None:
        reader = Reader(user_id=task.courier.user_id if task.courier else None, is_courier=True)
    warehouse = task.warehouse
    site_location = warehouse.site.location if warehouse.site_id else None
    orders = (
        DeliveryOrder.objects.filter(task=task)
        .only(
            "pk",
            "number",
            "address",
            "location",
            "status",
            "promised_by",
            "packed_at",
            "picked_up_at",
            "delivered_at",
            "cancelled_at",
            "code_attempts",
            "proof_photo",
            "task_id",
            "consumer__id",
            "consumer__phone",
        )
        .select_related("consumer")
        .order_by("promised_by", "pk")
    )
    asked = _recent_callbacks([order.pk for order in orders], now=now)
    maximum = settings.DELIVERY_CODE_MAX_ATTEMPTS
    return TaskRoute(
        task=task,
        pickup=PickupStep(
            warehouse=warehouse,
            longitude=site_location.x if site_location else None,
            latitude=site_location.y if site_location else None,
            is_done=task.status not in (DeliveryTaskStatus.ASSIGNED, DeliveryTaskStatus.OFFERING),
        ),
        drop_offs=tuple(
            _drop_off(order, now=now, maximum=maximum, asked=asked) for order in orders
        ),
        history=tuple(task_history(task, reader=reader)),
    )


def current_task(courier: Courier) -> TaskRoute | None:
    """The task the courier is working on (assigned or picked up), as steps; None if free.
    Dispatch gives him one task at a time; were there two, the oldest comes first."""
    task = (
        courier_tasks(courier)
        .filter(status__in=ACTIVE_TASK_STATUSES)
        .order_by("accepted_at", "pk")
        .first()
    )
    if task is None:
        return None
    return task_route(task, reader=Reader(user_id=courier.user_id, is_courier=True))


# --- The offer waiting for an answer --------------------------------------------------------


def pending_offer(courier: Courier, *, now: datetime | None = None) -> TaskOffer | None:
    """The offer waiting for the courier's answer, with its task's warehouse and its number
    of orders (`order_count`); None when there is none, or it has run out (dispatch expires it
    in a moment)."""
    now = now or timezone.now()
    return (
        courier_offers(courier)
        .filter(status=OfferStatus.PENDING, expires_at__gt=now)
        .select_related("task__warehouse__site")
        .annotate(
            order_count=Count(
                "task__orders", filter=~Q(task__orders__status=DeliveryOrderStatus.CANCELLED)
            )
        )
        .order_by("expires_at")
        .first()
    )


# --- The courier's day ----------------------------------------------------------------------


@dataclass(frozen=True)
class CourierDay:
    """One Asia/Shanghai day of a courier: the tasks he worked on (accepted or finished that
    day, or still open), the orders he delivered and what the finished tasks earned."""

    day: date
    tasks: tuple[DeliveryTask, ...]
    delivered_count: int
    earnings: Money

    @property
    def task_count(self) -> int:
        return len(self.tasks)

    @property
    def done_count(self) -> int:
        return sum(1 for task in self.tasks if task.status == DeliveryTaskStatus.DONE)


def business_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=BUSINESS_TIME_ZONE)
    return start, start + timedelta(days=1)


def courier_day(courier: Courier, *, day: date | None = None) -> CourierDay:
    """The courier's tasks, deliveries and earnings of `day` (default today, Asia/Shanghai).
    Earnings count the tasks completed that day; each task carries `order_count` (orders not
    cancelled) and `delivered_count`."""
    day = day or business_today()
    start, end = business_day_bounds(day)
    in_day = Q(accepted_at__gte=start, accepted_at__lt=end) | Q(
        completed_at__gte=start, completed_at__lt=end
    )
    tasks = tuple(
        courier_tasks(courier)
        .filter(in_day | Q(status__in=ACTIVE_TASK_STATUSES))
        .annotate(
            order_count=Count("orders", filter=~Q(orders__status=DeliveryOrderStatus.CANCELLED)),
            delivered_count=Count("orders", filter=Q(orders__status=DeliveryOrderStatus.DELIVERED)),
        )
        .order_by("-accepted_at", "-pk")
    )
    delivered = courier_orders(courier).filter(
        status=DeliveryOrderStatus.DELIVERED, delivered_at__gte=start, delivered_at__lt=end
    )
    earned = (
        courier_tasks(courier)
        .filter(status=DeliveryTaskStatus.DONE, completed_at__gte=start, completed_at__lt=end)
        .aggregate(total=Sum("earnings"))["total"]
    )
    return CourierDay(
        day=day,
        tasks=tasks,
        delivered_count=delivered.count(),
        earnings=Money(earned or Decimal("0.00"), "CNY"),
    )
