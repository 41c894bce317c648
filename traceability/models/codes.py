"""Trace codes: the unguessable code behind every QR a label carries."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import TraceCodeKind


class TraceCode(models.Model):
    """One printed label's code (a certificate, a market entry receipt, a warehouse packing
    label, a consumer's order) and the lot it traces. `/t/<code>` opens the lot's public page;
    scans are counted per code so that a copied label shows up.

    Codes are 12 characters of Crockford base32 (60 random bits, `traceability.codes`).
    """

    code = models.CharField(_("trace code"), max_length=16, unique=True)
    lot = models.ForeignKey(
        "farms.HarvestLot",
        on_delete=models.PROTECT,
        related_name="trace_codes",
        verbose_name=_("harvest lot"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=TraceCodeKind)
    # For warehouse packing labels and consumer orders: what the label was printed for.
    stock_lot = models.ForeignKey(
        "delivery.StockLot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("stock lot"),
    )
    delivery_order = models.ForeignKey(
        "delivery.DeliveryOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consumer order"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("trace code")
        verbose_name_plural = _("trace codes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=TraceCodeKind.values), name="trace_code_kind_valid"
            ),
            models.UniqueConstraint(
                fields=["stock_lot"],
                condition=models.Q(kind=TraceCodeKind.STOCK_LABEL),
                name="trace_code_one_per_stock_lot",
            ),
            models.UniqueConstraint(
                fields=["delivery_order", "lot"],
                condition=models.Q(kind=TraceCodeKind.CONSUMER_ORDER),
                name="trace_code_one_per_order_lot",
            ),
        ]

    def __str__(self) -> str:
        return self.code
