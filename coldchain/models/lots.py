"""What the cold chain knows of a harvest lot: its remaining shelf life."""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _


class LotCondition(models.Model):
    """A lot's remaining shelf life from its temperature history, refreshed as readings arrive.

    `consumed_fraction` is Σ Δt / SL(T) over the lot's life so far (unmonitored time counted at
    the top of its storage band, so an estimate never flatters); `expected_expiry_at` is when it
    runs out if kept at its reference temperature from `evaluated_at`. Front warehouses pick
    first-expired-first-out by it.
    """

    lot = models.OneToOneField(
        "farms.HarvestLot",
        on_delete=models.CASCADE,
        related_name="condition",
        verbose_name=_("harvest lot"),
    )
    evaluated_at = models.DateTimeField(_("evaluated at"))
    consumed_fraction = models.FloatField(_("shelf life used"))
    remaining_days = models.FloatField(_("remaining shelf life (days)"))
    expected_expiry_at = models.DateTimeField(_("expected expiry"))
    monitored_hours = models.FloatField(_("monitored hours"), default=0)
    unmonitored_hours = models.FloatField(_("unmonitored hours"), default=0)
    chilling_hours = models.FloatField(_("hours below the lowest safe temperature"), default=0)

    class Meta:
        verbose_name = _("lot condition")
        verbose_name_plural = _("lot conditions")
        indexes = [models.Index(fields=["expected_expiry_at"], name="lot_condition_expiry")]
