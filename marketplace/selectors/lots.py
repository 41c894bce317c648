"""A harvest lot's marketplace history: the buyers' order lines of its listings (traceability
follows a lot through them)."""

from django.db.models import QuerySet

from ..models import OrderLine


def order_lines_of_lot(lot_id: int) -> QuerySet[OrderLine]:
    """Every order line on a listing of the lot, oldest first, with its order and buyer."""
    return (
        OrderLine.objects.filter(listing__lot_id=lot_id)
        .select_related("order__buyer", "order__seller", "listing")
        .order_by("order__created_at", "pk")
    )
