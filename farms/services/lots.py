"""Harvest lots: recording one, with its generated or typed lot code. Each public function
is one transaction."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from common.dates import business_today
from common.units import round_kg

from .. import selectors
from ..choices import Certification, Grade, PesticideTestResult
from ..exceptions import (
    FarmNotAvailable,
    FarmsError,
    GradeNotInScale,
    HarvestDateInFuture,
    InvalidCertification,
    InvalidLotCode,
    InvalidQuantity,
    InvalidTestDate,
    LotCodeTaken,
    ProductNotAvailable,
)
from ..models import Farm, HarvestLot, Product
from ..models.lots import LOT_CODE_VALIDATOR, MAX_LOT_QUANTITY_KG
from .cleaning import violated_constraint

MAX_GENERATED_LOT_CODE_ATTEMPTS = 50


def _parse_quantity_kg(value: Decimal | str | int) -> Decimal:
    if isinstance(value, float | bool):
        raise InvalidQuantity
    try:
        quantity = round_kg(Decimal(value))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise InvalidQuantity from exc
    if not quantity.is_finite() or quantity <= 0 or quantity > MAX_LOT_QUANTITY_KG:
        raise InvalidQuantity
    return quantity


def _clean_certifications(values: Iterable[str]) -> list[str]:
    certifications = list(dict.fromkeys(values or ()))
    if any(value not in Certification.values for value in certifications):
        raise InvalidCertification
    return certifications


def _clean_lot_code(value: str | None) -> str:
    code = (value or "").strip()
    if code:
        try:
            LOT_CODE_VALIDATOR(code)
        except ValidationError as exc:
            raise InvalidLotCode from exc
    return code


def next_lot_code(*, farm: Farm, harvest_date: date, sequence: int) -> str:
    """Readable lot code: farm id, harvest date and a daily sequence, e.g. 12-20260315-01."""
    return f"{farm.pk}-{harvest_date:%Y%m%d}-{sequence:02d}"


def record_harvest_lot(
    *,
    recorded_by: User,
    farm: Farm,
    product: Product,
    harvest_date: date,
    quantity_kg: Decimal,
    grade: str,
    certifications: Iterable[str] = (),
    pesticide_test_result: str = PesticideTestResult.NOT_TESTED,
    tested_on: date | None = None,
    lot_code: str | None = None,
    idempotency_key: str = "",
) -> HarvestLot:
    """Record a harvest lot: by the farmer on her own farm, or by her co-op's manager.

    The product must be in the active catalogue and the grade on its grade scale; the
    quantity is kg (3 places, above 0, at most 500 000); harvest and test dates are not in
    the future (Asia/Shanghai). Without a lot code one is generated; a code already used
    is refused on `lot_code`. The unique constraint decides, so this holds under races.

    `idempotency_key` (made by the phone with the draft): a second call with the same key by
    the same person returns the lot the first one recorded, and records nothing (a draft sent
    again after a lost answer). Its own unique constraint decides under races too.
    """
    if idempotency_key and (replay := _lot_with_key(recorded_by, idempotency_key)):
        return replay
    quantity_kg = _parse_quantity_kg(quantity_kg)
    certifications = _clean_certifications(certifications)
    lot_code = _clean_lot_code(lot_code)
    today = business_today()
    if harvest_date > today:
        raise HarvestDateInFuture
    if pesticide_test_result not in PesticideTestResult.values:
        raise FarmsError(_("Choose a test result from the list."), field="pesticide_test_result")
    if tested_on is not None and (
        pesticide_test_result == PesticideTestResult.NOT_TESTED or tested_on > today
    ):
        raise InvalidTestDate
    if not product.is_active:
        raise ProductNotAvailable
    if grade not in Grade.values or not product.has_grade(grade):
        raise GradeNotInScale

    try:
        with transaction.atomic():
            return _record(
                recorded_by=recorded_by,
                lot_code=lot_code,
                lot=HarvestLot(
                    product=product,
                    farm=farm,
                    harvest_date=harvest_date,
                    quantity_kg=quantity_kg,
                    grade=grade,
                    certifications=certifications,
                    pesticide_test_result=pesticide_test_result,
                    tested_on=tested_on,
                    recorded_by=recorded_by,
                    idempotency_key=idempotency_key,
                ),
            )
    except IntegrityError as exc:
        # The same draft arrived twice at once: the other request recorded it.
        if violated_constraint(exc) != "harvest_lot_idempotency_key_unique":
            raise
        replay = _lot_with_key(recorded_by, idempotency_key)
        if replay is None:
            raise
        return replay


def _lot_with_key(recorded_by: User, key: str) -> HarvestLot | None:
    return HarvestLot.objects.filter(recorded_by=recorded_by, idempotency_key=key).first()


def _record(*, recorded_by: User, lot_code: str, lot: HarvestLot) -> HarvestLot:
    if not selectors.farms_visible_to(recorded_by).filter(pk=lot.farm_id).exists():
        raise FarmNotAvailable
    if lot_code:
        lot.lot_code = lot_code
        if not _insert_lot(lot):
            raise LotCodeTaken
    else:
        _insert_lot_with_generated_code(lot)
    return lot


def _insert_lot(lot: HarvestLot) -> bool:
    """Insert in a savepoint; False when its lot code is taken."""
    try:
        with transaction.atomic():
            lot.save(force_insert=True)
    except IntegrityError as exc:
        if violated_constraint(exc) == "harvest_lot_code_unique":
            lot.pk = None
            return False
        raise
    return True


def _insert_lot_with_generated_code(lot: HarvestLot) -> None:
    sequence = HarvestLot.objects.filter(farm=lot.farm, harvest_date=lot.harvest_date).count() + 1
    for _attempt in range(MAX_GENERATED_LOT_CODE_ATTEMPTS):
        lot.lot_code = next_lot_code(
            farm=lot.farm, harvest_date=lot.harvest_date, sequence=sequence
        )
        if _insert_lot(lot):
            return
        sequence += 1
    raise LotCodeTaken(_("No free lot code was found; enter one yourself."))
