"""Replenishment: the purchases suggested for a warehouse's day, adjusted and approved by
its manager."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel

from .warehouses import FrontWarehouse


class ReplenishmentStatus(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested")
    APPROVED = "approved", _("Approved and ordered")


class ReplenishmentPlan(TimeStampedModel):
    """Suggested purchases of one warehouse for one day, from the demand forecast; the
    manager adjusts and approves it, which places marketplace orders with the sellers."""

    warehouse = models.ForeignKey(
        FrontWarehouse,
        on_delete=models.PROTECT,
        related_name="replenishment_plans",
        verbose_name=_("warehouse"),
    )
    for_date = models.DateField(_("for the day"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ReplenishmentStatus,
        default=ReplenishmentStatus.SUGGESTED,
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("replenishment plan")
        verbose_name_plural = _("replenishment plans")
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "for_date"], name="replenishment_plan_once"
            ),
        ]


class ReplenishmentLine(models.Model):
    plan = models.ForeignKey(
        ReplenishmentPlan, on_delete=models.CASCADE, related_name="lines", verbose_name=_("plan")
    )
    product = models.ForeignKey(
        "farms.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    forecast_kg = models.DecimalField(_("forecast demand (kg)"), max_digits=12, decimal_places=3)
    method = models.CharField(_("forecast method"), max_length=40)
    usable_stock_kg = models.DecimalField(_("usable stock (kg)"), max_digits=12, decimal_places=3)
    suggested_kg = models.DecimalField(_("suggested (kg)"), max_digits=12, decimal_places=3)
    approved_kg = models.DecimalField(
        _("approved (kg)"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    listing = models.ForeignKey(
        "marketplace.Listing",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("listing bought from"),
    )
    marketplace_order = models.ForeignKey(
        "marketplace.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marketplace order"),
    )

    class Meta:
        verbose_name = _("replenishment line")
        verbose_name_plural = _("replenishment lines")
        constraints = [
            models.UniqueConstraint(fields=["plan", "product"], name="replenishment_line_once"),
            models.CheckConstraint(
                condition=Q(suggested_kg__gte=0), name="replenishment_suggested_not_negative"
            ),
        ]
