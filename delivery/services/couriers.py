"""A courier's writes: his shift, his phone's positions, picking a task up at the warehouse
and handing each order over (with the consumer's 4-digit code, or a photo when she is away).

Every function takes the courier's own row and acts on his tasks and orders only: another
courier's task or order is not found (TaskNotFound, OrderNotFound), whatever its id. Rows are locked in one order,
orders before their task, as dispatch and cancelling do.
"""

import contextlib
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from moneyed import Money

from common import geo
from common.exceptions import DomainError, InvalidPhoto
from common.money import round_money
from common.photos import process_photo

from .. import realtime
from ..exceptions import (
    CourierError,
    CourierNotActive,
    DeliveryCodeLocked,
    ImpossiblePosition,
    OrderNotFound,
    ProofPhotoRefused,
    ShiftNotEnded,
    StepNotAllowed,
    TaskNotFound,
    WrongDeliveryCode,
)
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
)
from ..selectors.couriers import orders_awaiting_courier
from . import offers
from .transitions import Why, move_order, move_orders, move_task

# A phone's clock may run a little ahead of the server's; a fix further in the future is a
# fault, not a position.
POSITION_CLOCK_SKEW = timedelta(seconds=60)
CODE_PATTERN = re.compile(r"[0-9]{4}")


# --- Shift ----------------------------------------------------------------------------------


@transaction.atomic
def start_shift(*, courier: Courier) -> Courier:
    """The courier goes on shift: dispatch may offer him tasks from now on. Only an ACTIVE
    courier (one waiting for activation or deactivated: CourierNotActive). Starting a shift
    already started changes nothing (a retried tap)."""
    courier = Courier.objects.select_for_update(no_key=True).get(pk=courier.pk)
    if courier.status != CourierStatus.ACTIVE:
        raise CourierNotActive()
    if courier.is_on_shift:
        return courier
    courier.is_on_shift = True
    courier.shift_started_at = timezone.now()
    courier.save(update_fields=["is_on_shift", "shift_started_at", "updated_at"])
    return courier


@transaction.atomic
def end_shift(*, courier: Courier) -> Courier:
    """The courier goes off shift. Refused (ShiftNotEnded) while he has a task assigned or
    picked up: its orders must be delivered first. An offer waiting for his answer is
    declined, so dispatch moves it on at once. Ending a shift already ended changes nothing.
    """
    # The offer is declined before the courier's row is locked: dispatch locks a task and its
    # offer before the courier, and this keeps the same order. A refusal below rolls the
    # decline back with everything else.
    pending = TaskOffer.objects.filter(courier=courier, status=OfferStatus.PENDING).first()
    if pending is not None:
        # Answered or expired meanwhile: then nothing is waiting for him any more.
        with contextlib.suppress(DomainError):
            offers.decline_offer(courier=courier, offer_id=pending.pk)
    courier = Courier.objects.select_for_update(no_key=True).get(pk=courier.pk)
    if courier.tasks.filter(status__in=ACTIVE_TASK_STATUSES).exists():
        raise ShiftNotEnded()
    if not courier.is_on_shift:
        return courier
    courier.is_on_shift = False
    courier.shift_started_at = None
    courier.save(update_fields=["is_on_shift", "shift_started_at", "updated_at"])
    return courier


# --- Positions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PositionOutcome:
    """What became of a fix: recorded, or dropped (`reason`: "too_soon" after the last one,
    "off_shift" when the courier is not working, "older" when it was taken before the last one
    recorded, a fix kept by a phone offline arriving late; a dropped fix is not an error)."""

    courier: Courier
    is_recorded: bool
    reason: str = ""


def _coordinate(value, *, field: str, limit: int) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise CourierError(
            _("Give a number between -%(limit)s and %(limit)s.") % {"limit": limit}, field=field
        )
    return number


def _accuracy(value) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise CourierError(_("Give the accuracy in metres, zero or more."), field="accuracy_m")
    return number


def _check_time(at: datetime, *, now: datetime) -> None:
    if timezone.is_naive(at):
        raise CourierError(_("Give the time with its time zone."), field="at")
    if at > now + POSITION_CLOCK_SKEW:
        raise CourierError(
            _("This position is from the future; check the phone's clock."), field="at"
        )


def _check_speed(courier: Courier, point: Point, at: datetime) -> None:
    if courier.position is None or courier.position_at is None:
        return
    # The first fix of a shift is taken as it comes: between shifts the courier travels
    # unfollowed (by metro, by car), so the last fix of the previous shift says nothing.
    if courier.shift_started_at is not None and courier.position_at < courier.shift_started_at:
        return
    # Straight-line speed: no road is shorter than the straight line.
    moved_m = geo.metres_between((courier.position.x, courier.position.y), (point.x, point.y))
    seconds = max((at - courier.position_at).total_seconds(), 0.001)
    if moved_m / seconds * 3.6 > settings.DELIVERY_MAX_COURIER_SPEED_KMH:
        raise ImpossiblePosition(
            _(
                "This position is %(km).1f km from the last one: faster than %(max)s km/h. "
                "It looks like a GPS jump and was not recorded."
            )
            % {"km": moved_m / 1000, "max": settings.DELIVERY_MAX_COURIER_SPEED_KMH}
        )


