"""Every write the farms domain allows. Each public function is one transaction."""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from django.contrib.gis.geos import Point, Polygon
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from accounts.permissions import is_admin
from accounts.phone import normalize_phone
from accounts.services import set_password_for
from common import geometry
from common.units import round_kg

from . import invitations, selectors
from .choices import Certification, Grade, PesticideTestResult
from .exceptions import (
    AlreadyMember,
    BoundaryOrLocationRequired,
    FarmerNotMember,
    FarmNameTaken,
    FarmNotAvailable,
    FarmsError,
    GradeNotInScale,
    HarvestDateInFuture,
    InvalidCatalogue,
    InvalidCertification,
    InvalidLotCode,
    InvalidMemberDetails,
    InvalidQuantity,
    InvalidTestDate,
    LotCodeTaken,
    NotCooperativeManager,
    PasswordNotForManagerToIssue,
    PhoneBelongsToNonFarmer,
    ProductNotAvailable,
)
from .models import (
    LOT_CODE_VALIDATOR,
    MAX_LOT_QUANTITY_KG,
    Cooperative,
    Farm,
    HarvestLot,
    Membership,
    MembershipInvitation,
    Product,
    StorageProfile,
    business_today,
)


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()
"""Default of update arguments: leave the stored value as it is."""

MAX_GENERATED_LOT_CODE_ATTEMPTS = 50


def _violated_constraint(error: IntegrityError) -> str | None:
    diagnostics = getattr(error.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None)


def _clean_name(value: str, *, field: str, max_length: int) -> str:
    name = (value or "").strip()
    if not name:
        raise FarmsError(_("Enter a name."), field=field)
    if len(name) > max_length:
        raise FarmsError(
            _("Use at most %(count)s characters.") % {"count": max_length}, field=field
        )
    return name


# Co-operatives and members


def register_cooperative(
    *,
    name: str,
    province: str,
    name_en: str = "",
    region: str = "",
    location: Point | None = None,
    registration_code: str = "",
    founded_on: date | None = None,
    manager: User | None = None,
) -> Cooperative:
    """Register a co-operative, with its first manager (a cooperative_manager in no co-op)."""
    name = _clean_name(name, field="name", max_length=120)
    province = _clean_name(province, field="province", max_length=40)
    if location is not None:
        location = geometry.validate_location(location)
    if manager is not None and manager.role != Role.COOPERATIVE_MANAGER:
        raise FarmsError(_("A manager must have the co-operative manager role."), field="manager")
    with transaction.atomic():
        try:
            with transaction.atomic():
                cooperative = Cooperative.objects.create(
                    name=name,
                    name_en=name_en.strip(),
                    province=province,
                    region=region.strip(),
                    location=location,
                    registration_code=registration_code.strip(),
                    founded_on=founded_on,
                )
        except IntegrityError as exc:
            if _violated_constraint(exc) == "cooperative_registration_code_unique":
                raise FarmsError(
                    _("A co-operative with this registration code exists."),
                    field="registration_code",
                ) from exc
            raise FarmsError(_("A co-operative with this name exists."), field="name") from exc
        if manager is not None:
            try:
                with transaction.atomic():
                    Membership.objects.create(
                        cooperative=cooperative, user=manager, is_manager=True
                    )
            except IntegrityError as exc:
                raise AlreadyMember(field="manager") from exc
    return cooperative


def _may_manage(user: User, cooperative: Cooperative) -> bool:
    return is_admin(user) or selectors.cooperative_managed_by(user) == cooperative


@dataclass(frozen=True)
class MemberAdded:
    """What adding a number did: made a member account, or invited an existing account."""

    membership: Membership | None = None
    invitation: MembershipInvitation | None = None


def add_member(*, added_by: User, cooperative: Cooperative, name: str, phone: str) -> MemberAdded:
    """Add a farmer to the co-operative by name and mainland mobile number.

    Only the co-operative's manager (or a platform admin) may. A number nobody uses makes a
    new farmer account, a member at once, which has no usable password until her manager
    issues a first one. A number that already has an account attaches nobody: its holder is
    invited and joins only if she accepts after signing in. The manager learns nothing of
    that account (not its name, role or co-operative), only that an invitation went out;
    a member of her own co-operative, whom she can see anyway, is refused as one.
    """
    if not _may_manage(added_by, cooperative):
        raise NotCooperativeManager
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise InvalidMemberDetails(
            _("Enter the member's name (at most 80 characters)."), field="name"
        )
    normalized_phone = normalize_phone(phone or "")
    if normalized_phone is None:
        raise InvalidMemberDetails(
            _("Enter a mainland China mobile number: 11 digits starting with 1."), field="phone"
        )
    with transaction.atomic():
        user, created = _lock_or_create_farmer(phone=normalized_phone, name=name)
        if Membership.objects.filter(user=user, cooperative=cooperative).exists():
            raise AlreadyMember(_("This farmer is already a member of your co-operative."))
        if not created:
            return MemberAdded(
                invitation=invitations.invite(
                    invited_by=added_by, cooperative=cooperative, user=user, phone=normalized_phone
                )
            )
        membership = Membership.objects.create(
            cooperative=cooperative, user=user, account_created_by=added_by
        )
    return MemberAdded(membership=membership)


