"""Reads of dispatch: a courier's load, the tasks a user may dispatch again, a task's orders."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from accounts.models import User
from accounts.permissions import is_admin

from ..models import (
    ACTIVE_TASK_STATUSES,
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    WarehouseStaff,
)

OPEN_TASK_STATUSES = (DeliveryTaskStatus.OFFERING, DeliveryTaskStatus.UNASSIGNED)
CARRIED_ORDER_STATUSES = (DeliveryOrderStatus.ASSIGNED, DeliveryOrderStatus.PICKED_UP)
# An order on an open task waits at the warehouse: packed, or placed and still being packed.
WAITING_ORDER_STATUSES = (DeliveryOrderStatus.PLACED, DeliveryOrderStatus.PACKED)


def courier_load(courier_id: int) -> int:
    """Orders the courier carries or is going to fetch: those of his assigned and picked-up
    tasks not yet delivered. His load plus a task's orders may not exceed his capacity."""
    return DeliveryOrder.objects.filter(
        task__courier_id=courier_id,
        task__status__in=ACTIVE_TASK_STATUSES,
        status__in=CARRIED_ORDER_STATUSES,
    ).count()


def waiting_orders_of(task: DeliveryTask) -> list[DeliveryOrder]:
    """The task's orders still at the warehouse waiting for its courier, by id: packed ones,
    and placed ones still being packed (dispatch asked for a courier ahead, see
    selectors.packing)."""
    return list(
        DeliveryOrder.objects.filter(task=task, status__in=WAITING_ORDER_STATUSES).order_by("pk")
    )


def tasks_visible_to(user: User | AnonymousUser) -> QuerySet[DeliveryTask]:
    """The delivery tasks a user may dispatch again: his warehouse's (a manager), all (an
    admin), none otherwise."""
    if is_admin(user):
        return DeliveryTask.objects.all()
    post = WarehouseStaff.objects.filter(user_id=user.pk).first() if user.pk is not None else None
    if post is None:
        return DeliveryTask.objects.none()
    return DeliveryTask.objects.filter(warehouse_id=post.warehouse_id)
