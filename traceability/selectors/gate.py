"""Reads of the market gate: who works it, what a scanned or typed code names, the entries each
person may see, and a lot's checks as steps of its journey.

Visibility: the staff of a market see its entries (and only its); a farmer sees the entries
of her own lots and a co-operative manager those of her co-operative's lots (read-only); a
platform admin sees every entry; everyone else none.
"""

from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from accounts.permissions import is_admin
from common.dates import BUSINESS_TIME_ZONE
from farms.models import HarvestLot, LotHold, Membership
from farms.selectors import lots_visible_to
from marketplace.markets.models import Market, MarketStaff

from ..exceptions import UnknownCertificateCode, UnknownLotCode, UnknownTraceCode
from ..models import Certificate, LaboratoryResult, MarketEntry, RapidTest
from ..models.gate import LaboratoryOutcome
from ..trail import JourneyStep
from .codes import trace_code_named

# --- Who works the gate ------------------------------------------------------------------------


def gate_staff_of(user: User) -> MarketStaff | None:
    """The user's place at a market's gate (any of its staff), or None."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    return MarketStaff.objects.select_related("market").filter(user=user).first()


def is_gate_staff(*, user: User, market: Market) -> bool:
    return MarketStaff.objects.filter(user=user, market=market).exists()


def is_gate_supervisor(*, user: User, market: Market) -> bool:
    return MarketStaff.objects.filter(user=user, market=market, is_supervisor=True).exists()


def market_supervisors(*, market: Market) -> QuerySet[User]:
    """Whom a positive rapid test at this market alerts."""
    return User.objects.filter(
        market_staff__market=market, market_staff__is_supervisor=True, is_active=True
    ).order_by("pk")


def cooperative_managers_of(*, lot: HarvestLot) -> QuerySet[User]:
    """Whom a laboratory's confirmation of the lot's residues alerts."""
    return User.objects.filter(
        pk__in=Membership.objects.filter(
            cooperative_id=lot.farm.cooperative_id, is_manager=True
        ).values("user"),
        is_active=True,
    ).order_by("pk")


# --- What a code names ---------------------------------------------------------------------------


def certificate_named(typed: str) -> Certificate:
    """The valid certificate a scanned or typed code names, with its lot, farm and co-operative;
    UnknownTraceCode otherwise: one answer for an unknown code, a revoked one and a code that
    is not a certificate's, so the gate confirms nothing about other codes."""
    try:
        code = trace_code_named(typed)
    except UnknownTraceCode:
        raise UnknownCertificateCode() from None
    certificate = (
        Certificate.objects.select_related(
            "trace_code", "lot__product", "lot__farm__cooperative", "cooperative"
        )
        .filter(trace_code=code, revoked_at__isnull=True)
        .first()
    )
    if certificate is None:
        raise UnknownCertificateCode()
    return certificate


def lot_named(lot_code: str) -> HarvestLot:
    """The harvest lot with this lot code, with its product, farm and co-operative, for a batch
    that came without a certificate; UnknownLotCode otherwise."""
    lot = (
        HarvestLot.objects.select_related("product", "farm__cooperative")
        .filter(lot_code=(lot_code or "").strip())
        .first()
        if (lot_code or "").strip()
        else None
    )
    if lot is None:
        raise UnknownLotCode()
    return lot


# --- Entries -----------------------------------------------------------------------------------


def _with_details(entries: QuerySet[MarketEntry]) -> QuerySet[MarketEntry]:
    return entries.select_related(
        "market",
        "lot__product",
        "lot__farm__cooperative",
        "certificate",
        "trace_code",
        "checked_by",
    ).prefetch_related(
        Prefetch("rapid_tests", queryset=RapidTest.objects.select_related("tested_by")),
        Prefetch(
            "laboratory_results", queryset=LaboratoryResult.objects.select_related("recorded_by")
        ),
    )


