"""What a warehouse holds: stock lots picked first-expired-first-out, their receipts, counts
and write-offs, and the shop's prices."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from common.models import TimeStampedModel

from .warehouses import FrontWarehouse


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


class StockReceipt(models.Model):
    """Goods received into a warehouse, and where they came from: a marketplace order line
    or a market trade is received once (a second scan of the same delivery is refused)."""

    stock_lot = models.ForeignKey(
        StockLot, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("stock lot")
    )
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=12, decimal_places=3)
    order_line = models.OneToOneField(
        "marketplace.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="warehouse_receipt",
        verbose_name=_("marketplace order line"),
    )
    trade = models.OneToOneField(
        "marketplace.Trade",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="warehouse_receipt",
        verbose_name=_("market trade"),
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("stock receipt")
        verbose_name_plural = _("stock receipts")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_kg__gt=0), name="stock_receipt_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(order_line__isnull=True) | Q(trade__isnull=True),
                name="stock_receipt_one_source",
            ),
        ]


class StockCount(models.Model):
    """A counted quantity of a stock lot; a shortfall is written off as a count difference."""

    stock_lot = models.ForeignKey(
        StockLot, on_delete=models.PROTECT, related_name="counts", verbose_name=_("stock lot")
    )
    expected_kg = models.DecimalField(_("expected (kg)"), max_digits=12, decimal_places=3)
    counted_kg = models.DecimalField(_("counted (kg)"), max_digits=12, decimal_places=3)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    counted_at = models.DateTimeField(_("counted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        constraints = [
            models.CheckConstraint(condition=Q(counted_kg__gte=0), name="stock_count_not_negative"),
        ]


class ShopPrice(TimeStampedModel):
    """What a warehouse's shop asks per kilogram of a product; the catalogue shows listed
    products with stock."""

    warehouse = models.ForeignKey(
        FrontWarehouse, on_delete=models.CASCADE, related_name="prices", verbose_name=_("warehouse")
    )
    product = models.ForeignKey(
        "farms.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    price_per_kg = MoneyField(
        _("price per kg"), max_digits=14, decimal_places=2, default_currency="CNY"
    )
    is_listed = models.BooleanField(_("listed in the shop"), default=True)

    class Meta:
        verbose_name = _("shop price")
        verbose_name_plural = _("shop prices")
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "product"], name="shop_price_once"),
            models.CheckConstraint(condition=Q(price_per_kg__gt=0), name="shop_price_positive"),
        ]
