"""Front warehouses (前置仓): where they stand, the homes they serve, who runs them.

A warehouse is also a cold-chain site (coldchain.Site), so chilled shipments can end at it.
Stock, consumer orders, couriers and dispatch build on these tables.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel


class FrontWarehouse(TimeStampedModel):
    """A small chilled warehouse in the city; it delivers to the homes inside its zone
    within `promised_minutes` while it is open."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120, unique=True)
    site = models.OneToOneField(
        "coldchain.Site",
        on_delete=models.PROTECT,
        related_name="front_warehouse",
        verbose_name=_("site"),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    # GCJ-02 coordinates from Chinese map services must be converted to WGS 84 before they
    # are stored here, like every geometry of the platform.
    delivery_zone = models.PolygonField(_("delivery zone"), srid=4326)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))
    promised_minutes = models.PositiveSmallIntegerField(
        _("promised delivery (minutes)"),
        default=30,
        validators=[MinValueValidator(10), MaxValueValidator(240)],
    )
    is_active = models.BooleanField(_("is active"), default=True)

    class Meta:
        verbose_name = _("front warehouse")
        verbose_name_plural = _("front warehouses")
        constraints = [
            models.CheckConstraint(
                condition=Q(promised_minutes__gte=10) & Q(promised_minutes__lte=240),
                name="front_warehouse_promise_sensible",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_open_at(self, moment_time) -> bool:
        """Opening hours may run past midnight (e.g. 07:00–01:00)."""
        if self.opens_at <= self.closes_at:
            return self.opens_at <= moment_time < self.closes_at
        return moment_time >= self.opens_at or moment_time < self.closes_at


class WarehouseStaff(models.Model):
    """A warehouse manager runs one warehouse and sees only it."""

    warehouse = models.ForeignKey(
        FrontWarehouse, on_delete=models.PROTECT, related_name="staff", verbose_name=_("warehouse")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="warehouse_post",
        verbose_name=_("user"),
    )

    class Meta:
        verbose_name = _("warehouse staff member")
        verbose_name_plural = _("warehouse staff")

    def __str__(self) -> str:
        return f"{self.user} @ {self.warehouse}"


class WriteOffReason(models.TextChoices):
    SPOILED = "spoiled", _("Spoiled")
    DAMAGED = "damaged", _("Damaged")
    EXPIRED = "expired", _("Past its shelf life")
    COUNT_DIFFERENCE = "count_difference", _("Stock count difference")


class StockLot(TimeStampedModel):
    """What a warehouse holds of one harvest lot. `expires_at` is the lot's expected end of
    shelf life when it was received (from the cold chain's LotCondition where the lot was
    watched); picking takes the earliest first (first-expired-first-out)."""

    warehouse = models.ForeignKey(
        FrontWarehouse, on_delete=models.PROTECT, related_name="stock", verbose_name=_("warehouse")
    )
    lot = models.ForeignKey(
        "farms.HarvestLot",
        on_delete=models.PROTECT,
        related_name="warehouse_stock",
        verbose_name=_("harvest lot"),
    )
    product = models.ForeignKey(
        "farms.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=12, decimal_places=3)
    received_at = models.DateTimeField(_("received at"))
    expires_at = models.DateTimeField(_("expected expiry"))

    class Meta:
        verbose_name = _("stock lot")
        verbose_name_plural = _("stock lots")
        indexes = [
            models.Index(fields=["warehouse", "product", "expires_at"], name="stock_fefo"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "lot"], name="stock_lot_once"),
            # The last line of defence against overselling: stock never goes below zero.
            models.CheckConstraint(
                condition=Q(quantity_kg__gte=0), name="stock_quantity_not_negative"
            ),
        ]


class StockWriteOff(models.Model):
    """Stock taken out without a sale (spoilage, damage, a count difference), with its reason;
    the loss rate counts these."""

    stock_lot = models.ForeignKey(
        StockLot, on_delete=models.PROTECT, related_name="write_offs", verbose_name=_("stock lot")
    )
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=12, decimal_places=3)
    reason = models.CharField(_("reason"), max_length=20, choices=WriteOffReason)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("write-off")
        verbose_name_plural = _("write-offs")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_kg__gt=0), name="write_off_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=WriteOffReason.values), name="write_off_reason_valid"
            ),
        ]
