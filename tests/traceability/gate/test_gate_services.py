"""The gate's rules: a certificate admits, a missing one holds until a rapid test, a positive
test holds and alerts the supervisors, a laboratory clears or confirms; bad input saves
nothing."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Notification
from common.exceptions import RefusalKind
from farms.choices import HoldSource
from farms.exceptions import LotHeld, LotNotAdmitted
from farms.models import LotAdmission, LotHold
from farms.services.holds import lock_lots_for_sale
from traceability.choices import TraceCodeKind
from traceability.exceptions import (
    InvalidGrossWeight,
    InvalidInhibition,
    InvalidVehiclePlate,
    LaboratoryResultNotExpected,
    NotGateStaff,
    NotGateSupervisor,
    RapidTestNotOpen,
    UnknownLotCode,
    UnknownTraceCode,
)
from traceability.models import MarketEntry, RapidTest
from traceability.models.gate import EntryOutcome, RapidTestMethod, is_vehicle_plate
from traceability.services.gate import (
    check_in_with_certificate,
    check_in_without_certificate,
    record_laboratory_result,
    record_rapid_test,
    set_entry_check_required,
)

PLATE = "鲁G12345"


def sale_refusal(lot, market):
    """What the counter's lock would say about selling the lot at the market now."""
    try:
        with transaction.atomic():
            lock_lots_for_sale(lot_ids=[lot.pk], market_id=market.pk, admission_required=True)
    except (LotHeld, LotNotAdmitted) as refusal:
        return refusal
    return None


def check_in_uncertified(market, clerk, lot):
    return check_in_without_certificate(
        market=market, by=clerk, lot_code=lot.lot_code, vehicle_plate=PLATE, gross_weight_kg="520"
    )


def rapid_test(entry, clerk, pct):
    return record_rapid_test(
        entry_id=entry.pk,
        by=clerk,
        method=RapidTestMethod.ENZYME_INHIBITION,
        sample="白菜 1 kg, 3 heads",
        inhibition_pct=pct,
    )


@pytest.mark.django_db
def test_clerk_checks_a_certified_batch_in_and_the_lot_may_trade(
    market, gate_clerk, certificate, lot
):
    assert isinstance(sale_refusal(lot, market), LotNotAdmitted)

    entry = check_in_with_certificate(
        market=market,
        by=gate_clerk,
        code=certificate.trace_code.code.lower(),
        vehicle_plate=" 鲁g·12345 ",
        gross_weight_kg="512.5",
    )

    assert entry.outcome == EntryOutcome.ADMITTED
    assert entry.certificate == certificate
    assert entry.vehicle_plate == "鲁G12345"
    assert entry.gross_weight_kg == Decimal("512.500")
    assert entry.trace_code.kind == TraceCodeKind.MARKET_ENTRY
    assert entry.trace_code.lot == lot
    assert LotAdmission.objects.filter(lot=lot, market=market).exists()
    assert sale_refusal(lot, market) is None


@pytest.mark.django_db
@pytest.mark.parametrize("plate", ["京A12345", "沪AD12345", "粤B12345F", "鲁G1234挂", "京AF1234"])
def test_ordinary_and_new_energy_plates_are_accepted(plate):
    assert is_vehicle_plate(plate)


@pytest.mark.parametrize(
    "plate", ["", "A12345", "京12345", "京A1234", "京AI2345", "京A123456", "X京A12345"]
)
def test_what_is_not_a_plate_is_refused(plate):
    assert not is_vehicle_plate(plate)


@pytest.mark.django_db
def test_unknown_and_revoked_codes_get_one_answer_on_code(
    market, gate_clerk, certificate, certify, lot
):
    revoked = certify(lot, "10")
    revoked.revoked_at = revoked.issued_on and certificate.created_at
    revoked.save(update_fields=["revoked_at"])
    messages = []
    for code in ("0000-0000-0000", "nonsense", revoked.trace_code.code):
        with pytest.raises(UnknownTraceCode) as refusal:
            check_in_with_certificate(
                market=market, by=gate_clerk, code=code, vehicle_plate=PLATE, gross_weight_kg="5"
            )
        assert refusal.value.field == "code"
        messages.append(str(refusal.value.message))
    assert len(set(messages)) == 1
    assert not MarketEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("plate", "weight", "error"),
    [
        ("ABC123", "500", InvalidVehiclePlate),
        (PLATE, "0", InvalidGrossWeight),
        (PLATE, "-3", InvalidGrossWeight),
        (PLATE, "100000.001", InvalidGrossWeight),
        (PLATE, "heavy", InvalidGrossWeight),
    ],
)
def test_bad_plate_or_weight_is_refused_on_its_field_and_nothing_is_saved(
    market, gate_clerk, certificate, lot, plate, weight, error
):
    with pytest.raises(error) as refusal:
        check_in_with_certificate(
            market=market,
            by=gate_clerk,
            code=certificate.trace_code.code,
            vehicle_plate=plate,
            gross_weight_kg=weight,
        )

    assert refusal.value.field in {"vehicle_plate", "gross_weight_kg"}
    assert not MarketEntry.objects.exists()
    assert not LotAdmission.objects.exists()


