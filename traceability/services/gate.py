"""Writes of the market gate (进场查验): checking a batch in, its rapid test, the laboratory's
result, and the market's choice whether an unchecked lot may trade.

A batch with a valid certificate is admitted at once (farms' LotAdmission); one without is
held at that market's counter (HoldSource.ENTRY_CHECK) until a rapid test. A negative test
admits it; a positive one holds it (HoldSource.RAPID_TEST) and alerts the market's
supervisors; a laboratory then clears it (holds released, admitted) or confirms it (held, the
co-operative's managers alerted).

Lock order (farms/services/holds.py): the lot's row FOR UPDATE first, then the entry's row.
Notifications are saved in the transaction and pushed after commit (accounts.notifications).
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import notify
from farms.choices import HoldSource
from farms.models import HarvestLot
from farms.services.holds import admit_lot, place_hold, release_hold
from marketplace.markets.models import Market

from ..choices import TraceCodeKind
from ..exceptions import (
    InvalidArrivalTime,
    InvalidGrossWeight,
    InvalidInhibition,
    InvalidTestDetails,
    InvalidVehiclePlate,
    LaboratoryResultNotExpected,
    NotGateStaff,
    NotGateSupervisor,
    RapidTestNotOpen,
)
from ..models import Certificate, LaboratoryResult, MarketEntry, RapidTest
from ..models.gate import (
    ENTRY_MOVES,
    MAX_GROSS_WEIGHT_KG,
    RAPID_TEST_OPEN,
    EntryOutcome,
    LaboratoryOutcome,
    RapidTestMethod,
    is_vehicle_plate,
    normalise_plate,
)
from ..selectors.gate import (
    certificate_named,
    cooperative_managers_of,
    is_gate_staff,
    is_gate_supervisor,
    lot_named,
    market_supervisors,
    open_holds_of,
)
from .codes import issue_trace_code

# --- Input rules, shared with the pages' and the API's forms ------------------------------------


def clean_vehicle_plate(typed: str) -> str:
    plate = normalise_plate(typed)
    if not is_vehicle_plate(plate):
        raise InvalidVehiclePlate()
    return plate


def clean_gross_weight(value: object) -> Decimal:
    try:
        weight = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidGrossWeight() from None
    if not weight.is_finite() or not (0 < weight <= MAX_GROSS_WEIGHT_KG):
        raise InvalidGrossWeight()
    return weight.quantize(Decimal("0.001"))


def clean_inhibition(value: object) -> Decimal:
    try:
        inhibition = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInhibition() from None
    if not inhibition.is_finite() or not (0 <= inhibition <= 100):
        raise InvalidInhibition()
    return inhibition.quantize(Decimal("0.01"))


def _clean_moment(value: datetime | None, *, field: str) -> datetime:
    """Now when not given; never in the future (a few minutes' clock drift allowed)."""
    now = timezone.now()
    if value is None:
        return now
    if timezone.is_naive(value) or value > now + timedelta(minutes=5):
        raise InvalidArrivalTime(field=field)
    return value


def _required_text(value: str, *, field: str, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidTestDetails(field=field)
    return text[:max_length]


def _require_staff(user: User, market: Market, *, supervisor: bool = False) -> None:
    if supervisor and not is_gate_supervisor(user=user, market=market):
        raise NotGateSupervisor()
    if not is_gate_staff(user=user, market=market):
        raise NotGateStaff()


def _lock_entry(entry_id: int) -> MarketEntry:
    """The entry, its lot's row locked FOR UPDATE first (the lot before what belongs to it)."""
    lot_id = MarketEntry.objects.filter(pk=entry_id).values_list("lot_id", flat=True).get()
    HarvestLot.objects.select_for_update(of=("self",)).filter(pk=lot_id).first()
    return (
        MarketEntry.objects.select_for_update(of=("self",))
        .select_related("market", "lot__farm__cooperative", "lot__product")
        .get(pk=entry_id)
    )


# --- Checking a batch in --------------------------------------------------------------------------


def _create_entry(
    *,
    market: Market,
    by: User,
    lot: HarvestLot,
    certificate: Certificate | None,
    vehicle_plate: str,
    gross_weight_kg: object,
    arrived_at: datetime | None,
    outcome: EntryOutcome,
    idempotency_key: str,
) -> MarketEntry:
    plate = clean_vehicle_plate(vehicle_plate)
    weight = clean_gross_weight(gross_weight_kg)
    arrived = _clean_moment(arrived_at, field="arrived_at")
    return MarketEntry.objects.create(
        market=market,
        lot=lot,
        certificate=certificate,
        trace_code=issue_trace_code(lot=lot, kind=TraceCodeKind.MARKET_ENTRY),
        vehicle_plate=plate,
        gross_weight_kg=weight,
        arrived_at=arrived,
        checked_by=by,
        outcome=outcome,
        idempotency_key=idempotency_key,
    )


def _entry_made_with(*, by: User, idempotency_key: str) -> MarketEntry | None:
    if not idempotency_key:
        return None
    return MarketEntry.objects.filter(checked_by=by, idempotency_key=idempotency_key).first()


def _first_entry_per_key(
    *, by: User, idempotency_key: str, check_in: Callable[[], MarketEntry]
) -> MarketEntry:
    """Run a check-in; when a concurrent resubmit with the same key committed first (the
    unique key refuses this one), answer with its entry."""
    try:
        return check_in()
    except IntegrityError:
        first = _entry_made_with(by=by, idempotency_key=idempotency_key)
        if first is None:
            raise
        return first


def check_in_with_certificate(
    *,
    market: Market,
    by: User,
    code: str,
    vehicle_plate: str,
    gross_weight_kg: object,
    arrived_at: datetime | None = None,
    idempotency_key: str = "",
) -> MarketEntry:
    """Check a batch in on its certificate's code (scanned or typed): a valid certificate
    admits its lot at this market. An unknown, revoked or non-certificate code is refused on
    `code` with one message. Only the market's staff. Idempotent by key: a resubmit returns
    the entry the first one made."""
    return _first_entry_per_key(
        by=by,
        idempotency_key=idempotency_key,
        check_in=lambda: _check_in_with_certificate(
            market=market,
            by=by,
            code=code,
            vehicle_plate=vehicle_plate,
            gross_weight_kg=gross_weight_kg,
            arrived_at=arrived_at,
            idempotency_key=idempotency_key,
        ),
    )


def _check_in_with_certificate(
    *,
    market: Market,
    by: User,
    code: str,
    vehicle_plate: str,
    gross_weight_kg: object,
    arrived_at: datetime | None,
    idempotency_key: str,
) -> MarketEntry:
    with transaction.atomic():
        _require_staff(by, market)
        if first := _entry_made_with(by=by, idempotency_key=idempotency_key):
            return first
        certificate = certificate_named(code)
        entry = _create_entry(
            market=market,
            by=by,
            lot=certificate.lot,
            certificate=certificate,
            vehicle_plate=vehicle_plate,
            gross_weight_kg=gross_weight_kg,
            arrived_at=arrived_at,
            outcome=EntryOutcome.ADMITTED,
            idempotency_key=idempotency_key,
        )
        admit_lot(lot=certificate.lot, market_id=market.pk, reference=entry.entry_hold_reference)
    return entry


def check_in_without_certificate(
    *,
    market: Market,
    by: User,
    lot_code: str,
    vehicle_plate: str,
    gross_weight_kg: object,
    arrived_at: datetime | None = None,
    idempotency_key: str = "",
) -> MarketEntry:
    """Check in a batch that came without a valid certificate, by its lot code: the lot is held
    at this market's counter until a rapid test decides. Only the market's staff. Idempotent
    by key, as check_in_with_certificate."""
    return _first_entry_per_key(
        by=by,
        idempotency_key=idempotency_key,
        check_in=lambda: _check_in_without_certificate(
            market=market,
            by=by,
            lot_code=lot_code,
            vehicle_plate=vehicle_plate,
            gross_weight_kg=gross_weight_kg,
            arrived_at=arrived_at,
            idempotency_key=idempotency_key,
        ),
    )


def _check_in_without_certificate(
    *,
    market: Market,
    by: User,
    lot_code: str,
    vehicle_plate: str,
    gross_weight_kg: object,
    arrived_at: datetime | None,
    idempotency_key: str,
) -> MarketEntry:
    with transaction.atomic():
        _require_staff(by, market)
        if first := _entry_made_with(by=by, idempotency_key=idempotency_key):
            return first
        lot = lot_named(lot_code)
        entry = _create_entry(
            market=market,
            by=by,
            lot=lot,
            certificate=None,
            vehicle_plate=vehicle_plate,
            gross_weight_kg=gross_weight_kg,
            arrived_at=arrived_at,
            outcome=EntryOutcome.AWAITING_RAPID_TEST,
            idempotency_key=idempotency_key,
        )
        place_hold(
            lot=lot,
            source=HoldSource.ENTRY_CHECK,
            reference=entry.entry_hold_reference,
            reason=_("No valid certificate at the gate of %(market)s: waiting for a rapid test.")
            % {"market": market.name},
            market_id=market.pk,
            placed_by=by,
        )
    return entry


# --- Rapid test ------------------------------------------------------------------------------------


def record_rapid_test(
    *,
    entry_id: int,
    by: User,
    method: str,
    sample: str,
    inhibition_pct: object,
    tested_at: datetime | None = None,
) -> RapidTest:
    """Record a rapid test of the batch (a batch without a certificate, or a sample of one
    with). Negative: the gate's hold is lifted and the lot admitted. Positive (inhibition
    ≥ 50 %, RapidTest.is_positive): the lot is held at this market's counter and every
    supervisor of the market is alerted; it waits for a laboratory. Only the market's staff;
    a held batch takes no more tests."""
    with transaction.atomic():
        entry = _lock_entry(entry_id)
        _require_staff(by, entry.market)
        if method not in RapidTestMethod.values:
            raise InvalidTestDetails(_("Choose a test method from the list."), field="method")
        sample_text = _required_text(sample, field="sample", max_length=200)
        inhibition = clean_inhibition(inhibition_pct)
        moment = _clean_moment(tested_at, field="tested_at")
        if entry.outcome not in RAPID_TEST_OPEN:
            raise RapidTestNotOpen()
        test = RapidTest.objects.create(
            entry=entry,
            method=method,
            sample=sample_text,
            inhibition_pct=inhibition,
            tested_by=by,
            tested_at=moment,
        )
        test.refresh_from_db(fields=["is_positive"])
        for hold in open_holds_of(entry).filter(source=HoldSource.ENTRY_CHECK):
            release_hold(
                hold=hold, released_by=by, note=_("Rapid test #%(id)s recorded.") % {"id": test.pk}
            )
        if test.is_positive:
            _hold_positive(entry=entry, test=test, by=by)
        else:
            if entry.outcome == EntryOutcome.AWAITING_RAPID_TEST:
                _move(entry, EntryOutcome.ADMITTED)
            admit_lot(lot=entry.lot, market_id=entry.market_id, reference=test.hold_reference)
    return test


def _move(entry: MarketEntry, outcome: EntryOutcome) -> None:
    ENTRY_MOVES.check(entry.outcome, outcome)
    entry.outcome = outcome
    entry.save(update_fields=["outcome"])


def _entry_url(entry: MarketEntry) -> str:
    return reverse("traceability:gate_entry", args=[entry.pk])


def _hold_positive(*, entry: MarketEntry, test: RapidTest, by: User) -> None:
    _move(entry, EntryOutcome.HELD)
    product = entry.lot.product.name_zh
    reason = _(
        "Rapid test positive at %(market)s (inhibition %(pct)s %%): held until a laboratory clears it."
    ) % {"market": entry.market.name, "pct": test.inhibition_pct}
    place_hold(
        lot=entry.lot,
        source=HoldSource.RAPID_TEST,
        reference=test.hold_reference,
        reason=reason,
        market_id=entry.market_id,
        placed_by=by,
    )
    for supervisor in market_supervisors(market=entry.market):
        notify(
            user=supervisor,
            kind="gate.rapid_test_positive",
            title=_("Rapid test positive: %(product)s, lot %(lot)s")
            % {"product": product, "lot": entry.lot.lot_code},
            body=reason,
            url=_entry_url(entry),
            payload={"entry_id": entry.pk, "rapid_test_id": test.pk, "lot_id": entry.lot_id},
        )


# --- Laboratory ------------------------------------------------------------------------------------


def record_laboratory_result(
    *, entry_id: int, by: User, laboratory: str, report_number: str, outcome: str
) -> LaboratoryResult:
    """The laboratory's report on a held batch. Cleared: every hold of this entry is released
    and the lot admitted. Confirmed: the batch stays held and the co-operative's managers are
    alerted. Only a supervisor of the market."""
    with transaction.atomic():
        entry = _lock_entry(entry_id)
        _require_staff(by, entry.market, supervisor=True)
        laboratory_name = _required_text(laboratory, field="laboratory", max_length=120)
        number = _required_text(report_number, field="report_number", max_length=60)
        if outcome not in LaboratoryOutcome.values:
            raise InvalidTestDetails(_("Choose the laboratory's finding."), field="outcome")
        if entry.outcome != EntryOutcome.HELD:
            raise LaboratoryResultNotExpected()
        result = LaboratoryResult.objects.create(
            entry=entry,
            laboratory=laboratory_name,
            report_number=number,
            outcome=outcome,
            recorded_by=by,
            recorded_at=timezone.now(),
        )
        if outcome == LaboratoryOutcome.CLEARED:
            _move(entry, EntryOutcome.CLEARED_BY_LABORATORY)
            note = _("Cleared by %(laboratory)s, report %(number)s.") % {
                "laboratory": laboratory_name,
                "number": number,
            }
            for hold in open_holds_of(entry):
                release_hold(hold=hold, released_by=by, note=note)
            admit_lot(lot=entry.lot, market_id=entry.market_id, reference=f"laboratory:{result.pk}")
        else:
            _move(entry, EntryOutcome.CONFIRMED_POSITIVE)
            for manager in cooperative_managers_of(lot=entry.lot):
                notify(
                    user=manager,
                    kind="gate.laboratory_confirmed",
                    title=_("Residues confirmed: lot %(lot)s at %(market)s")
                    % {"lot": entry.lot.lot_code, "market": entry.market.name},
                    body=_("%(laboratory)s, report %(number)s: the batch stays held.")
                    % {"laboratory": laboratory_name, "number": number},
                    url=_entry_url(entry),
                    payload={"entry_id": entry.pk, "lot_id": entry.lot_id},
                )
    return result


# --- The market's setting ----------------------------------------------------------------------------


def set_entry_check_required(*, market: Market, by: User, required: bool) -> Market:
    """Whether only lots checked in at this market's gate may trade at its counter. Only a
    supervisor of the market."""
    with transaction.atomic():
        _require_staff(by, market, supervisor=True)
        Market.objects.filter(pk=market.pk).update(
            entry_check_required=bool(required), updated_at=timezone.now()
        )
        market.refresh_from_db(fields=["entry_check_required", "updated_at"])
    return market
