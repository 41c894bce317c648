"""Issuing and revoking compliance certificates (承诺达标合格证).

Quantities are kept honest: the valid (not revoked) certificates of a lot never cover more
than its weight. The check and the insert run under a lock of the lot's row (FOR NO KEY
UPDATE, which two issuers of the same lot cannot both hold), so two certificates issued at
once cannot together exceed it. Lock order: the lot first, then its certificate and code
(the house rule: a lot's row before anything that belongs to it).
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from common.dates import business_today
from common.units import round_kg
from farms.models import HarvestLot
from farms.models.lots import MAX_LOT_QUANTITY_KG

from ..choices import CertificateBasis, TraceCodeKind
from ..exceptions import (
    CertificateAlreadyRevoked,
    CertificateExceedsLot,
    CertificateFieldMissing,
    CertificateLotNotAvailable,
    CertificateNotFound,
    CertificateTextTooLong,
    CommitmentNotMade,
    InvalidCertificateBasis,
    InvalidCertificateDate,
    InvalidCertificateQuantity,
    MissingTestRecord,
)
from ..models import Certificate, TraceCode
from ..selectors.certificates import (
    certificates_visible_to,
    certified_kg,
    lots_certifiable_by,
)
from .codes import issue_trace_code

# The longest each text may be: the model's columns.
TEXT_LIMITS = {
    "product_name": 120,
    "origin": 200,
    "producer_name": 120,
    "producer_contact": 40,
    "test_laboratory": 120,
    "test_report_number": 60,
    "reason": 300,
}


def _clean_quantity_kg(value: Decimal | str | int | None) -> Decimal:
    if value is None or isinstance(value, float | bool):
        raise InvalidCertificateQuantity()
    try:
        quantity = round_kg(Decimal(value))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise InvalidCertificateQuantity() from exc
    if not quantity.is_finite() or quantity <= 0 or quantity > MAX_LOT_QUANTITY_KG:
        raise InvalidCertificateQuantity()
    return quantity


def _clean_text(value: str | None, *, field: str, required: bool = True) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise CertificateFieldMissing(field=field)
    if len(text) > TEXT_LIMITS[field]:
        raise CertificateTextTooLong(
            _("Use at most %(limit)d characters.") % {"limit": TEXT_LIMITS[field]}, field=field
        )
    return text


def _check_commitments(*, no_banned_substances: bool, residues_within_limits: bool, truthful: bool):
    made = {
        "no_banned_substances": no_banned_substances,
        "residues_within_limits": residues_within_limits,
        "truthful": truthful,
    }
    for field, is_made in made.items():
        if is_made is not True:
            raise CommitmentNotMade(field=field)


def _check_test_record(*, basis: str, test_report_number: str, tested_on: date | None, today):
    if basis not in CertificateBasis.needing_test_record():
        return
    if not test_report_number:
        raise MissingTestRecord()
    if tested_on is None:
        raise MissingTestRecord(field="tested_on")
    if tested_on > today:
        raise MissingTestRecord(_("The test date cannot be in the future."), field="tested_on")


def _lock_certifiable_lot(*, by: User, lot_id: int) -> HarvestLot:
    found = (
        lots_certifiable_by(by)
        .select_for_update(no_key=True, of=("self",))
        .select_related("farm__cooperative", "product")
        .filter(pk=lot_id)
        .first()
    )
    if found is None:
        raise CertificateLotNotAvailable()
    return found


def issue_certificate(
    *,
    lot: HarvestLot | int | None,
    quantity_kg: Decimal | str | int | None,
    by: User,
    product_name: str,
    origin: str,
    producer_name: str,
    producer_contact: str,
    issued_on: date,
    no_banned_substances: bool,
    residues_within_limits: bool,
    truthful: bool,
    basis: str,
    test_laboratory: str = "",
    test_report_number: str = "",
    tested_on: date | None = None,
    idempotency_key: str = "",
) -> Certificate:
    """Issue a certificate for all or part of a harvest lot, with a new trace code for its
    label's QR.

    Only the lot's farmer or a manager of her co-operative may (anyone else is told the lot
    is not theirs, whether or not it exists). All three commitments are made; a test basis
    carries the test's report number and date; the issue date is neither in the future nor
    before the harvest. The quantity is above zero and fits in what the lot's valid
    certificates leave of it (checked under the lot's lock).

    Idempotent per (issuer, key): a retry with the key of an issued certificate returns that
    certificate and certifies nothing more.
    """
    if len(idempotency_key) > 64:
        raise CertificateTextTooLong(
            _("Use at most %(limit)d characters.") % {"limit": 64}, field="idempotency_key"
        )
    if idempotency_key and (replay := _certificate_with_key(by=by, key=idempotency_key)):
        return replay
    today = business_today()
    lot_id = lot.pk if isinstance(lot, HarvestLot) else lot
    # The lot first: someone else's lot learns nothing from the other checks' answers.
    if not isinstance(lot_id, int) or not lots_certifiable_by(by).filter(pk=lot_id).exists():
        raise CertificateLotNotAvailable()
    quantity = _clean_quantity_kg(quantity_kg)
    texts = {
        "product_name": _clean_text(product_name, field="product_name"),
        "origin": _clean_text(origin, field="origin"),
        "producer_name": _clean_text(producer_name, field="producer_name"),
        "producer_contact": _clean_text(producer_contact, field="producer_contact"),
    }
    if not isinstance(issued_on, date) or issued_on > today:
        raise InvalidCertificateDate()
    _check_commitments(
        no_banned_substances=no_banned_substances,
        residues_within_limits=residues_within_limits,
        truthful=truthful,
    )
    if basis not in CertificateBasis.values:
        raise InvalidCertificateBasis()
    needs_test = basis in CertificateBasis.needing_test_record()
    laboratory = _clean_text(test_laboratory, field="test_laboratory", required=False)
    report_number = _clean_text(test_report_number, field="test_report_number", required=False)
    _check_test_record(
        basis=basis, test_report_number=report_number, tested_on=tested_on, today=today
    )

    with transaction.atomic():
        locked = _lock_certifiable_lot(by=by, lot_id=lot_id)
        # A retry of the same lot waited on the lock above; the first is committed now.
        if idempotency_key and (replay := _certificate_with_key(by=by, key=idempotency_key)):
            return replay
        if issued_on < locked.harvest_date:
            raise InvalidCertificateDate()
        left = max(locked.quantity_kg - certified_kg(lot_id=locked.pk), Decimal("0.000"))
        if quantity > left:
            raise CertificateExceedsLot(
                _("The lot has %(left)s kg left to certify; you asked for %(wanted)s kg.")
                % {"left": left, "wanted": quantity}
            )
        code = issue_trace_code(lot=locked, kind=TraceCodeKind.CERTIFICATE)
        try:
            with transaction.atomic():
                return _create_certificate(
                    code=code,
                    lot=locked,
                    quantity_kg=quantity,
                    issued_on=issued_on,
                    basis=basis,
                    # A test record is kept only with a test basis.
                    test_laboratory=laboratory if needs_test else "",
                    test_report_number=report_number if needs_test else "",
                    tested_on=tested_on if needs_test else None,
                    by=by,
                    idempotency_key=idempotency_key,
                    texts=texts,
                )
        except IntegrityError:
            # The same key used at once for another lot: the first one stands.
            replay = _certificate_with_key(by=by, key=idempotency_key)
            if not idempotency_key or replay is None:
                raise
            code.delete()  # the label that was never printed
            return replay


def _certificate_with_key(*, by: User, key: str) -> Certificate | None:
    return Certificate.objects.filter(issued_by=by, idempotency_key=key).first()


def _create_certificate(
    *,
    code: TraceCode,
    lot: HarvestLot,
    quantity_kg: Decimal,
    issued_on: date,
    basis: str,
    test_laboratory: str,
    test_report_number: str,
    tested_on: date | None,
    by: User,
    idempotency_key: str,
    texts: dict[str, str],
) -> Certificate:
    return Certificate.objects.create(
        trace_code=code,
        lot=lot,
        cooperative=lot.farm.cooperative,
        quantity_kg=quantity_kg,
        issued_on=issued_on,
        no_banned_substances=True,
        residues_within_limits=True,
        truthful=True,
        basis=basis,
        test_laboratory=test_laboratory,
        test_report_number=test_report_number,
        tested_on=tested_on,
        issued_by=by,
        idempotency_key=idempotency_key,
        **texts,
    )


def revoke_certificate(*, certificate: Certificate | int, by: User, reason: str) -> Certificate:
    """Revoke a valid certificate: its quantity is free to certify again and its code no
    longer opens anything at the gate or on the public page.

    Whoever may see it may revoke it (its lot's farmer, her co-operative's manager, a
    platform admin); anyone else is told there is no such certificate. A reason is required.
    """
    certificate_id = certificate.pk if isinstance(certificate, Certificate) else certificate
    reason_text = _clean_text(reason, field="reason")
    visible = certificates_visible_to(by).filter(pk=certificate_id)
    lot_id = visible.values_list("lot_id", flat=True).first()
    if lot_id is None:
        raise CertificateNotFound()

    with transaction.atomic():
        HarvestLot.objects.select_for_update(no_key=True, of=("self",)).filter(pk=lot_id).first()
        found = (
            certificates_visible_to(by)
            .select_for_update(no_key=True, of=("self",))
            .filter(pk=certificate_id)
            .first()
        )
        if found is None:
            raise CertificateNotFound()
        if found.revoked_at is not None:
            raise CertificateAlreadyRevoked()
        now = timezone.now()
        found.revoked_at = now
        found.revoked_by = by
        found.revoke_reason = reason_text
        found.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "updated_at"])
        TraceCode.objects.filter(pk=found.trace_code_id, revoked_at__isnull=True).update(
            revoked_at=now
        )
        found.trace_code.revoked_at = now
        return found
