"""Delivery's section of her personal data: her shop orders (address, door location, the
delivery photo), and for a courier his record and last position.

On deletion her orders stay with their lines, amounts and picked lots (E-Commerce Law art. 31;
a consumer order line is where a recall finds who ate a lot), but not where she lives: the
address goes, the door's point becomes the middle of the warehouse's zone, the photo of her
door is deleted. A courier's last position goes (his positions are not kept as a history).
"""

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.personal_data import (
    name_spellings,
    phone_spellings,
    register_section,
    replace_in_text,
)
from accounts.phone import mask_phone

from .models import (
    ACTIVE_TASK_STATUSES,
    OPEN_ORDER_STATUSES,
    Courier,
    CourierInvitation,
    DeliveryOrder,
    DeliveryOrderEvent,
    DeliveryTask,
    DeliveryTaskEvent,
    FrontWarehouse,
    WarehouseStaff,
)

EXPORT_LIMIT = 1000
ERASED_ADDRESS = "—"


def export_delivery(user: User) -> dict[str, Any]:
    courier = Courier.objects.filter(user=user).select_related("home_warehouse").first()
    staff = WarehouseStaff.objects.filter(user=user).select_related("warehouse").first()
    orders = (
        DeliveryOrder.objects.filter(consumer=user)
        .prefetch_related("lines__product")
        .order_by("-placed_at")[:EXPORT_LIMIT]
    )
    return {
        "shop_orders": [
            {
                "number": order.number,
                "status": order.status,
                "address": order.address,
                "longitude": order.location.x,
                "latitude": order.location.y,
                "total": str(order.total.amount),
                "placed_at": order.placed_at.isoformat(),
                "delivered_at": order.delivered_at.isoformat() if order.delivered_at else None,
                "has_delivery_photo": bool(order.proof_photo),
                "lines": [
                    {
                        "product": line.product.name_zh,
                        "quantity_kg": str(line.quantity_kg),
                        "amount": str(line.amount.amount),
                    }
                    for line in order.lines.all()
                ],
            }
            for order in orders
        ],
        "courier": (
            {
                "home_warehouse": str(courier.home_warehouse or ""),
                "capacity": courier.capacity,
                "on_shift": courier.is_on_shift,
                "last_position": (
                    {"longitude": courier.position.x, "latitude": courier.position.y}
                    if courier.position
                    else None
                ),
                "last_position_at": courier.position_at.isoformat()
                if courier.position_at
                else None,
                "tasks_done": DeliveryTask.objects.filter(courier=courier).count(),
            }
            if courier
            else None
        ),
        "warehouse_staff": {"warehouse": staff.warehouse.name} if staff else None,
        "courier_invitations": [
            {
                "warehouse": invitation.warehouse.name,
                "phone": invitation.phone,
                "status": invitation.status,
                "sent_at": invitation.sent_at.isoformat(),
            }
            for invitation in _courier_invitations_of(user).select_related("warehouse")
        ],
    }


def erase_delivery(user: User, pseudonym: str) -> None:
    orders = DeliveryOrder.objects.filter(consumer=user)
    for warehouse in FrontWarehouse.objects.filter(pk__in=orders.values("warehouse_id").distinct()):
        orders.filter(warehouse=warehouse).update(
            address=ERASED_ADDRESS, location=warehouse.delivery_zone.centroid
        )
    for order in orders.exclude(proof_photo=""):
        order.proof_photo.delete(save=False)
    orders.update(proof_photo="")
    # Reasons others wrote on her orders (a courier's "not at home") keep their sense.
    for rows in (
        DeliveryOrderEvent.objects.filter(order__consumer=user),
        DeliveryTaskEvent.objects.filter(task__orders__consumer=user).distinct(),
    ):
        replace_in_text(
            rows,
            fields=["reason"],
            spellings=phone_spellings(user.phone),
            replacement=mask_phone(user.phone),
        )
        replace_in_text(
            rows, fields=["reason"], spellings=name_spellings(user), replacement=pseudonym
        )
    Courier.objects.filter(user=user).update(
        position=None, position_at=None, is_on_shift=False, home_warehouse=None
    )
    WarehouseStaff.objects.filter(user=user).delete()
    for invitation in _courier_invitations_of(user):
        invitation.phone = mask_phone(invitation.phone)
        invitation.save(update_fields=["phone"])


def _courier_invitations_of(user: User):
    """Invitations to her account, and to her number before she had one."""
    return CourierInvitation.objects.filter(
        Q(courier__user=user) | Q(phone__in=phone_spellings(user.phone))
    )


def deliveries_under_way(user: User) -> str | None:
    order = (
        DeliveryOrder.objects.filter(consumer=user, status__in=OPEN_ORDER_STATUSES)
        .order_by("placed_at")
        .first()
    )
    if order is not None:
        return _(
            "Your order %(number)s is still on its way: delete your account after it is "
            "delivered or cancelled."
        ) % {"number": order.number}
    if DeliveryTask.objects.filter(Q(courier__user=user), status__in=ACTIVE_TASK_STATUSES).exists():
        return _("You still have a delivery to finish: finish it first.")
    return None


def register() -> None:
    register_section(
        name="delivery",
        label=gettext_lazy("Shop orders and deliveries"),
        exporter=export_delivery,
        eraser=erase_delivery,
        blocker=deliveries_under_way,
    )
