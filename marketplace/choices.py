from django.db import models
from django.utils.translation import gettext_lazy as _

from common.state_machine import Transitions


class ListingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("On sale")
    PAUSED = "paused", _("Paused")
    SOLD_OUT = "sold_out", _("Sold out")
    CLOSED = "closed", _("Closed")


# Moves a seller makes. SOLD_OUT <-> ACTIVE also happens by itself when the last kilogram
# is reserved or some is released again (see services).
LISTING_TRANSITIONS = Transitions(
    {
        ListingStatus.DRAFT: frozenset({ListingStatus.ACTIVE, ListingStatus.CLOSED}),
        ListingStatus.ACTIVE: frozenset(
            {ListingStatus.PAUSED, ListingStatus.SOLD_OUT, ListingStatus.CLOSED}
        ),
        ListingStatus.PAUSED: frozenset({ListingStatus.ACTIVE, ListingStatus.CLOSED}),
        ListingStatus.SOLD_OUT: frozenset({ListingStatus.ACTIVE, ListingStatus.CLOSED}),
        ListingStatus.CLOSED: frozenset(),
    }
)


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    READY = "ready", _("Ready for pickup")
    # The packed weight is beyond the tolerance the buyer accepted: the buyer must confirm.
    AWAITING_BUYER = "awaiting_buyer", _("Waiting for the buyer to confirm the weight")
    HANDED_OVER = "handed_over", _("Handed over")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


ORDER_TRANSITIONS = Transitions(
    {
        OrderStatus.PLACED: frozenset(
            {OrderStatus.ACCEPTED, OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
        ),
        OrderStatus.ACCEPTED: frozenset({OrderStatus.READY}),
        OrderStatus.READY: frozenset({OrderStatus.HANDED_OVER, OrderStatus.AWAITING_BUYER}),
        # The buyer confirms the new weight (handed over) or declines it (back to the seller).
        OrderStatus.AWAITING_BUYER: frozenset({OrderStatus.HANDED_OVER, OrderStatus.READY}),
        OrderStatus.HANDED_OVER: frozenset({OrderStatus.COMPLETED}),
        OrderStatus.REJECTED: frozenset(),
        OrderStatus.COMPLETED: frozenset(),
        OrderStatus.CANCELLED: frozenset(),
        OrderStatus.EXPIRED: frozenset(),
    }
)

# States in which an order's lines still hold listing quantity.
RESERVING_STATUSES = frozenset(
    {
        OrderStatus.PLACED,
        OrderStatus.ACCEPTED,
        OrderStatus.READY,
        OrderStatus.AWAITING_BUYER,
    }
)
