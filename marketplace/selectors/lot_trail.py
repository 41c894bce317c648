"""Where a harvest lot went on the marketplace: its listings and the buyers' order lines on
them, read as plain rows for traceability's trail (no model instances: a recall's scope may
hold tens of thousands of rows)."""

from collections.abc import Iterable

from django.db.models import F, Q
from django.db.models.functions import Coalesce

from accounts.models import User
from common.moments import EpochMicroseconds, moment_from_epoch_us

from ..choices import OrderStatus
from ..models import Listing, OrderLine

# Orders that never took any of the lot away.
ORDER_STATUSES_WITHOUT_GOODS = (OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.EXPIRED)


def listings_of_lot(lot_id: int) -> list[tuple]:
    """(id, created_at, available_kg, status, seller_id, seller display name, seller username)
    of every listing of the lot, oldest first."""
    return list(
        Listing.objects.filter(lot_id=lot_id)
        .order_by("created_at", "id")
        .values_list(
            "id",
            "created_at",
            "available_kg",
            "status",
            "seller_id",
            "seller__display_name",
            "seller__username",
        )
    )


def order_lines_of_lot(lot_id: int) -> list[tuple]:
    """(id, order placed at, kilograms (packed, else ordered), order status, listing id,
    order id, buyer id, buyer display name, buyer username) of every order line on a listing
    of the lot whose order took goods (not rejected, cancelled or expired), oldest first."""
    rows = (
        OrderLine.objects.filter(listing__lot_id=lot_id)
        .exclude(Q(order__status__in=ORDER_STATUSES_WITHOUT_GOODS))
        .order_by("order__created_at", "id")
        .values_list(
            "id",
            EpochMicroseconds("order__created_at"),  # thousands: see common.moments
            Coalesce(F("packed_kg"), F("quantity_kg")),
            "order__status",
            "listing_id",
            "order_id",
            "order__buyer_id",
            "order__buyer__display_name",
            "order__buyer__username",
        )
    )
    return [(id_, moment_from_epoch_us(at), *rest) for id_, at, *rest in rows]


def names_of_users(user_ids: Iterable[int]) -> dict[int, str]:
    """The name a seller or a buyer goes by (display name, else username), by user id."""
    rows = User.objects.filter(pk__in=set(user_ids)).values_list("pk", "display_name", "username")
    return {pk: name or username for pk, name, username in rows}
