"""Co-operatives and their members: registering a co-operative, adding a member by her
mobile number, a manager's first password for a member. Each public function is one transaction."""

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Final

from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from accounts.phone import normalize_phone
from accounts.services import set_password_for
from common import geometry

from .. import selectors
from ..exceptions import (
    AlreadyMember,
    FarmsError,
    InvalidMemberDetails,
    NotCooperativeManager,
    PasswordNotForManagerToIssue,
    PhoneBelongsToNonFarmer,
)
from ..models import Cooperative, Membership, MembershipInvitation
from . import invitations
from .cleaning import clean_name, violated_constraint


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
    name = clean_name(name, field="name", max_length=120)
    province = clean_name(province, field="province", max_length=40)
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
            if violated_constraint(exc) == "cooperative_registration_code_unique":
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
    if not selectors.manages_cooperative(added_by, cooperative):
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


def issue_member_password(
    *, issued_by: User, membership_id: int, address: str | None = None
) -> str:
    """Give a new member farmer her first password, returned once for the manager to hand over.

    Only the co-operative's manager (or a platform admin) may, only to a farmer whose account
    the co-operative created, and only while she has never signed in: an account she already
    uses is hers, and a manager who could set its password could take it over. Old API tokens
    stop working, and the member must choose her own password at her next sign-in. Audited
    (from `address`, the request's) as a password set by someone else.
    """
    with transaction.atomic():
        membership = (
            Membership.objects.select_related("cooperative", "user")
            .select_for_update(of=("user",))
            .filter(pk=membership_id)
            .first()
        )
        if membership is None or not selectors.manages_cooperative(
            issued_by, membership.cooperative
        ):
            raise NotCooperativeManager
        member = membership.user
        if member.role != Role.FARMER:
            raise PhoneBelongsToNonFarmer
        if not may_receive_first_password(membership):
            raise PasswordNotForManagerToIssue
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(FIRST_PASSWORD_LENGTH))
        set_password_for(user=member, password=password, set_by=issued_by, address=address)
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