def entries_visible_to(user: User) -> QuerySet[MarketEntry]:
    entries = _with_details(MarketEntry.objects.all())
    if is_admin(user):
        return entries
    if not (user and user.is_authenticated and user.is_active):
        return entries.none()
    if user.role == Role.MARKET_OPERATOR:
        return entries.filter(market__in=MarketStaff.objects.filter(user=user).values("market"))
    if user.role in (Role.FARMER, Role.COOPERATIVE_MANAGER):
        return entries.filter(lot__in=lots_visible_to(user).values("pk"))
    return entries.none()


def entries_of_day(*, market: Market, day: date) -> QuerySet[MarketEntry]:
    """A market's entries of one business day (Asia/Shanghai), newest first."""
    start = datetime.combine(day, time.min, BUSINESS_TIME_ZONE)
    return _with_details(
        MarketEntry.objects.filter(
            market=market, arrived_at__gte=start, arrived_at__lt=start + timedelta(days=1)
        )
    )


def rapid_tests_visible_to(user: User) -> QuerySet[RapidTest]:
    return RapidTest.objects.filter(entry__in=entries_visible_to(user).values("pk")).select_related(
        "entry__market", "tested_by"
    )


def laboratory_results_visible_to(user: User) -> QuerySet[LaboratoryResult]:
    return LaboratoryResult.objects.filter(
        entry__in=entries_visible_to(user).values("pk")
    ).select_related("entry__market", "recorded_by")


def open_holds_of(entry: MarketEntry) -> QuerySet[LotHold]:
    """The holds this entry and its rapid tests placed that are still open."""
    return LotHold.objects.filter(
        lot_id=entry.lot_id, reference__in=entry.hold_references, released_at__isnull=True
    ).order_by("placed_at", "id")


# --- The lot's journey ----------------------------------------------------------------------------


def _entry_step(entry: MarketEntry, url: str) -> JourneyStep:
    return JourneyStep(
        at=entry.arrived_at,
        kind="market_entry",
        title=_("Checked in at %(market)s") % {"market": entry.market.name},
        detail=(
            _("With a compliance certificate")
            if entry.certificate_id
            else _("Without a valid certificate: rapid-tested on site")
        ),
        quantity_kg=entry.certificate.quantity_kg if entry.certificate else None,
        place=entry.market.name,
        url=url,
        public=True,
    )


def _rapid_test_step(entry: MarketEntry, test: RapidTest, url: str) -> JourneyStep:
    return JourneyStep(
        at=test.tested_at,
        kind="rapid_test",
        title=_("Rapid test: positive") if test.is_positive else _("Rapid test: negative"),
        detail=_("%(method)s, inhibition %(pct)s %%")
        % {"method": test.get_method_display(), "pct": test.inhibition_pct},
        place=entry.market.name,
        url=url,
        public=True,
    )


def _laboratory_step(entry: MarketEntry, result: LaboratoryResult, url: str) -> JourneyStep:
    return JourneyStep(
        at=result.recorded_at,
        kind="laboratory",
        title=(
            _("Laboratory: cleared")
            if result.outcome == LaboratoryOutcome.CLEARED
            else _("Laboratory: residues confirmed")
        ),
        detail=_("%(laboratory)s, report %(number)s")
        % {"laboratory": result.laboratory, "number": result.report_number},
        place=entry.market.name,
        url=url,
        public=True,
    )


def gate_steps(lot: HarvestLot) -> list[JourneyStep]:
    """The lot's market entries, rapid tests and laboratory results as public journey steps,
    in time order: the market's name and what was found, never the clerk, the driver or the
    vehicle."""
    steps: list[JourneyStep] = []
    entries = (
        MarketEntry.objects.filter(lot=lot)
        .select_related("market", "certificate")
        .prefetch_related("rapid_tests", "laboratory_results")
        .order_by("arrived_at", "id")
    )
    for entry in entries:
        url = reverse("traceability:gate_entry", args=[entry.pk])
        steps.append(_entry_step(entry, url))
        steps.extend(_rapid_test_step(entry, test, url) for test in entry.rapid_tests.all())
        steps.extend(
            _laboratory_step(entry, result, url) for result in entry.laboratory_results.all()
        )
    return sorted(steps, key=lambda step: step.at)