@transaction.atomic
def record_position(
    *, courier: Courier, longitude, latitude, at: datetime | None = None, accuracy_m=None
) -> PositionOutcome:
    """A fix from the courier's phone (WGS 84 degrees; `at` aware, default now).

    Refused with a field error, and nothing changes: coordinates out of range, a fix more than
    a minute in the future, and a fix implying a speed
    above settings.DELIVERY_MAX_COURIER_SPEED_KMH from the last one of the same shift (field
    "position"). Dropped without an error: a fix less than
    settings.DELIVERY_POSITION_MIN_SECONDS after the last one, a fix taken before the last one
    recorded (the server keeps the latest: a phone sends the fixes it kept offline in order,
    but a late one must never move the courier back), and any fix while the courier is off
    shift (he is not followed then). A recorded fix moves him on the maps of the consumers
    whose orders he carries or is coming to fetch.
    """
    longitude = _coordinate(longitude, field="longitude", limit=180)
    latitude = _coordinate(latitude, field="latitude", limit=90)
    _accuracy(accuracy_m)  # checked for sense; the model keeps no accuracy
    now = timezone.now()
    at = at or now
    courier = Courier.objects.select_for_update(no_key=True).get(pk=courier.pk)
    _check_time(at, now=now)
    if not courier.is_on_shift:
        return PositionOutcome(courier=courier, is_recorded=False, reason="off_shift")
    if courier.position_at is not None and at < courier.position_at:
        return PositionOutcome(courier=courier, is_recorded=False, reason="older")
    minimum = timedelta(seconds=settings.DELIVERY_POSITION_MIN_SECONDS)
    if courier.position_at is not None and at - courier.position_at < minimum:
        return PositionOutcome(courier=courier, is_recorded=False, reason="too_soon")
    point = Point(longitude, latitude, srid=4326)
    _check_speed(courier, point, at)
    courier.position = point
    courier.position_at = at
    courier.save(update_fields=["position", "position_at", "updated_at"])
    realtime.push_position(courier=courier, orders=list(orders_awaiting_courier(courier)))
    return PositionOutcome(courier=courier, is_recorded=True)


# --- Pick-up --------------------------------------------------------------------------------


def _lock_own_task(courier: Courier, task_id) -> DeliveryTask | None:
    task = (
        DeliveryTask.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk=task_id, courier=courier)
        .first()
    )
    if task is not None:
        task.courier = courier
    return task


@transaction.atomic
def pick_up(*, courier: Courier, task_id: int) -> DeliveryTask:
    """The courier has his assigned task's orders in hand at the warehouse: the task and its
    orders are picked up. Only his own ASSIGNED task (another's: TaskNotFound); a task already
    picked up is returned unchanged (a retried tap); any other state is refused
    (StepNotAllowed), and so is a task with an order still being packed (he was asked ahead
    of the end of packing): nothing changes, he waits for the warehouse."""
    if not DeliveryTask.objects.filter(pk=task_id, courier=courier).exists():
        raise TaskNotFound()
    # The orders first, then their task: the order in which dispatch and cancelling lock them.
    orders = list(
        DeliveryOrder.objects.select_for_update(no_key=True, of=("self",))
        .filter(task_id=task_id)
        .select_related("warehouse")
        .order_by("pk")
    )
    task = _lock_own_task(courier, task_id)
    if task is None:  # taken from him between the two reads
        raise TaskNotFound()
    if task.status == DeliveryTaskStatus.PICKED_UP:
        return task
    if task.status != DeliveryTaskStatus.ASSIGNED:
        raise StepNotAllowed(
            _("This task cannot be picked up: it is %(status)s.")
            % {"status": task.get_status_display()}
        )
    packing = [
        order.number
        for order in orders
        if order.status == DeliveryOrderStatus.ASSIGNED and order.needs_packing
    ]
    if packing:
        raise StepNotAllowed(
            _("Still being packed: %(orders)s. Pick the task up once the warehouse has packed it.")
            % {"orders": ", ".join(packing)}
        )
    now = timezone.now()
    task.picked_up_at = now
    move_task(task, DeliveryTaskStatus.PICKED_UP, by=courier.user, fields=["picked_up_at"])
    # Orders no longer ASSIGNED were cancelled before the courier came: they stay behind.
    carried = [order for order in orders if order.status == DeliveryOrderStatus.ASSIGNED]
    move_orders(
        carried, DeliveryOrderStatus.PICKED_UP, by=courier.user, values={"picked_up_at": now}
    )
    for order in carried:
        realtime.push_order(order)
    realtime.push_task(task)
    return task


# --- Delivery -------------------------------------------------------------------------------


def _lock_own_order(courier: Courier, order_id) -> tuple[DeliveryTask, DeliveryOrder]:
    """His order and its task, locked order first; another's order is not found."""
    order = (
        DeliveryOrder.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk=order_id, task__courier=courier)
        .select_related("warehouse")
        .first()
    )
    if order is None:
        raise OrderNotFound()
    task = _lock_own_task(courier, order.task_id)
    if task is None:  # taken from him between the two locks
        raise OrderNotFound()
    order.task = task
    return task, order