@pytest.mark.django_db
def test_staff_of_another_market_and_other_roles_may_not_check_in(
    market, other_operator, member, certificate
):
    for user in (other_operator, member):
        with pytest.raises(NotGateStaff) as refusal:
            check_in_with_certificate(
                market=market, by=user, code=certificate.trace_code.code,
                vehicle_plate=PLATE, gross_weight_kg="5",
            )  # fmt: skip
        assert refusal.value.kind == RefusalKind.FORBIDDEN
    assert not MarketEntry.objects.exists()


@pytest.mark.django_db
def test_a_batch_without_certificate_is_held_until_a_negative_rapid_test(
    market, gate_clerk, uncertified_lot
):
    entry = check_in_uncertified(market, gate_clerk, uncertified_lot)

    assert entry.outcome == EntryOutcome.AWAITING_RAPID_TEST
    refusal = sale_refusal(uncertified_lot, market)
    assert isinstance(refusal, LotHeld)
    assert "rapid test" in str(refusal.message)

    test = rapid_test(entry, gate_clerk, "12.5")

    entry.refresh_from_db()
    assert test.is_positive is False
    assert entry.outcome == EntryOutcome.ADMITTED
    assert not LotHold.objects.filter(lot=uncertified_lot, released_at__isnull=True).exists()
    assert sale_refusal(uncertified_lot, market) is None


@pytest.mark.django_db
def test_unknown_lot_code_is_refused_on_lot_code(market, gate_clerk):
    with pytest.raises(UnknownLotCode) as refusal:
        check_in_without_certificate(
            market=market, by=gate_clerk, lot_code="NO-SUCH", vehicle_plate=PLATE,
            gross_weight_kg="5",
        )  # fmt: skip
    assert refusal.value.field == "lot_code"
    assert not MarketEntry.objects.exists()


@pytest.mark.django_db
def test_positive_rapid_test_holds_the_lot_and_alerts_every_supervisor(
    market,
    gate_clerk,
    supervisor,
    other_operator,
    uncertified_lot,
    django_capture_on_commit_callbacks,
):
    entry = check_in_uncertified(market, gate_clerk, uncertified_lot)

    with django_capture_on_commit_callbacks(execute=True):
        test = rapid_test(entry, gate_clerk, "50")

    entry.refresh_from_db()
    assert test.is_positive is True
    assert entry.outcome == EntryOutcome.HELD
    hold = LotHold.objects.get(lot=uncertified_lot, released_at__isnull=True)
    assert hold.source == HoldSource.RAPID_TEST
    assert hold.market == market
    refusal = sale_refusal(uncertified_lot, market)
    assert isinstance(refusal, LotHeld)
    assert "Rapid test positive" in str(refusal.message)
    # Held at this market only.
    assert not LotHold.objects.filter(lot=uncertified_lot, market__isnull=True).exists()

    alerted = Notification.objects.filter(kind="gate.rapid_test_positive")
    assert sorted(alerted.values_list("user_id", flat=True)) == [supervisor.pk]
    note = alerted.get()
    assert uncertified_lot.lot_code in note.title
    assert note.url == f"/trace/gate/entries/{entry.pk}/"

    with pytest.raises(RapidTestNotOpen):
        rapid_test(entry, gate_clerk, "10")


@pytest.mark.django_db
def test_positive_sample_of_a_certified_batch_holds_it_too(market, gate_clerk, certificate, lot):
    entry = check_in_with_certificate(
        market=market, by=gate_clerk, code=certificate.trace_code.code, vehicle_plate=PLATE,
        gross_weight_kg="80",
    )  # fmt: skip
    rapid_test(entry, gate_clerk, "63.20")

    assert isinstance(sale_refusal(lot, market), LotHeld)


