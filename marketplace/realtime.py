"""Live news of orders: who hears of which step, as notifications pushed after commit.

Called by the order services inside their transaction: `accounts.notifications.notify`
saves the row there and pushes it to the user's screens only once the transaction commits.
The seller hears of a new order; the buyer hears of every later step; the seller also
hears of the steps the buyer or the platform took (a cancel, an expiry, a weight answer).
"""

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import notify

from .choices import OrderStatus
from .models import Order

ORDER_PLACED = "order.placed"
ORDER_STATUS_CHANGED = "order.status_changed"


def order_url(order: Order) -> str:
    """The order's page; API clients find the order by payload["order_id"]."""
    return reverse("marketplace:order_detail", args=[order.pk])


def order_payload(order: Order) -> dict:
    return {
        "order_id": order.pk,
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "total": str(order.total.amount),
        "currency": str(order.total.currency),
    }


def announce_new_order(order: Order) -> None:
    """Tell the seller a new order arrived (her badge and list update live)."""
    notify(
        user=order.seller,
        kind=ORDER_PLACED,
        title=_("New order #%(id)s") % {"id": order.pk},
        body=_("%(buyer)s ordered for %(total)s.") % {"buyer": order.buyer, "total": order.total},
        url=order_url(order),
        payload=order_payload(order),
    )


def announce_status_change(order: Order, *, actor: User | None) -> None:
    """Tell the buyer of every step, and the seller of the steps she did not take herself."""
    title = _("Order #%(id)s: %(status)s") % {"id": order.pk, "status": order.get_status_display()}
    recipients = [order.buyer]
    if actor is None or actor.pk == order.buyer_id:
        recipients.append(order.seller)
    for user in recipients:
        notify(
            user=user,
            kind=ORDER_STATUS_CHANGED,
            title=title,
            body=_status_sentence(order),
            url=order_url(order),
            payload=order_payload(order),
        )


def _status_sentence(order: Order) -> str:
    sentences: dict[str, str] = {
        OrderStatus.ACCEPTED: _("The seller accepted the order."),
        OrderStatus.REJECTED: _("The seller declined the order."),
        OrderStatus.READY: _("The order is ready for pickup."),
        OrderStatus.AWAITING_BUYER: _(
            "The packed weight differs from the order by more than the tolerance: "
            "please confirm the new total of %(total)s."
        )
        % {"total": order.total},
        OrderStatus.HANDED_OVER: _("The order was handed over for %(total)s.")
        % {"total": order.total},
        OrderStatus.COMPLETED: _("The buyer confirmed receipt."),
        OrderStatus.CANCELLED: _("The buyer cancelled the order."),
        OrderStatus.EXPIRED: _("The order was not accepted in time."),
    }
    return str(sentences.get(order.status, ""))