# Easy to read aloud and type on a phone: no 0/o, 1/l/i.
PASSWORD_ALPHABET: Final = "23456789abcdefghjkmnpqrstuvwxyz"
FIRST_PASSWORD_LENGTH: Final = 8


def issue_member_password(*, issued_by: User, membership_id: int) -> str:
    """Give a new member farmer her first password, returned once for the manager to hand over.

    Only the co-operative's manager (or a platform admin) may, only to a farmer whose account
    the co-operative created, and only while she has never signed in: an account she already
    uses is hers, and a manager who could set its password could take it over. Old API tokens
    stop working, and the member must choose her own password at her next sign-in.
    """
    with transaction.atomic():
        membership = (
            Membership.objects.select_related("cooperative", "user")
            .select_for_update(of=("user",))
            .filter(pk=membership_id)
            .first()
        )
        if membership is None or not _may_manage(issued_by, membership.cooperative):
            raise NotCooperativeManager
        member = membership.user
        if member.role != Role.FARMER:
            raise PhoneBelongsToNonFarmer
        if not may_receive_first_password(membership):
            raise PasswordNotForManagerToIssue
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(FIRST_PASSWORD_LENGTH))
        set_password_for(user=member, password=password, set_by=issued_by)
    return password


def may_receive_first_password(membership: Membership) -> bool:
    """A member the co-operative made an account for, who has never signed in."""
    return membership.account_created_by_id is not None and membership.user.last_login is None


def _lock_or_create_farmer(*, phone: str, name: str) -> tuple[User, bool]:
    """The user with this number, row-locked, or a new farmer account with it (True)."""
    user = User.objects.select_for_update().filter(phone=phone).first()
    if user is not None:
        return user, False
    try:
        with transaction.atomic():
            user = User(username=phone, phone=phone, display_name=name, role=Role.FARMER)
            user.set_unusable_password()
            user.save()
    except IntegrityError as exc:
        # Someone added the same number a moment ago; work with that account.
        user = User.objects.select_for_update().filter(phone=phone).first()
        if user is None:
            raise FarmsError(_("This mobile number cannot be added."), field="phone") from exc
        return user, False
    return user, True


# Farms


def _resolve_location(
    *, boundary: Polygon | None, location: Point | None, current: Point | None = None
) -> Point:
    """The given location; else the current one while it lies on the boundary; else a
    point on the boundary's surface (inside it, unlike a centroid of an odd shape)."""
    if location is not None:
        return location
    if boundary is None:
        if current is not None:
            return current
        raise BoundaryOrLocationRequired
    if current is not None and boundary.intersects(current):
        return current
    point = boundary.point_on_surface
    point.srid = 4326
    return point


def create_farm(
    *,
    created_by: User,
    farmer: User,
    name: str,
    boundary: Polygon | None = None,
    location: Point | None = None,
) -> Farm:
    """Add a farm worked by a member of a co-operative, in her co-operative.

    The farmer adds her own; a manager adds one for a member of her co-operative. The
    location defaults to a point on the boundary; one of the two is required.
    """
    name = _clean_name(name, field="name", max_length=120)
    if boundary is not None:
        boundary = geometry.validate_boundary(boundary)
    if location is not None:
        location = geometry.validate_location(location)
    with transaction.atomic():
        cooperative = _cooperative_of_farmer(farmer)
        if not (
            (created_by.pk == farmer.pk and created_by.is_active)
            or _may_manage(created_by, cooperative)
        ):
            raise FarmerNotMember
        farm = Farm(
            cooperative=cooperative,
            farmer=farmer,
            name=name,
            boundary=boundary,
            location=_resolve_location(boundary=boundary, location=location),
        )
        _save_farm(farm)
    return farm


def _cooperative_of_farmer(farmer: User) -> Cooperative:
    membership = Membership.objects.filter(user=farmer).select_related("cooperative").first()
    if membership is None or farmer.role != Role.FARMER or not farmer.is_active:
        raise FarmerNotMember
    return membership.cooperative


def _save_farm(farm: Farm) -> None:
    try:
        with transaction.atomic():
            farm.save()
    except IntegrityError as exc:
        if _violated_constraint(exc) == "farm_name_unique_per_farmer":
            raise FarmNameTaken from exc
        raise
    # The database computes the area from the boundary.
    farm.refresh_from_db(fields=["area_hectares"])