def _require_picked_up(order: DeliveryOrder) -> None:
    if order.status == DeliveryOrderStatus.PICKED_UP:
        return
    if order.status == DeliveryOrderStatus.CANCELLED:
        raise StepNotAllowed(_("This order was cancelled."))
    raise StepNotAllowed(_("Pick the order up at the warehouse first."))


def tries_left(order: DeliveryOrder) -> int:
    return max(0, settings.DELIVERY_CODE_MAX_ATTEMPTS - order.code_attempts)


def _clean_code(code) -> str:
    # A Chinese keyboard may type full-width digits (１２３４): NFKC makes them plain.
    text = unicodedata.normalize("NFKC", str(code or "")).strip()
    if not CODE_PATTERN.fullmatch(text):
        raise WrongDeliveryCode(_("Enter the consumer's 4-digit code."))
    return text


def courier_fee(delivered_orders: int) -> Money:
    """What a courier earns for a task: a fixed fee per delivered order."""
    fee = Decimal(settings.DELIVERY_COURIER_FEE_PER_ORDER)
    return round_money(Money(fee * delivered_orders, "CNY"))


def _hand_over(
    task: DeliveryTask, order: DeliveryOrder, *, courier: Courier, now: datetime, why: str
) -> None:
    """The order is delivered; when every order of the task not cancelled is, the task is done
    and the courier earns his fee for each delivered one. Caller holds both locks."""
    order.delivered_at = now
    move_order(
        order,
        DeliveryOrderStatus.DELIVERED,
        by=courier.user,
        why=why,
        fields=["delivered_at", "proof_photo"],
    )
    realtime.push_order(order)
    statuses = list(
        DeliveryOrder.objects.filter(task=task)
        .exclude(status=DeliveryOrderStatus.CANCELLED)
        .values_list("status", flat=True)
    )
    if any(status != DeliveryOrderStatus.DELIVERED for status in statuses):
        return
    task.completed_at = now
    task.earnings = courier_fee(len(statuses))
    move_task(
        task,
        DeliveryTaskStatus.DONE,
        by=courier.user,
        why=Why.LAST_DELIVERED,
        fields=["completed_at", "earnings"],
    )
    realtime.push_task(task)


def deliver_with_code(*, courier: Courier, order_id: int, code) -> DeliveryOrder:
    """The consumer reads her 4-digit code to the courier at the door: his own picked-up order
    is delivered (and its task done when it was the last one).

    A wrong code counts against settings.DELIVERY_CODE_MAX_ATTEMPTS and is refused
    (WrongDeliveryCode, field "code", with the tries left); the count is committed although
    the request is refused, so the caller must not run this inside a transaction it rolls
    back on the error. After the last wrong try the code is locked (DeliveryCodeLocked): only
    a photo delivers the order then. A delivered order is returned unchanged (a retry).
    """
    code = _clean_code(code)
    with transaction.atomic():
        task, order = _lock_own_order(courier, order_id)
        if order.status == DeliveryOrderStatus.DELIVERED:
            return order
        _require_picked_up(order)
        if tries_left(order) == 0:
            raise DeliveryCodeLocked()
        if constant_time_compare(code, order.delivery_code):
            _hand_over(task, order, courier=courier, now=timezone.now(), why=Why.BY_CODE)
            return order
        order.code_attempts += 1
        order.save(update_fields=["code_attempts", "updated_at"])
        left = tries_left(order)
    # Outside the block: the wrong try is committed before the refusal is raised.
    if left == 0:
        raise WrongDeliveryCode(
            _("Wrong code, and no tries left: take a photo of the delivery instead.")
        )
    raise WrongDeliveryCode(
        ngettext("Wrong code: %(left)d try left.", "Wrong code: %(left)d tries left.", left)
        % {"left": left}
    )


def deliver_with_photo(*, courier: Courier, order_id: int, photo) -> DeliveryOrder:
    """The consumer is not at home: a photo of the order left at the door delivers the
    courier's own picked-up order (also once its code is locked).

    The upload must be a JPEG, PNG or WebP image within the photo size limit (8 MB by
    default); it is turned upright, stripped of its metadata (a phone's photo carries the
    GPS position of the consumer's door) and shrunk before it is stored as the order's proof.
    A refused file changes nothing (ProofPhotoRefused, field "photo").
    """
    if not photo:
        raise ProofPhotoRefused(_("Take a photo of the delivery."))
    try:
        processed = process_photo(photo)  # checked before any row is locked
    except InvalidPhoto as refusal:
        raise ProofPhotoRefused(str(refusal.message)) from refusal
    with transaction.atomic():
        task, order = _lock_own_order(courier, order_id)
        if order.status == DeliveryOrderStatus.DELIVERED:
            return order
        _require_picked_up(order)
        order.proof_photo.save(f"{processed.stem}.jpg", ContentFile(processed.image), save=False)
        _hand_over(task, order, courier=courier, now=timezone.now(), why=Why.BY_PHOTO)
    return order
