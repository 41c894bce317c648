"""The marketplace's section of her personal data: her listings and orders (as seller or
buyer), and in the wholesale markets her trader cards, staff place and trades.

On deletion orders and trades stay with their amounts, lots and weights (E-Commerce Law
art. 31: transaction records are kept three years after completion; the markets' purchase
and sales records are food safety records, Food Safety Law art. 50/65); what they say about
her goes: her notes to sellers, her listings' notes, her name or number inside an order's
history, and her trader card's name and phone.
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

from .choices import RESERVING_STATUSES, OrderStatus
from .markets.card_models import TraderCardApplication
from .markets.choices import CardApplicationStatus
from .markets.models import MarketStaff, Trade, Trader
from .models import Listing, Order, OrderEvent

EXPORT_LIMIT = 1000

# Orders whose money or goods are still moving: the account stays until they end.
OPEN_ORDER_STATUSES = frozenset({*RESERVING_STATUSES, OrderStatus.HANDED_OVER})


def export_marketplace(user: User) -> dict[str, Any]:
    orders = (
        Order.objects.filter(Q(buyer=user) | Q(seller=user))
        .prefetch_related("lines__listing__product")
        .order_by("-created_at")[:EXPORT_LIMIT]
    )
    traders = list(Trader.objects.filter(user=user).select_related("market"))
    staff = MarketStaff.objects.filter(user=user).select_related("market").first()
    return {
        "listings": [
            {
                "id": listing.pk,
                "product": listing.product.name_zh,
                "status": listing.status,
                "notes": listing.notes,
                "created_at": listing.created_at.isoformat(),
            }
            for listing in Listing.objects.filter(seller=user)
            .select_related("product")
            .order_by("-pk")[:EXPORT_LIMIT]
        ],
        "orders": [
            {
                "id": order.pk,
                "as": "buyer" if order.buyer_id == user.pk else "seller",
                "status": order.status,
                "total": str(order.total.amount),
                "note_to_seller": order.buyer_note,
                "created_at": order.created_at.isoformat(),
                "lines": [
                    {
                        "product": line.listing.product.name_zh,
                        "quantity_kg": str(line.quantity_kg),
                        "amount": str(line.amount.amount),
                    }
                    for line in order.lines.all()
                ],
            }
            for order in orders
        ],
        "trader_cards": [
            {
                "market": trader.market.name,
                "kind": trader.kind,
                "name": trader.name,
                "card_number": trader.card_number,
                "phone": trader.phone,
                "is_active": trader.is_active,
            }
            for trader in traders
        ],
        "market_trades": [
            {
                "id": trade.pk,
                "market": trade.market.name,
                "as": "buyer" if trade.buyer_id in {t.pk for t in traders} else "seller",
                "product": trade.product.name_zh,
                "net_kg": str(trade.net_kg),
                "amount": str(trade.amount.amount),
                "recorded_at": trade.recorded_at.isoformat(),
            }
            for trade in Trade.objects.filter(Q(buyer__in=traders) | Q(seller__in=traders))
            .select_related("market", "product")
            .order_by("-pk")[:EXPORT_LIMIT]
        ],
        "market_staff": {"market": staff.market.name} if staff else None,
        "card_applications": [
            {
                "market": application.market.name,
                "business_name": application.business_name,
                "licence_number": application.licence_number,
                "contact_name": application.contact_name,
                "contact_phone": application.contact_phone,
                "status": application.status,
                "reason": application.reason,
                "created_at": application.created_at.isoformat(),
            }
            for application in TraderCardApplication.objects.filter(applicant=user).select_related(
                "market"
            )
        ],
    }


def erase_marketplace(user: User, pseudonym: str) -> None:
    names, numbers = name_spellings(user), phone_spellings(user.phone)
    Order.objects.filter(buyer=user).update(buyer_note="")
    Listing.objects.filter(seller=user).update(notes="")
    # What others wrote about her orders keeps its sense, without her name or number.
    events = OrderEvent.objects.filter(Q(order__buyer=user) | Q(order__seller=user))
    replace_in_text(events, fields=["note"], spellings=numbers, replacement=mask_phone(user.phone))
    replace_in_text(events, fields=["note"], spellings=names, replacement=pseudonym)
    for trader in Trader.objects.filter(user=user):
        trader.name = pseudonym
        trader.phone = ""
        trader.save(update_fields=["name", "phone", "updated_at"])
    MarketStaff.objects.filter(user=user).delete()
    # An issued card's application is the market's record of whom it registered (kept with
    # the trade records); one that issued no card goes.
    applications = TraderCardApplication.objects.filter(applicant=user)
    applications.exclude(status=CardApplicationStatus.APPROVED).delete()
    replace_in_text(
        applications, fields=["business_name", "reason"], spellings=names, replacement=pseudonym
    )
    for application in applications:
        application.contact_name = pseudonym
        application.contact_phone = mask_phone(application.contact_phone)
        application.save(update_fields=["contact_name", "contact_phone"])


def open_orders(user: User) -> str | None:
    order = (
        Order.objects.filter(Q(buyer=user) | Q(seller=user), status__in=OPEN_ORDER_STATUSES)
        .order_by("pk")
        .first()
    )
    if order is None:
        return None
    return _("Order #%(id)s is still %(status)s: wait until it is completed or cancelled.") % {
        "id": order.pk,
        "status": order.get_status_display(),
    }


def register() -> None:
    register_section(
        name="marketplace",
        label=gettext_lazy("Listings, orders, market cards and trades"),
        exporter=export_marketplace,
        eraser=erase_marketplace,
        blocker=open_orders,
    )
