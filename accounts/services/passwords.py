"""Every write to how a person signs in: passwords and API tokens.

A password change, whoever makes it and through whichever door (the password page, the
API, a co-op manager issuing one, the admin), goes through `change_own_password` or
`set_password_for`, so the same things always follow: API tokens are revoked, and a
password chosen by someone else must be replaced at the next sign-in, and live sockets of
sessions the change ended are closed.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from ..choices import AuditAction
from ..exceptions import PasswordNotAccepted, PasswordUnchanged, WrongCurrentPassword
from ..models import User
from ..realtime import close_user_sockets
from .audit import record_audit


def issue_api_token(*, user: User) -> tuple[AuthToken, str]:
    """A new API token valid for API_TOKEN_TTL_HOURS, and its key.

    Only a hash of the key is stored; the key is returned here once. The user's expired
    tokens are deleted on the way.
    """
    with transaction.atomic():
        AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
        return AuthToken.objects.create(
            user=user, expiry=timedelta(hours=settings.API_TOKEN_TTL_HOURS)
        )


def revoke_api_tokens(*, user: User) -> int:
    """Revoke every API token of the user (sign-out everywhere); returns how many."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


def revoke_api_token(*, token: AuthToken) -> None:
    """Revoke the one token a client signs out with."""
    AuthToken.objects.filter(pk=token.pk).delete()


def change_own_password(
    *, user: User, old_password: str, new_password: str, address: str | None = None
) -> None:
    """The user replaces her password, proving the current one.

    Refuses a wrong current password, the same password again and one that fails the
    password rules (AUTH_PASSWORD_VALIDATORS). Clears `must_change_password`, revokes
    every API token and audits the change (from `address`, the request's); the caller keeps
    the current browser session if it wants to.
    """
    if not user.check_password(old_password):
        raise WrongCurrentPassword
    if new_password == old_password:
        raise PasswordUnchanged
    _validate(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        revoke_api_tokens(user=user)
        record_audit(
            action=AuditAction.PASSWORD_CHANGED,
            actor=user,
            subject=user,
            target=user,
            address=address,
        )
        # Sockets of sessions the new password ends close too (each re-checks its sign-in).
        close_user_sockets(user.pk)


def set_password_for(
    *,
    user: User,
    password: str | None,
    set_by: User | None,
    address: str | None = None,
) -> None:
    """Someone (a co-op manager, an administrator on the admin site; `set_by=None`: nobody
    signed in, e.g. a command) gives the user a password, or none (`password=None`).

    A password somebody else chose must be replaced at the user's next sign-in. Every
    API token of the user is revoked, and the change is audited (from `address`, the
    request's). The caller has checked that `set_by` may do this.
    """
    set_by_someone_else = set_by is None or set_by.pk != user.pk
    with transaction.atomic():
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.must_change_password = password is not None and set_by_someone_else
        user.save(update_fields=["password", "must_change_password"])
        revoke_api_tokens(user=user)
        record_audit(
            action=AuditAction.PASSWORD_SET_BY_OTHER
            if set_by_someone_else
            else AuditAction.PASSWORD_CHANGED,
            actor=set_by,
            subject=user,
            target=user,
            # The password itself never: only whether one can still sign in with a password.
            changes={"usable_password": (None, password is not None)},
            address=address,
        )
        # Sockets of sessions the new password ends close too (each re-checks its sign-in).
        close_user_sockets(user.pk)


def _validate(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise PasswordNotAccepted(" ".join(error.messages)) from error
