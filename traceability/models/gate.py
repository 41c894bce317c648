"""进场查验: a wholesale market's entry check of each incoming batch, the rapid test of a batch
that came without a valid certificate (or was sampled), and the laboratory's word on a
positive one.

The outcome moves only as ENTRY_MOVES allows, in traceability/services/gate.py. A positive
reading is decided in one place: the database computes `RapidTest.is_positive` from the
inhibition, at POSITIVE_INHIBITION_PCT (GB/T 5009.199: inhibition ≥ 50 % is positive).
"""

import re
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.state_machine import Transitions

from .certificates import Certificate
from .codes import TraceCode

POSITIVE_INHIBITION_PCT = Decimal("50")
MAX_GROSS_WEIGHT_KG = Decimal("100000")  # beyond any lorry: a typo is caught

# 省、自治区、直辖市 abbreviations that begin a plate.
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Z"  # I and O are never used on plates
_NEW_ENERGY_CLASS = "ABCDEFGHJK"  # D, A–C, E: battery; F, G, H, J, K: other new energy
PLATE_PATTERN = re.compile(
    rf"^[{PROVINCES}][{_LETTER}]("
    rf"[{_LETTER}0-9]{{4}}[{_LETTER}0-9挂学警港澳]"  # ordinary: 京A12345, 鲁B1234挂
    rf"|[{_NEW_ENERGY_CLASS}][{_LETTER}0-9][0-9]{{4}}"  # small new-energy car: 京AD12345
    rf"|[0-9]{{5}}[{_NEW_ENERGY_CLASS}]"  # large new-energy vehicle: 京A12345D
    r")$"
)


def normalise_plate(typed: str) -> str:
    """A plate as typed (any case, spaces, a dot or hyphen after the city letter) → 京A12345."""
    return re.sub(r"[\s·.\-]", "", (typed or "")).upper()


def is_vehicle_plate(plate: str) -> bool:
    """A mainland Chinese plate, ordinary or new-energy (already normalised)."""
    return bool(PLATE_PATTERN.match(plate))


class EntryOutcome(models.TextChoices):
    ADMITTED = "admitted", _("Admitted")
    AWAITING_RAPID_TEST = "awaiting_rapid_test", _("Awaiting rapid test")
    HELD = "held", _("Held: rapid test positive")
    CLEARED_BY_LABORATORY = "cleared_by_laboratory", _("Cleared by laboratory")
    CONFIRMED_POSITIVE = "confirmed_positive", _("Confirmed positive")


# A positive rapid test can hold an admitted batch too (markets sample certified batches).
ENTRY_MOVES = Transitions(
    {
        EntryOutcome.AWAITING_RAPID_TEST: {EntryOutcome.ADMITTED, EntryOutcome.HELD},
        EntryOutcome.ADMITTED: {EntryOutcome.HELD},
        EntryOutcome.CLEARED_BY_LABORATORY: {EntryOutcome.HELD},
        EntryOutcome.HELD: {EntryOutcome.CLEARED_BY_LABORATORY, EntryOutcome.CONFIRMED_POSITIVE},
    }
)
# Where a rapid test may be recorded: not on a held batch (that waits for the laboratory).
RAPID_TEST_OPEN = frozenset(
    {
        EntryOutcome.AWAITING_RAPID_TEST,
        EntryOutcome.ADMITTED,
        EntryOutcome.CLEARED_BY_LABORATORY,
    }
)


class RapidTestMethod(models.TextChoices):
    ENZYME_INHIBITION = (
        "enzyme_inhibition",
        _("Enzyme inhibition, GB/T 5009.199 (organophosphate and carbamate residues)"),
    )
    ENZYME_SUBSTRATE = "enzyme_substrate", _("Enzyme substrate, NY/T 448")
    COLLOIDAL_GOLD = "colloidal_gold", _("Colloidal gold test strip")
    OTHER = "other", _("Other rapid method")


class LaboratoryOutcome(models.TextChoices):
    CLEARED = "cleared", _("Cleared: residues within the limits")
    CONFIRMED = "confirmed", _("Confirmed: residues above the limits")


