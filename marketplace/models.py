"""Listings of harvest lots, orders on them, and their history.

Money is CNY (django-money, Decimal underneath); weights are kg with 3 decimals. A listing
copies the lot's product, grade, harvest date and certifications when it is created: lots
do not change after they are recorded, and search filters them without joining the lot.
"""

from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from common.models import TimeStampedModel
from farms.choices import Certification, Grade

if TYPE_CHECKING:
    from django.db.models.fields.related_managers import RelatedManager

from .choices import LISTING_TRANSITIONS, ORDER_TRANSITIONS, ListingStatus, OrderStatus

MAX_PRICE_PER_KG = Decimal("100000.00")  # CNY; beyond any produce, so a typo is caught
MAX_LISTING_KG = Decimal("500000")


class Listing(TimeStampedModel):
    """Quantity of one harvest lot offered for sale at a price per kg."""

    # django-money swaps in manager classes made at run time, which django-stubs cannot see
    # (hence the ignores on the class lines, for the reverse managers of money models).
    objects: ClassVar[models.Manager["Listing"]]
    order_lines: "RelatedManager[OrderLine]"

    lot = models.ForeignKey(
        "farms.HarvestLot", on_delete=models.PROTECT, related_name="listings", verbose_name=_("lot")
    )
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="listings",
        verbose_name=_("seller"),
        help_text=_("The farmer who works the lot's farm."),
    )
    listed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("listed by"),
    )
    # Copied from the lot (see the module docstring).
    product = models.ForeignKey(
        "farms.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    grade = models.CharField(_("grade"), max_length=16, choices=Grade)
    harvest_date = models.DateField(_("harvest date"))
    certifications = ArrayField(
        models.CharField(max_length=32, choices=Certification),
        verbose_name=_("certifications"),
        default=list,
        blank=True,
    )
    price_per_kg = MoneyField(
        _("price per kg"), max_digits=12, decimal_places=2, default_currency="CNY"
    )
    available_kg = models.DecimalField(_("available (kg)"), max_digits=12, decimal_places=3)
    minimum_order_kg = models.DecimalField(
        _("minimum order (kg)"), max_digits=12, decimal_places=3, default=Decimal("1.000")
    )
    available_from = models.DateTimeField(_("available from"))
    available_until = models.DateTimeField(_("available until"))
    pickup_point = models.PointField(
        _("pickup point"),
        geography=True,
        srid=4326,
        help_text=_("Where buyers collect; the farm's location unless given."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ListingStatus, default=ListingStatus.DRAFT
    )
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    # Pinyin initials of the product's Chinese name (黄瓜 → "hg"), so buyers can type them.
    product_initials = models.CharField(
        _("product name initials"), max_length=60, blank=True, default=""
    )
    # Made on the phone with the draft: a listing sent twice (offline, a lost answer) is one.
    # db_default: rows written outside Django (bulk SQL, the benches' data) get "" too.
    idempotency_key = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Search: active listings by product and price; by freshness.
            models.Index(fields=["status", "product", "price_per_kg"], name="listing_search_idx"),
            models.Index(fields=["status", "-harvest_date"], name="listing_freshness_idx"),
            GinIndex(fields=["certifications"], name="listing_certifications_idx"),
            models.Index(fields=["seller", "status"], name="listing_seller_idx"),
            # Search near a buyer looks only at listings on sale: a GiST index of those.
            GistIndex(
                fields=["pickup_point"],
                condition=Q(status="active"),
                name="listing_active_pickup_gist",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ListingStatus.values), name="listing_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(price_per_kg__gt=0) & Q(price_per_kg__lte=MAX_PRICE_PER_KG),
                name="listing_price_sane",
            ),
            # The oversell guard of last resort: whatever the code does, never below zero.
            models.CheckConstraint(
                condition=Q(available_kg__gte=0) & Q(available_kg__lte=MAX_LISTING_KG),
                name="listing_available_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(minimum_order_kg__gt=0), name="listing_minimum_order_positive"
            ),
            models.CheckConstraint(
                condition=Q(available_until__gt=F("available_from")),
                name="listing_window_valid",
            ),
            models.UniqueConstraint(
                fields=["listed_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="listing_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} · {self.lot.lot_code}"

    def can_move_to(self, new_status: str) -> bool:
        return LISTING_TRANSITIONS.allows(self.status, new_status)

    def move_to(self, new_status: str) -> None:
        """Refuse (InvalidTransition) a move the table does not allow; the caller saves."""
        LISTING_TRANSITIONS.check(self.status, new_status)
        self.status = new_status


class ListingPhoto(models.Model):
    """A photo from the farmer's phone, re-encoded on the server without its EXIF data."""

    listing = models.ForeignKey(
        Listing, on_delete=models.CASCADE, related_name="photos", verbose_name=_("listing")
    )
    image = models.ImageField(_("photo"), upload_to="listings/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="listings/%Y/%m/thumbs/")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # The key of the form that sent it: a photo sent twice is stored once.
    idempotency_key = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("listing photo")
        verbose_name_plural = _("listing photos")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="listing_photo_idempotency_key_unique",
            ),
        ]


class Order(TimeStampedModel):
    """A buyer's order on one or more listings of one seller."""

    objects: ClassVar[models.Manager["Order"]]  # see Listing.objects
    lines: "RelatedManager[OrderLine]"

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders_placed",
        verbose_name=_("buyer"),
    )
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders_received",
        verbose_name=_("seller"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus, default=OrderStatus.PLACED
    )
    # Produce is sold by variable weight: the packed weight may differ from the ordered
    # one by this much without asking the buyer again.
    weight_tolerance_pct = models.DecimalField(
        _("weight tolerance (%)"), max_digits=4, decimal_places=1, default=Decimal("5.0")
    )
    total = MoneyField(_("total"), max_digits=14, decimal_places=2, default_currency="CNY")
    buyer_note = models.CharField(_("note to the seller"), max_length=300, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["seller", "status"], name="order_seller_idx"),
            models.Index(fields=["buyer", "status"], name="order_buyer_idx"),
            models.Index(fields=["status", "expires_at"], name="order_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(weight_tolerance_pct__gte=0) & Q(weight_tolerance_pct__lte=50),
                name="order_weight_tolerance_sane",
            ),
            # A retried "place order" from a phone on a weak network returns the first order.
            models.UniqueConstraint(
                fields=["buyer", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"

    def can_move_to(self, new_status: str) -> bool:
        return ORDER_TRANSITIONS.allows(self.status, new_status)

    def move_to(self, new_status: str) -> None:
        """Refuse (InvalidTransition) a move the table does not allow; the caller saves."""
        ORDER_TRANSITIONS.check(self.status, new_status)
        self.status = new_status


class OrderLine(models.Model):
    """Quantity of one listing in an order, at the price of the moment it was placed."""

    objects: ClassVar[models.Manager["OrderLine"]]  # see Listing.objects

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    listing = models.ForeignKey(
        Listing, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("listing")
    )
    quantity_kg = models.DecimalField(_("ordered (kg)"), max_digits=12, decimal_places=3)
    unit_price = MoneyField(
        _("price per kg"), max_digits=12, decimal_places=2, default_currency="CNY"
    )
    packed_kg = models.DecimalField(
        _("packed (kg)"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, default_currency="CNY")

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_kg__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(packed_kg__isnull=True) | Q(packed_kg__gt=0),
                name="order_line_packed_positive",
            ),
            models.UniqueConstraint(fields=["order", "listing"], name="order_line_listing_once"),
        ]


class OrderEvent(models.Model):
    """One step in an order's history: who moved it where, when, and why."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    status = models.CharField(_("status"), max_length=16, choices=OrderStatus)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the platform acted (an expiry)."),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["at", "id"]


# The wholesale markets live in their own package; Django finds their models through this
# module. The ledger is the settlement app's.
from .markets.card_models import TraderCardApplication  # noqa: E402
from .markets.funding_models import DrawerCount, FundingRequest  # noqa: E402
from .markets.models import (  # noqa: E402
    CommissionRule,
    DailyReport,
    Market,
    MarketDay,
    MarketStaff,
    Stall,
    Statement,
    Trade,
    Trader,
)

__all__ = [
    "CommissionRule",
    "DailyReport",
    "DrawerCount",
    "FundingRequest",
    "Listing",
    "ListingPhoto",
    "Market",
    "MarketDay",
    "MarketStaff",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Stall",
    "Statement",
    "Trade",
    "Trader",
    "TraderCardApplication",
]
