"""One-time codes sent by SMS: the rules every door shares.

- A code is 6 digits from `secrets`; only its keyed hash (HMAC-SHA256 with SECRET_KEY, over
  number, purpose and code) is stored. It opens one thing once, for SMS_CODE_TTL_SECONDS.
- A newer code for the same number and purpose replaces the older: only the newest is checked.
- SMS_CODE_MAX_TRIES wrong tries, then the code is dead: the next try is refused even if right.
- Sends are limited per number (one per SMS_CODE_RESEND_SECONDS, SMS_CODES_PER_NUMBER_PER_DAY in
  24 hours, whatever the purpose) and per address (SMS_CODES_PER_ADDRESS_PER_HOUR).
- Nothing tells whether a number has an account. A sign-up code asked for a registered number
  sends "you already have an account" instead of a code; a sign-in or reset code for a number
  without one sends "no account"; a phone-change code to a number in use sends "taken". The
  caller's answer, the limits and the stored row are the same in every case.

Locks: a transaction-scoped advisory lock on the number, then one on the address (always in
that order, so two sends never wait on each other crosswise), held while the limits are
counted and the new row written: two concurrent sends cannot both pass the per-minute limit,
even for a number that has no row yet. The SMS goes out inside that transaction, so a send the
provider refused leaves no row and uses up no limit.
"""

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..choices import CodePurpose
from ..exceptions import (
    CodeExpired,
    CodeNotSent,
    CodeSendTooSoon,
    CodeTriedTooOften,
    CodeUsed,
    InvalidPhone,
    TooManyCodes,
    WrongCode,
)
from ..models import PhoneCode, User
from ..phone import normalize_phone
from ..sms import SmsNotSent, send_sms

CODE_DIGITS = 6


@dataclass(frozen=True)
class CodeSent:
    """What the asker is told: the same whether or not the number has an account."""

    phone: str
    expires_at: datetime
    resend_after_seconds: int


def code_hash(*, phone: str, purpose: str, code: str) -> str:
    message = f"{phone}\n{purpose}\n{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def phone_or_refuse(raw: str) -> str:
    phone = normalize_phone(raw or "")
    if phone is None:
        raise InvalidPhone
    return phone


def send_code(*, phone: str, purpose: CodePurpose | str, address: str | None) -> CodeSent:
    """Send a code for `purpose` to `phone` (any common spelling), asked from `address`.

    Refuses an invalid number (InvalidPhone), a second send within SMS_CODE_RESEND_SECONDS
    (CodeSendTooSoon, saying the seconds to wait), more than the day's sends to the number or
    the hour's from the address (TooManyCodes), and a provider's refusal (CodeNotSent).
    """
    phone = phone_or_refuse(phone)
    purpose = CodePurpose(purpose)
    with transaction.atomic():
        _lock(f"phone_code:number:{phone}")
        if address:
            _lock(f"phone_code:address:{address}")
        now = timezone.now()
        _check_send_limits(phone=phone, address=address, now=now)
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        text, template, params = _message(phone=phone, purpose=purpose, code=code)
        if params.get("code") != code:
            # No code went out: the row holds the hash of one nobody knows, so every try is wrong.
            code = secrets.token_hex(16)
        sent = PhoneCode.objects.create(
            phone=phone,
            purpose=purpose,
            code_hash=code_hash(phone=phone, purpose=purpose, code=code),
            client_address=address,
            sent_at=now,
            expires_at=now + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
        )
        try:
            send_sms(phone=phone, text=text, template=template, params=params)
        except SmsNotSent as error:
            raise CodeNotSent(reason=str(error)) from error
    return CodeSent(
        phone=phone,
        expires_at=sent.expires_at,
        resend_after_seconds=settings.SMS_CODE_RESEND_SECONDS,
    )


