"""Lock-out after repeated failed sign-ins (django-axes), shared by every sign-in door.

Axes counts failures per (account, IP address). An account is keyed the same however it
was typed (mobile number in any spelling, username in any case), so alternating spellings
gives no extra guesses; a name that matches no account is keyed as typed, and locks out
exactly like a real one, so a lock-out does not tell whether an account exists.
"""

import math

from django.conf import settings
from django.utils.translation import ngettext

from .backends import account_signing_in
from .phone import normalize_phone


def account_key(request, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the key failures of this sign-in are counted under."""
    if credentials:
        typed = credentials.get("username")
    else:
        typed = getattr(request, "data", request.POST).get("username")
    if not typed:
        return None
    typed = str(typed).strip()
    account = account_signing_in(typed)
    if account is not None:
        return account.username.lower()
    return normalize_phone(typed) or typed.lower()


def is_locked_out(request) -> bool:
    """True once axes has refused this request's sign-in, or counted its last allowed
    failure."""
    return bool(getattr(request, "axes_locked_out", False))


def cool_off_minutes() -> int:
    return math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)


def lockout_message() -> str:
    minutes = cool_off_minutes()
    return ngettext(
        "Too many failed sign-ins; try again in %(minutes)d minute.",
        "Too many failed sign-ins; try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
