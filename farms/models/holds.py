"""What may stop a lot from being sold, kept with the lot so that every app that sells can
read it without knowing who decided: a hold (a failed market entry check, a positive test, a
recall) and an admission (the lot passed a market's gate check and may trade there).

Traceability writes both; marketplace, the market counter and delivery only read them, through
`farms.services.holds.lock_lots_for_sale`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import HoldSource
from .lots import HarvestLot


class LotHold(models.Model):
    """A lot may not be sold while this is open. With a market it holds the lot at that
    market's counter only (a failed entry check there); without one, everywhere (a recall).

    `reason` is what the refusal shows; it is written once in the language of whoever placed
    the hold (a person's words, not a label), and kept as evidence.
    """

    lot = models.ForeignKey(
        HarvestLot, on_delete=models.PROTECT, related_name="holds", verbose_name=_("harvest lot")
    )
    # A data reference up the layers (as settlement's Account.trader): farms never imports it.
    market = models.ForeignKey(
        "marketplace.Market",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("market"),
        help_text=_("Empty: the lot is held everywhere."),
    )
    source = models.CharField(_("source"), max_length=16, choices=HoldSource)
    # The record that placed it, e.g. "rapid_test:12" or "recall:RC-7K2M": one open hold each.
    reference = models.CharField(_("reference"), max_length=64)
    reason = models.CharField(_("reason"), max_length=300)
    placed_at = models.DateTimeField(_("placed at"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("placed by"),
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released by"),
    )
    release_note = models.CharField(_("release note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("lot hold")
        verbose_name_plural = _("lot holds")
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(
                fields=["lot"], condition=Q(released_at__isnull=True), name="lot_hold_open"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "reference"],
                condition=Q(released_at__isnull=True),
                name="lot_hold_open_once_per_reference",
            ),
            models.CheckConstraint(
                condition=Q(source__in=HoldSource.values), name="lot_hold_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | Q(released_at__gte=models.F("placed_at")),
                name="lot_hold_released_after_placed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot} · {self.get_source_display()}"

    @property
    def is_open(self) -> bool:
        return self.released_at is None


class LotAdmission(models.Model):
    """The lot passed a market's gate check (a valid certificate, a negative rapid test or a
    laboratory's all-clear) and may trade at that market's counter, where the market asks for
    entry checks (`Market.entry_check_required`)."""

    lot = models.ForeignKey(
        HarvestLot,
        on_delete=models.PROTECT,
        related_name="admissions",
        verbose_name=_("harvest lot"),
    )
    market = models.ForeignKey(
        "marketplace.Market", on_delete=models.PROTECT, related_name="+", verbose_name=_("market")
    )
    admitted_at = models.DateTimeField(_("admitted at"))
    # The entry check that admitted it, e.g. "entry:31".
    reference = models.CharField(_("reference"), max_length=64)

    class Meta:
        verbose_name = _("lot admission")
        verbose_name_plural = _("lot admissions")
        constraints = [
            models.UniqueConstraint(fields=["lot", "market"], name="lot_admitted_once_per_market")
        ]

    def __str__(self) -> str:
        return f"{self.lot} @ {self.market_id}"