def use_code(*, phone: str, purpose: CodePurpose | str, code: str) -> None:
    """Spend the newest code sent to `phone` for `purpose`; refuse it with the reason.

    Call it outside any transaction of the caller's: a wrong try is counted in its own
    transaction, which a refusal raised through the caller's would roll back.
    """
    phone = phone_or_refuse(phone)
    purpose = CodePurpose(purpose)
    typed = (code or "").strip()
    with transaction.atomic():
        latest = (
            PhoneCode.objects.select_for_update()
            .filter(phone=phone, purpose=purpose)
            .order_by("-sent_at", "-id")
            .first()
        )
        if latest is None:
            refusal: Exception | None = WrongCode()
        elif latest.used_at is not None:
            refusal = CodeUsed()
        elif latest.attempts >= settings.SMS_CODE_MAX_TRIES:
            refusal = CodeTriedTooOften()
        elif latest.expires_at <= timezone.now():
            refusal = CodeExpired()
        elif hmac.compare_digest(
            latest.code_hash, code_hash(phone=phone, purpose=purpose, code=typed)
        ):
            latest.used_at = timezone.now()
            latest.save(update_fields=["used_at"])
            refusal = None
        else:
            latest.attempts += 1
            latest.save(update_fields=["attempts"])
            refusal = WrongCode()
    # Raised after the commit, so the wrong try stays counted.
    if refusal is not None:
        raise refusal


def _lock(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def _check_send_limits(*, phone: str, address: str | None, now: datetime) -> None:
    last = PhoneCode.objects.filter(phone=phone).order_by("-sent_at").first()
    resend_at = last.sent_at + timedelta(seconds=settings.SMS_CODE_RESEND_SECONDS) if last else now
    if resend_at > now:
        seconds = math.ceil((resend_at - now).total_seconds())
        raise CodeSendTooSoon(
            ngettext(
                "A code was just sent to this number; ask again in %(seconds)d second.",
                "A code was just sent to this number; ask again in %(seconds)d seconds.",
                seconds,
            )
            % {"seconds": seconds},
            retry_after=seconds,
        )
    day_sends = PhoneCode.objects.filter(phone=phone, sent_at__gt=now - timedelta(days=1))
    if day_sends.count() >= settings.SMS_CODES_PER_NUMBER_PER_DAY:
        raise TooManyCodes(
            _("Too many codes were sent to this number today; try again tomorrow."),
            retry_after=24 * 3600,
        )
    if address:
        hour_sends = PhoneCode.objects.filter(
            client_address=address, sent_at__gt=now - timedelta(hours=1)
        )
        if hour_sends.count() >= settings.SMS_CODES_PER_ADDRESS_PER_HOUR:
            raise TooManyCodes(
                _("Too many codes were asked for from your network; try again in an hour."),
                retry_after=3600,
            )


def _message(*, phone: str, purpose: CodePurpose, code: str) -> tuple[str, str, dict[str, str]]:
    """The text, the provider template's kind and its parameters: a code, or instead the
    notice that tells the number's owner (and only her) how things stand."""
    registered = User._default_manager.filter(phone=phone).exists()
    minutes = max(1, settings.SMS_CODE_TTL_SECONDS // 60)
    if purpose == CodePurpose.SIGN_UP and registered:
        return (
            _(
                "[FreshChain] You already have a FreshChain account with this number. Sign in, "
                "or reset your password if you forgot it. If you did not ask, ignore this message."
            ),
            "account_exists",
            {},
        )
    if purpose in (CodePurpose.SIGN_IN, CodePurpose.PASSWORD_RESET) and not registered:
        return (
            _(
                "[FreshChain] There is no FreshChain account with this number; you can sign up "
                "with it. If you did not ask, ignore this message."
            ),
            "no_account",
            {},
        )
    if purpose == CodePurpose.PHONE_CHANGE and registered:
        return (
            _(
                "[FreshChain] Someone asked to move an account to this number, but it already "
                "belongs to a FreshChain account. If you did not ask, ignore this message."
            ),
            "number_taken",
            {},
        )
    text = _(
        "[FreshChain] Your code for %(purpose)s is %(code)s, valid for %(minutes)d minutes. "
        "Do not tell it to anyone, FreshChain staff included."
    ) % {"purpose": CodePurpose(purpose).label, "code": code, "minutes": minutes}
    return text, "code", {"code": code}
