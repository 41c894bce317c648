"""Reads of orders, including who may see which.

Visibility: a buyer sees the orders he placed; a farmer the orders she received; a
co-operative manager the orders received by her co-operative's members; a platform admin
every order. Anyone else sees none; an order out of reach is simply not found.
"""

from django.db.models import Prefetch, Q, QuerySet

from accounts.choices import Role
from accounts.models import User
from accounts.permissions import is_admin
from farms.models import Membership

from ..choices import OrderStatus
from ..models import Order, OrderEvent, OrderLine


class OrderSide:
    """Which side of an order a user is on; the API filters with `side=`."""

    BUYING = "buying"
    SELLING = "selling"
    CHOICES = (BUYING, SELLING)


def _managed_cooperative_ids(user: User):
    return Membership.objects.filter(
        user=user, is_manager=True, user__role=Role.COOPERATIVE_MANAGER
    ).values("cooperative")


def _selling_condition(user: User) -> Q:
    """Orders this user handles as the seller: her own, or her co-op members' (a manager)."""
    condition = Q(seller=user)
    if user.role == Role.COOPERATIVE_MANAGER:
        condition |= Q(seller__membership__cooperative__in=_managed_cooperative_ids(user))
    return condition


def orders_visible_to(user: User, *, side: str | None = None) -> QuerySet[Order]:
    """Orders this user may see, newest first, with lines, listings and history loaded.

    `side` narrows to the orders the user buys (`buying`) or sells (`selling`).
    """
    orders = Order.objects.select_related("buyer", "seller").prefetch_related(
        Prefetch(
            "lines",
            queryset=OrderLine.objects.select_related("listing", "listing__product").order_by("id"),
        ),
        Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
    )
    if not (user and user.is_authenticated and user.is_active):
        return orders.none()
    if side == OrderSide.BUYING:
        return orders.filter(buyer=user)
    if side == OrderSide.SELLING:
        return orders if is_admin(user) else orders.filter(_selling_condition(user))
    if is_admin(user):
        return orders
    return orders.filter(Q(buyer=user) | _selling_condition(user))


def is_seller_side(user: User, order: Order) -> bool:
    """The seller herself, or a manager of the co-operative she belongs to."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.pk == order.seller_id:
        return True
    return (
        user.role == Role.COOPERATIVE_MANAGER
        and Membership.objects.filter(
            user_id=order.seller_id, cooperative__in=_managed_cooperative_ids(user)
        ).exists()
    )


def is_buyer_side(user: User, order: Order) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.pk == order.buyer_id)


def overdue_placed_orders(*, now) -> QuerySet[Order]:
    """Placed orders nobody accepted in time, oldest deadline first."""
    return Order.objects.filter(status=OrderStatus.PLACED, expires_at__lte=now).order_by(
        "expires_at", "id"
    )