class MarketEntry(models.Model):
    """One batch checked in at a market's gate: its lot, the certificate it came with (none
    when it came without a valid one), the vehicle and the gross weight. Its own trace code
    (kind market_entry) is printed on the market's receipt."""

    market = models.ForeignKey(
        "marketplace.Market", on_delete=models.PROTECT, related_name="+", verbose_name=_("market")
    )
    lot = models.ForeignKey(
        "farms.HarvestLot",
        on_delete=models.PROTECT,
        related_name="market_entries",
        verbose_name=_("harvest lot"),
    )
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="market_entries",
        verbose_name=_("compliance certificate"),
    )
    trace_code = models.OneToOneField(
        TraceCode,
        on_delete=models.PROTECT,
        related_name="market_entry",
        verbose_name=_("receipt's trace code"),
    )
    vehicle_plate = models.CharField(_("vehicle plate"), max_length=10)
    gross_weight_kg = models.DecimalField(_("gross weight (kg)"), max_digits=12, decimal_places=3)
    arrived_at = models.DateTimeField(_("arrived at"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("checked by"),
    )
    outcome = models.CharField(_("outcome"), max_length=24, choices=EntryOutcome)
    # Made once per check-in by the clerk's page or API client: a resubmit (a double tap, a
    # retry on a weak network) finds the entry it made instead of checking the batch in twice.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("market entry check")
        verbose_name_plural = _("market entry checks")
        ordering = ["-arrived_at", "-id"]
        indexes = [models.Index(fields=["market", "-arrived_at"], name="market_entry_by_day")]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=EntryOutcome.values), name="market_entry_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(gross_weight_kg__gt=0, gross_weight_kg__lte=MAX_GROSS_WEIGHT_KG),
                name="market_entry_gross_weight_in_range",
            ),
            models.UniqueConstraint(
                fields=["checked_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="market_entry_once_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot} @ {self.market_id} · {self.vehicle_plate}"

    @property
    def hold_references(self) -> list[str]:
        """The references of every hold this entry and its tests may have placed."""
        return [self.entry_hold_reference, *(t.hold_reference for t in self.rapid_tests.all())]

    @property
    def entry_hold_reference(self) -> str:
        return f"entry:{self.pk}"


class RapidTest(models.Model):
    """农药残留快速检测: a sample of the batch tested on site. Positive when the inhibition is
    at least 50 %; a positive batch is held and goes to a laboratory."""

    entry = models.ForeignKey(
        MarketEntry,
        on_delete=models.PROTECT,
        related_name="rapid_tests",
        verbose_name=_("market entry check"),
    )
    method = models.CharField(_("method"), max_length=24, choices=RapidTestMethod)
    sample = models.CharField(_("sample"), max_length=200)
    inhibition_pct = models.DecimalField(_("inhibition (%)"), max_digits=5, decimal_places=2)
    is_positive = models.GeneratedField(
        expression=models.ExpressionWrapper(
            Q(inhibition_pct__gte=POSITIVE_INHIBITION_PCT), output_field=models.BooleanField()
        ),
        output_field=models.BooleanField(),
        db_persist=True,
        verbose_name=_("positive"),
    )
    tested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("tested by"),
    )
    tested_at = models.DateTimeField(_("tested at"))

    class Meta:
        verbose_name = _("rapid test")
        verbose_name_plural = _("rapid tests")
        ordering = ["tested_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(inhibition_pct__gte=0, inhibition_pct__lte=100),
                name="rapid_test_inhibition_0_to_100",
            ),
            models.CheckConstraint(
                condition=Q(method__in=RapidTestMethod.values), name="rapid_test_method_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} · {self.inhibition_pct} %"

    @property
    def hold_reference(self) -> str:
        return f"rapid_test:{self.pk}"


class LaboratoryResult(models.Model):
    """A laboratory's report on a batch held by a positive rapid test: it clears the batch or
    confirms the residues. A batch cleared once and held again by a later test gets another."""

    entry = models.ForeignKey(
        MarketEntry,
        on_delete=models.PROTECT,
        related_name="laboratory_results",
        verbose_name=_("market entry check"),
    )
    laboratory = models.CharField(_("laboratory"), max_length=120)
    report_number = models.CharField(_("report number"), max_length=60)
    outcome = models.CharField(_("outcome"), max_length=12, choices=LaboratoryOutcome)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("laboratory result")
        verbose_name_plural = _("laboratory results")
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=LaboratoryOutcome.values),
                name="laboratory_result_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.laboratory} {self.report_number}"