@pytest.mark.django_db
@pytest.mark.parametrize("pct", ["-0.01", "100.01", "abc", "NaN"])
def test_inhibition_outside_0_to_100_is_refused_and_nothing_saved(
    market, gate_clerk, uncertified_lot, pct
):
    entry = check_in_uncertified(market, gate_clerk, uncertified_lot)

    with pytest.raises(InvalidInhibition) as refusal:
        rapid_test(entry, gate_clerk, pct)

    assert refusal.value.field == "inhibition_pct"
    assert not RapidTest.objects.exists()
    entry.refresh_from_db()
    assert entry.outcome == EntryOutcome.AWAITING_RAPID_TEST


@pytest.mark.django_db
def test_the_database_refuses_an_inhibition_above_100(market, gate_clerk, uncertified_lot):
    entry = check_in_uncertified(market, gate_clerk, uncertified_lot)
    with pytest.raises(IntegrityError), transaction.atomic():
        RapidTest.objects.create(
            entry=entry, method="other", sample="x", inhibition_pct=Decimal("101"),
            tested_by=gate_clerk, tested_at=entry.arrived_at,
        )  # fmt: skip


@pytest.mark.django_db
def test_laboratory_clears_a_held_batch(market, gate_clerk, supervisor, uncertified_lot):
    entry = check_in_uncertified(market, gate_clerk, uncertified_lot)
    rapid_test(entry, gate_clerk, "71")

    with pytest.raises(NotGateSupervisor):
        record_laboratory_result(
            entry_id=entry.pk, by=gate_clerk, laboratory="北京市农产品质量检测中心",
            report_number="BJ-2026-118", outcome="cleared",
        )  # fmt: skip
    record_laboratory_result(
        entry_id=entry.pk, by=supervisor, laboratory="北京市农产品质量检测中心",
        report_number="BJ-2026-118", outcome="cleared",
    )  # fmt: skip

    entry.refresh_from_db()
    assert entry.outcome == EntryOutcome.CLEARED_BY_LABORATORY
    assert not LotHold.objects.filter(lot=uncertified_lot, released_at__isnull=True).exists()
    assert sale_refusal(uncertified_lot, market) is None


@pytest.mark.django_db
def test_laboratory_confirms_a_positive_and_the_cooperative_managers_hear_of_it(
    market, gate_clerk, supervisor, manager, uncertified_lot
):
    entry = check_in_uncertified(market, gate_clerk, uncertified_lot)
    rapid_test(entry, gate_clerk, "88")

    record_laboratory_result(
        entry_id=entry.pk, by=supervisor, laboratory="北京市农产品质量检测中心",
        report_number="BJ-2026-119", outcome="confirmed",
    )  # fmt: skip

    entry.refresh_from_db()
    assert entry.outcome == EntryOutcome.CONFIRMED_POSITIVE
    assert isinstance(sale_refusal(uncertified_lot, market), LotHeld)
    confirmed = Notification.objects.get(kind="gate.laboratory_confirmed")
    assert confirmed.user == manager
    assert "BJ-2026-119" in confirmed.body


@pytest.mark.django_db
def test_a_laboratory_result_needs_a_held_batch(market, gate_clerk, supervisor, uncertified_lot):
    entry = check_in_uncertified(market, gate_clerk, uncertified_lot)
    with pytest.raises(LaboratoryResultNotExpected):
        record_laboratory_result(
            entry_id=entry.pk, by=supervisor, laboratory="lab", report_number="1",
            outcome="cleared",
        )  # fmt: skip


@pytest.mark.django_db
def test_only_a_supervisor_changes_the_markets_entry_check_setting(market, operator, supervisor):
    with pytest.raises(NotGateSupervisor):
        set_entry_check_required(market=market, by=operator, required=True)
    market.refresh_from_db()
    assert market.entry_check_required is False

    set_entry_check_required(market=market, by=supervisor, required=True)
    market.refresh_from_db()
    assert market.entry_check_required is True


@pytest.mark.django_db
def test_a_resubmitted_check_in_returns_the_first_entry(market, gate_clerk, uncertified_lot):
    arguments = {
        "market": market,
        "by": gate_clerk,
        "lot_code": uncertified_lot.lot_code,
        "vehicle_plate": PLATE,
        "gross_weight_kg": "520",
        "idempotency_key": "tap-1",
    }
    first = check_in_without_certificate(**arguments)
    again = check_in_without_certificate(**arguments)

    assert again == first
    assert MarketEntry.objects.count() == 1
    assert LotHold.objects.filter(lot=uncertified_lot).count() == 1
