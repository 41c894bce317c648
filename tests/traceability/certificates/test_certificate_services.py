"""Issuing and revoking certificates: the lot's weight is never over-certified, only the
lot's farmer or her co-operative's manager certifies it, and a refusal saves nothing."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from common.dates import business_today
from traceability.choices import CertificateBasis, TraceCodeKind
from traceability.exceptions import (
    CertificateAlreadyRevoked,
    CertificateError,
    CertificateExceedsLot,
    CertificateLotNotAvailable,
    CertificateNotFound,
    CommitmentNotMade,
    InvalidCertificateDate,
    InvalidCertificateQuantity,
    MissingTestRecord,
    UnknownTraceCode,
)
from traceability.models import Certificate, TraceCode
from traceability.selectors.certificates import (
    certificate_prefill,
    certificates_visible_to,
    kg_left_to_certify,
)
from traceability.selectors.codes import trace_code_named
from traceability.services.certificates import issue_certificate, revoke_certificate

pytestmark = pytest.mark.django_db


def nothing_saved() -> bool:
    return not Certificate.objects.exists() and not TraceCode.objects.exists()


def test_farmer_issues_a_certificate_for_part_of_her_lot(member, lot, issue):
    certificate = issue(lot=lot, by=member, quantity_kg="40")

    certificate.refresh_from_db()
    assert certificate.quantity_kg == Decimal("40.000")
    assert certificate.lot == lot
    assert certificate.cooperative == lot.farm.cooperative
    assert certificate.issued_by == member
    assert certificate.trace_code.kind == TraceCodeKind.CERTIFICATE
    assert certificate.trace_code.lot == lot
    assert len(certificate.trace_code.code) == 12
    assert kg_left_to_certify(lot) == Decimal("60.000")


def test_manager_certifies_a_lot_of_her_cooperative(manager, lot, issue):
    certificate = issue(lot=lot, by=manager, quantity_kg="100")

    assert certificate.issued_by == manager
    assert kg_left_to_certify(lot) == Decimal("0.000")


def test_two_certificates_may_not_together_exceed_the_lot(member, lot, issue):
    issue(lot=lot, by=member, quantity_kg="70")

    with pytest.raises(CertificateExceedsLot) as refusal, translation.override("en"):
        issue(lot=lot, by=member, quantity_kg="30.5")

    assert refusal.value.field == "quantity_kg"
    assert "30.000 kg left" in str(refusal.value.message)
    assert Certificate.objects.count() == 1
    assert TraceCode.objects.count() == 1


def test_more_than_the_lot_is_refused_and_nothing_saved(member, lot, issue):
    with pytest.raises(CertificateExceedsLot):
        issue(lot=lot, by=member, quantity_kg="100.001")

    assert nothing_saved()


@pytest.mark.parametrize("quantity", ["0", "-5", "abc", None])
def test_quantity_must_be_above_zero(member, lot, fields, quantity):
    with pytest.raises(InvalidCertificateQuantity) as refusal:
        issue_certificate(lot=lot, by=member, quantity_kg=quantity, **fields())

    assert refusal.value.field == "quantity_kg"
    assert nothing_saved()


def test_someone_elses_lot_is_refused_without_confirming_it(member, other_lot, issue):
    with pytest.raises(CertificateLotNotAvailable) as refusal:
        issue(lot=other_lot, by=member)

    assert refusal.value.field == "lot"
    assert refusal.value.message == CertificateLotNotAvailable.default_message
    assert nothing_saved()


def test_a_lot_that_does_not_exist_gets_the_same_answer(member, fields):
    with pytest.raises(CertificateLotNotAvailable) as refusal:
        issue_certificate(lot=987654, by=member, quantity_kg=Decimal("1"), **fields())

    assert refusal.value.message == CertificateLotNotAvailable.default_message


def test_another_cooperatives_manager_may_not_certify(other_manager, lot, issue):
    with pytest.raises(CertificateLotNotAvailable):
        issue(lot=lot, by=other_manager)

    assert nothing_saved()


def test_platform_admin_may_not_issue_a_producers_commitment(admin_user, lot, issue):
    with pytest.raises(CertificateLotNotAvailable):
        issue(lot=lot, by=admin_user)

    assert nothing_saved()


@pytest.mark.parametrize(
    "commitment", ["no_banned_substances", "residues_within_limits", "truthful"]
)
def test_every_commitment_must_be_ticked(member, lot, issue, commitment):
    with pytest.raises(CommitmentNotMade) as refusal:
        issue(lot=lot, by=member, **{commitment: False})

    assert refusal.value.field == commitment
    assert nothing_saved()


@pytest.mark.parametrize("basis", [CertificateBasis.COMMISSIONED_TEST, CertificateBasis.OWN_TEST])
def test_a_test_basis_needs_the_test_record(member, lot, issue, basis):
    with pytest.raises(MissingTestRecord) as refusal:
        issue(lot=lot, by=member, basis=basis)

    assert refusal.value.field == "test_report_number"
    with pytest.raises(MissingTestRecord) as refusal:
        issue(lot=lot, by=member, basis=basis, test_report_number="R-1")
    assert refusal.value.field == "tested_on"
    assert nothing_saved()


def test_a_test_basis_keeps_its_record(member, lot, issue):
    tested = business_today() - timedelta(days=1)

    certificate = issue(
        lot=lot,
        by=member,
        basis=CertificateBasis.COMMISSIONED_TEST,
        test_laboratory="寿光市农产品质量检测中心",
        test_report_number="SG-2026-1234",
        tested_on=tested,
    )

    certificate.refresh_from_db()
    assert certificate.test_report_number == "SG-2026-1234"
    assert certificate.tested_on == tested


def test_a_self_commitment_keeps_no_test_record(member, lot, issue):
    certificate = issue(lot=lot, by=member, test_report_number="R-1")

    assert certificate.test_report_number == ""
    assert certificate.tested_on is None


@pytest.mark.parametrize("days", [1, -3])  # tomorrow; before the harvest two days ago
def test_issue_date_is_not_in_the_future_nor_before_the_harvest(member, lot, issue, days):
    with pytest.raises(InvalidCertificateDate) as refusal:
        issue(lot=lot, by=member, issued_on=business_today() + timedelta(days=days))

    assert refusal.value.field == "issued_on"
    assert nothing_saved()


def test_revoking_frees_the_quantity_and_stops_the_code(member, lot, issue):
    first = issue(lot=lot, by=member, quantity_kg="100")

    revoked = revoke_certificate(certificate=first, by=member, reason="Wrong weight")

    assert revoked.revoked_at is not None
    assert revoked.revoke_reason == "Wrong weight"
    assert kg_left_to_certify(lot) == Decimal("100.000")
    with pytest.raises(UnknownTraceCode):
        trace_code_named(first.trace_code.code)
    second = issue(lot=lot, by=member, quantity_kg="100")
    assert trace_code_named(second.trace_code.code).lot == lot


def test_revoking_twice_is_refused(member, lot, issue):
    certificate = issue(lot=lot, by=member)
    revoke_certificate(certificate=certificate, by=member, reason="Wrong weight")

    with pytest.raises(CertificateAlreadyRevoked):
        revoke_certificate(certificate=certificate, by=member, reason="Again")


def test_someone_else_may_not_revoke(other_manager, buyer, member, lot, issue):
    certificate = issue(lot=lot, by=member)

    for stranger in (other_manager, buyer):
        with pytest.raises(CertificateNotFound):
            revoke_certificate(certificate=certificate, by=stranger, reason="Mine now")

    certificate.refresh_from_db()
    assert certificate.revoked_at is None


def test_each_role_sees_only_its_own_certificates(
    member, manager, other_manager, admin_user, market_operator, buyer, lot, issue
):
    certificate = issue(lot=lot, by=member)

    assert list(certificates_visible_to(member)) == [certificate]
    assert list(certificates_visible_to(manager)) == [certificate]
    assert list(certificates_visible_to(admin_user)) == [certificate]
    for stranger in (other_manager, market_operator, buyer):
        assert list(certificates_visible_to(stranger)) == []


def test_prefill_comes_from_the_lot_farm_and_cooperative(member, lot, issue):
    issue(lot=lot, by=member, quantity_kg="25")

    prefill = certificate_prefill(lot)

    cooperative = lot.farm.cooperative
    assert prefill.product_name == "番茄 Tomato"
    assert prefill.origin == f"{cooperative.province}{cooperative.region}"
    assert prefill.producer_name == cooperative.name
    assert prefill.producer_names == (cooperative.name, str(member))
    assert prefill.producer_contact == member.phone
    assert prefill.issued_on == business_today()
    assert prefill.quantity_kg == Decimal("75.000")


@pytest.mark.django_db(transaction=True)
def test_two_farmers_phones_certifying_at_once_never_exceed_the_lot(member, lot, fields):
    """Two requests for 60 kg each of a 100 kg lot, on two connections: one wins."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def certify() -> None:
        try:
            barrier.wait()
            issue_certificate(lot=lot.pk, by=member, quantity_kg=Decimal("60"), **fields())
            outcomes.append("issued")
        except CertificateExceedsLot:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=certify) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["issued", "refused"]
    assert Certificate.objects.count() == 1
    assert kg_left_to_certify(lot) == Decimal("40.000")


def test_a_resent_certificate_is_issued_once(member, lot, issue):
    first = issue(lot=lot, by=member, quantity_kg="60", idempotency_key="phone-retry-1")

    again = issue(lot=lot, by=member, quantity_kg="60", idempotency_key="phone-retry-1")

    assert again.pk == first.pk
    assert Certificate.objects.count() == 1
    assert TraceCode.objects.count() == 1
    assert kg_left_to_certify(lot) == Decimal("40.000")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"product_name": "  "}, "product_name"),
        ({"origin": "寿" * 201}, "origin"),
        ({"producer_name": ""}, "producer_name"),
        ({"producer_contact": "1" * 41}, "producer_contact"),
    ],
)
def test_every_text_is_given_and_fits(member, lot, issue, changes, field):
    with pytest.raises(CertificateError) as refusal:
        issue(lot=lot, by=member, **changes)

    assert refusal.value.field == field
    assert nothing_saved()
