"""Reactions to Django's own auth signals (connected in AccountsConfig.ready).

Sign-out is a signal because Django's LogoutView and the API's token sign-out both send it:
one door for every way out. Sign-ins are audited from the signals for the same reason: the
sign-in page, the API token, the admin's sign-in and sign-in with a code all send them.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .addresses import client_address
from .backends import account_signing_in
from .choices import AuditAction
from .lockout import is_locked_out
from .phone import normalize_phone
from .realtime import close_user_sockets
from .services.audit import record_audit

# Where a sign-in came in, by URL name; another door is logged by its URL name.
DOORS = {
    "accounts:sign_in": "page",
    "api-token": "api",
    "admin:login": "admin",
    "accounts:sign_in_with_code": "code",
    "accounts:sign_up": "sign_up",
}


def sign_in_door(request) -> str | None:
    """The door of a sign-in, or None when it came through no URL (the test client's
    force_login, a shell): nobody signed in through the platform, so nothing is audited."""
    match = getattr(request, "resolver_match", None) if request is not None else None
    if match is None:
        return None
    return DOORS.get(match.view_name, match.view_name)


@receiver(user_logged_out, dispatch_uid="accounts.close_sockets_on_sign_out")
def close_sockets_on_sign_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    session = getattr(request, "session", None)
    # A page sign-out ends one browser's session: only its sockets close. A token sign-out
    # names no session, and each socket checks its own sign-in.
    close_user_sockets(user.pk, session_key=session.session_key if session is not None else None)


@receiver(user_logged_in, dispatch_uid="accounts.audit_sign_in")
def audit_sign_in(sender, request, user, **kwargs) -> None:
    door = sign_in_door(request)
    if door is None:
        return
    record_audit(
        action=AuditAction.SIGN_IN,
        actor=user,
        subject=user,
        changes={"door": (None, door)},
        address=client_address(request),
    )


@receiver(user_login_failed, dispatch_uid="accounts.audit_failed_sign_in")
def audit_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    """The account a failed sign-in named is its subject. What was typed is kept only as a
    masked mobile number when it names no account: a name typed there may be a person's (or
    her password, typed in the wrong box), and the log can never forget it."""
    door = sign_in_door(request)
    if door is None:
        return
    typed = str(credentials.get("username") or "").strip()
    account = account_signing_in(typed) if typed else None
    changes: dict[str, tuple[object, object]] = {"door": (None, door)}
    if account is None and normalize_phone(typed):
        changes["phone"] = (None, normalize_phone(typed))
    if is_locked_out(request):
        changes["locked_out"] = (None, True)
    record_audit(
        action=AuditAction.SIGN_IN_FAILED,
        subject=account,
        changes=changes,
        address=client_address(request),
    )