def update_farm(
    *,
    updated_by: User,
    farm_id: int,
    name: str | _Unchanged = UNCHANGED,
    boundary: Polygon | _Unchanged | None = UNCHANGED,
    location: Point | _Unchanged | None = UNCHANGED,
) -> Farm:
    """Change a farm's name, boundary or location: by its farmer or her co-op's manager.

    With a new boundary and no new location, the location stays while it lies on the
    boundary and moves to a point on it otherwise. Clearing the location re-derives it.
    """
    if not isinstance(name, _Unchanged):
        name = _clean_name(name, field="name", max_length=120)
    if isinstance(boundary, Polygon):
        boundary = geometry.validate_boundary(boundary)
    if isinstance(location, Point):
        location = geometry.validate_location(location)
    with transaction.atomic():
        farm = (
            selectors.farms_visible_to(updated_by)
            .select_for_update(of=("self",))
            .filter(pk=farm_id)
            .first()
        )
        if farm is None:
            raise FarmNotAvailable
        if not isinstance(name, _Unchanged):
            farm.name = name
        if not isinstance(boundary, _Unchanged):
            farm.boundary = boundary
        if not isinstance(location, _Unchanged) or not isinstance(boundary, _Unchanged):
            farm.location = _resolve_location(
                boundary=farm.boundary,
                location=None if isinstance(location, _Unchanged) else location,
                current=farm.location if isinstance(location, _Unchanged) else None,
            )
        _save_farm(farm)
    return farm


# Harvest lots


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
) -> HarvestLot:
    """Record a harvest lot: by the farmer on her own farm, or by her co-op's manager.

    The product must be in the active catalogue and the grade on its grade scale; the
    quantity is kg (3 places, above 0, at most 500 000); harvest and test dates are not in
    the future (Asia/Shanghai). Without a lot code one is generated; a code already used
    is refused on `lot_code`. The unique constraint decides, so this holds under races.
    """
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

    with transaction.atomic():
        if not selectors.farms_visible_to(recorded_by).filter(pk=farm.pk).exists():
            raise FarmNotAvailable
        lot = HarvestLot(
            product=product,
            farm=farm,
            harvest_date=harvest_date,
            quantity_kg=quantity_kg,
            grade=grade,
            certifications=certifications,
            pesticide_test_result=pesticide_test_result,
            tested_on=tested_on,
            recorded_by=recorded_by,
        )
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
        if _violated_constraint(exc) == "harvest_lot_code_unique":
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


# Product catalogue


@dataclass(frozen=True)
class CatalogueLoad:
    created: int
    updated: int


PRODUCT_KEYS = ("name_zh", "name_en", "category", "grade_scale")


def load_product_catalogue(*, entries: list[dict[str, Any]]) -> CatalogueLoad:
    """Create or update products and their storage profiles by code; safe to run again.

    All or nothing: one bad entry (a wrong value, a value without a source) loads none.
    """
    created = updated = 0
    with transaction.atomic():
        for entry in entries:
            code = entry.get("code", "?")
            try:
                product_fields = {key: entry[key] for key in PRODUCT_KEYS}
                storage_fields = dict(entry["storage"])
            except (KeyError, TypeError) as exc:
                raise InvalidCatalogue(
                    _("%(code)s: missing %(key)s.") % {"code": code, "key": exc}
                ) from exc
            product_fields["is_active"] = entry.get("is_active", True)
            product = Product.objects.filter(code=code).first() or Product(code=code)
            was_created = product.pk is None
            for key, value in product_fields.items():
                setattr(product, key, value)
            profile = (
                StorageProfile.objects.filter(product=product).first() if not was_created else None
            ) or StorageProfile()
            for key, value in storage_fields.items():
                if key not in (*StorageProfile.VALUE_FIELDS, "sources"):
                    raise InvalidCatalogue(
                        _("%(code)s: unknown field %(key)s.") % {"code": code, "key": key}
                    )
                setattr(profile, key, value)
            _check_catalogue_entry(product, profile)
            product.save()
            profile.product = product
            profile.save()
            created += was_created
            updated += not was_created
    return CatalogueLoad(created=created, updated=updated)


def _check_catalogue_entry(product: Product, profile: StorageProfile) -> None:
    try:
        product.full_clean(validate_unique=False, validate_constraints=False)
        profile.full_clean(exclude=["product"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise InvalidCatalogue(
            _("%(code)s: %(errors)s") % {"code": product.code, "errors": exc.message_dict}
        ) from exc
    missing = profile.missing_sources()
    if missing:
        raise InvalidCatalogue(
            _("%(code)s: no source for %(fields)s.")
            % {"code": product.code, "fields": ", ".join(missing)}
        )
