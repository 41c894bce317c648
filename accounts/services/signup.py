"""Joining the platform and proving a number: sign-up, sign-in and password reset with a code,
a new phone number, and consent to the privacy policy.

Each door checks the input a form can check, then calls one function here. The code is spent
(accounts.services.codes.use_code, in its own transaction so a wrong try stays counted) only
after everything else about the input was found valid, so a weak password does not cost the
person her code; then the change and its audit entries are written in one transaction.
"""

import secrets

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ..choices import AuditAction, CodePurpose, Role
from ..exceptions import (
    ConsentRequired,
    PasswordNotAccepted,
    PhoneNumberTaken,
    SamePhone,
    SignUpRoleRefused,
    WrongCode,
)
from ..models import Consent, User
from ..privacy import POLICY_VERSION
from ..realtime import close_user_sockets
from .audit import record_audit
from .codes import phone_or_refuse, use_code
from .passwords import revoke_api_tokens

# Anyone may open these accounts; every other role is given by a flow that vouches for her.
SIGN_UP_ROLES = (Role.CONSUMER, Role.BUYER)


def sign_up(
    *,
    phone: str,
    code: str,
    display_name: str,
    password: str,
    account_type: str,
    agreed: bool,
    address: str | None,
) -> User:
    """Open a consumer or buyer account for the holder of `phone`, proven by a sign-up code.

    Refuses another role, no consent to the privacy policy, a password that fails
    AUTH_PASSWORD_VALIDATORS, and a refused code. Records her consent to POLICY_VERSION and
    audits SIGNED_UP and CONSENT_GIVEN.
    """
    phone = phone_or_refuse(phone)
    if account_type not in SIGN_UP_ROLES:
        raise SignUpRoleRefused
    if not agreed:
        raise ConsentRequired
    display_name = display_name.strip()
    candidate = User(username=_new_username(), phone=phone, display_name=display_name)
    validate_new_password(password=password, user=candidate)
    use_code(phone=phone, purpose=CodePurpose.SIGN_UP, code=code)
    candidate.role = account_type
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
            _record_consent(user=candidate, address=address)
            record_audit(
                action=AuditAction.SIGNED_UP,
                actor=candidate,
                subject=candidate,
                target=candidate,
                changes={"role": (None, account_type)},
                address=address,
            )
    except IntegrityError:
        # Someone took the number between the code and now (the code went to its holder).
        raise PhoneNumberTaken from None
    return candidate


def sign_in_with_code(*, phone: str, code: str) -> User:
    """The account of `phone`, proven by a sign-in code; the door signs her in.

    A number without an account never received a code (codes.send_code sent a notice), so it
    is refused as a wrong code: the answer does not tell whether the account exists.
    """
    phone = phone_or_refuse(phone)
    use_code(phone=phone, purpose=CodePurpose.SIGN_IN, code=code)
    user = User._default_manager.filter(phone=phone, is_active=True).first()
    if user is None:
        raise WrongCode
    return user


def reset_password(*, phone: str, code: str, new_password: str, address: str | None) -> User:
    """Give the account of `phone` a new password, proven by a reset code.

    Every API token is revoked and every live socket re-checks its sign-in (as any password
    change does); a password someone else set no longer needs replacing.
    """
    phone = phone_or_refuse(phone)
    validate_new_password(password=new_password, user=User(phone=phone), field="new_password")
    use_code(phone=phone, purpose=CodePurpose.PASSWORD_RESET, code=code)
    with transaction.atomic():
        user = User._default_manager.select_for_update().filter(phone=phone).first()
        if user is None:
            raise WrongCode
        validate_new_password(password=new_password, user=user, field="new_password")
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        revoke_api_tokens(user=user)
        close_user_sockets(user.pk)
        record_audit(
            action=AuditAction.PASSWORD_RESET,
            actor=user,
            subject=user,
            target=user,
            address=address,
        )
    return user


def change_phone(*, user: User, new_phone: str, code: str, address: str | None) -> User:
    """Move the signed-in `user` to `new_phone`, proven by a code sent to the new number."""
    new_phone = phone_or_refuse(new_phone)
    if new_phone == user.phone:
        raise SamePhone
    use_code(phone=new_phone, purpose=CodePurpose.PHONE_CHANGE, code=code)
    try:
        with transaction.atomic():
            locked = User._default_manager.select_for_update().get(pk=user.pk)
            if User._default_manager.filter(phone=new_phone).exclude(pk=user.pk).exists():
                raise PhoneNumberTaken
            before = locked.phone
            locked.phone = new_phone
            locked.save(update_fields=["phone"])
            record_audit(
                action=AuditAction.PHONE_CHANGED,
                actor=user,
                subject=locked,
                target=locked,
                changes={"phone": (before, new_phone)},
                address=address,
            )
    except IntegrityError:
        raise PhoneNumberTaken from None
    user.phone = new_phone
    return user


def give_consent(*, user: User, address: str | None) -> Consent:
    """`user` agrees to the privacy policy in force; agreeing twice keeps the first record."""
    with transaction.atomic():
        return _record_consent(user=user, address=address)


def validate_new_password(*, password: str, user: User, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise PasswordNotAccepted(" ".join(error.messages), field=field) from error


def _record_consent(*, user: User, address: str | None) -> Consent:
    consent, created = Consent.objects.get_or_create(
        user=user, policy_version=POLICY_VERSION, defaults={"client_address": address}
    )
    if created:
        record_audit(
            action=AuditAction.CONSENT_GIVEN,
            actor=user,
            subject=user,
            target=consent,
            changes={"policy_version": (None, POLICY_VERSION)},
            address=address,
        )
    return consent


def _new_username() -> str:
    # Sign-in is by number; the username is only a handle, and never holds the number or name.
    return f"user-{secrets.token_hex(5)}"
