"""Trader cards on application: a restaurant or a shop asks a market for a buyer's card, the
market's operator issues one from her card stock (or declines, with a reason).

Approval registers the Trader through services.register_trader, linked to the applicant's
account, so her market account page shows the card at once; it is audited (the audit log
keeps no name or number in clear) and the applicant is told in the app and by SMS, the SMS
only once the approval is committed.
"""

import logging
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import AuditAction, Role
from accounts.models import User
from accounts.notifications import notify
from accounts.phone import normalize_phone
from accounts.services.audit import record_audit
from accounts.services.roles import change_role
from accounts.sms import SmsNotSent, send_sms

from ..exceptions import (
    CardAlreadyHeld,
    CardApplicationDecided,
    CardApplicationNotFound,
    CardApplicationPending,
    CardNumberTaken,
    DeclineReasonMissing,
    InvalidCardApplication,
    InvalidCardNumber,
    MarketNotTakingApplications,
    NotABuyerAccount,
)
from .card_models import TraderCardApplication
from .choices import CardApplicationStatus, TraderKind
from .licences import normalize_licence_number, validate_business_licence_number
from .models import CARD_NUMBER, Market, Trader
from .services import register_trader, require_staff

logger = logging.getLogger(__name__)

# Who may ask for a buyer's card: the account of a restaurant or a shop, or a consumer's
# account (a phone number holds one account, so a cook who signed up to shop at home applies
# with it); issuing the card makes a consumer's account a buyer's.
APPLYING_ROLES = (Role.BUYER, Role.CONSUMER)
MAX_BUSINESS_NAME = 120
MAX_CONTACT_NAME = 60
MAX_REASON = 200


def may_apply(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in APPLYING_ROLES)


def _text(value: str, *, field: str, max_length: int) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise InvalidCardApplication(field=field)
    if len(text) > max_length:
        raise InvalidCardApplication(
            _("Use at most %(count)d characters.") % {"count": max_length}, field=field
        )
    return text


def _licence_number(value: str) -> str:
    try:
        validate_business_licence_number(value)
    except ValidationError as error:
        raise InvalidCardApplication(error.messages[0], field="licence_number") from None
    return normalize_licence_number(value)


def _contact_phone(value: str) -> str:
    phone = normalize_phone(value)
    if phone is None:
        raise InvalidCardApplication(
            _(
                "Enter a mainland China mobile number: 11 digits starting with 1, e.g. 138 0013 8000."
            ),
            field="contact_phone",
        )
    return phone


def holds_buyer_card(*, user: User, market: Market) -> bool:
    return Trader.objects.filter(market=market, user=user, kind=TraderKind.BUYER).exists()


def apply_for_card(
    *,
    applicant: User,
    market_id: int,
    business_name: str,
    licence_number: str,
    contact_name: str,
    contact_phone: str,
) -> TraderCardApplication:
    """One pending application per person and market; none where she already holds a
    buyer's card. The licence number is an 18-character unified social credit code with its
    check character, or an older licence's 15 digits."""
    if not may_apply(applicant):
        raise NotABuyerAccount()
    fields = {
        "business_name": _text(business_name, field="business_name", max_length=MAX_BUSINESS_NAME),
        "licence_number": _licence_number(licence_number),
        "contact_name": _text(contact_name, field="contact_name", max_length=MAX_CONTACT_NAME),
        "contact_phone": _contact_phone(contact_phone),
    }
    with transaction.atomic():
        # Her row, locked: two submits at once are decided one after the other.
        User.objects.select_for_update(no_key=True).filter(pk=applicant.pk).first()
        market = Market.objects.filter(pk=market_id, accepts_card_applications=True).first()
        if market is None:
            raise MarketNotTakingApplications()
        if holds_buyer_card(user=applicant, market=market):
            raise CardAlreadyHeld()
        pending = TraderCardApplication.objects.filter(
            applicant=applicant, market=market, status=CardApplicationStatus.PENDING
        )
        if pending.exists():
            raise CardApplicationPending()
        return TraderCardApplication.objects.create(market=market, applicant=applicant, **fields)


def _pending_at(*, market: Market, application_id: int) -> TraderCardApplication:
    application = (
        TraderCardApplication.objects.select_for_update(of=("self",))
        .select_related("applicant")
        .filter(pk=application_id, market=market)
        .first()
    )
    if application is None:
        raise CardApplicationNotFound()
    if not application.is_pending:
        raise CardApplicationDecided(status_label=application.get_status_display())
    return application


def _card_number(value: str) -> str:
    number = (value or "").strip()
    try:
        CARD_NUMBER(number)
    except ValidationError:
        raise InvalidCardNumber() from None
    return number


def approve_card_application(
    *, market: Market, by: User, application_id: int, card_number: str, address: str | None = None
) -> TraderCardApplication:
    """An operator of the application's market issues a card from her stock: the buyer is
    registered as a trader under the business's name, linked to the applicant's account (a
    consumer's account becomes a buyer's), and told in the app and by SMS. The card number is
    unique across markets."""
    require_staff(by, market)
    number = _card_number(card_number)
    with transaction.atomic():
        application = _pending_at(market=market, application_id=application_id)
        applicant = application.applicant
        if holds_buyer_card(user=applicant, market=market):
            raise CardAlreadyHeld()
        if Trader.objects.filter(card_number=number).exists():
            raise CardNumberTaken()
        try:
            with transaction.atomic():  # a savepoint: a lost race for the number is a refusal
                trader = register_trader(
                    market=market,
                    kind=TraderKind.BUYER,
                    name=application.business_name,
                    card_number=number,
                    user=applicant,
                    phone=application.contact_phone,
                )
        except ValidationError as error:
            # Lost a race: for the number, or another operator issued her a card just now.
            if "card_number" in getattr(error, "message_dict", {}):
                raise CardNumberTaken() from None
            raise CardAlreadyHeld() from None
        except IntegrityError:
            raise CardNumberTaken() from None
        if applicant.role == Role.CONSUMER:
            change_role(user=applicant, role=Role.BUYER, changed_by=by, address=address)
        now = timezone.now()
        application.status = CardApplicationStatus.APPROVED
        application.trader = trader
        application.reviewed_by = by
        application.reviewed_at = now
        application.save(
            update_fields=["status", "trader", "reviewed_by", "reviewed_at", "updated_at"]
        )
        record_audit(
            action=AuditAction.TRADER_CARD_ISSUED,
            actor=by,
            subject=applicant,
            target=application,  # its label is its number and market, never a name
            changes={
                "trader": (None, trader.pk),
                "market": (None, market.code),
                "card_last4": (None, number[-4:]),
            },
            address=address,
        )
        text = _(
            "%(market)s issued your buyer's card ending %(last4)s: your balance and trades are "
            "on your market account page."
        ) % {"market": market.name, "last4": number[-4:]}
        notify(
            user=applicant,
            kind="market.card_issued",
            title=_("Your card at %(market)s is issued") % {"market": market.name},
            body=text,
            url=reverse("markets:my_account"),
            payload={"application": application.pk, "trader": trader.pk},
        )
        _sms_after_commit(applicant, text)
    return application


def decline_card_application(
    *, market: Market, by: User, application_id: int, reason: str, address: str | None = None
) -> TraderCardApplication:
    """An operator of the market declines, saying why: the applicant reads the reason."""
    require_staff(by, market)
    reason = " ".join((reason or "").split())
    if not reason:
        raise DeclineReasonMissing()
    if len(reason) > MAX_REASON:
        raise InvalidCardApplication(
            _("Use at most %(count)d characters.") % {"count": MAX_REASON}, field="reason"
        )
    with transaction.atomic():
        application = _pending_at(market=market, application_id=application_id)
        application.status = CardApplicationStatus.DECLINED
        application.reason = reason
        application.reviewed_by = by
        application.reviewed_at = timezone.now()
        application.save(
            update_fields=["status", "reason", "reviewed_by", "reviewed_at", "updated_at"]
        )
        record_audit(
            action=AuditAction.TRADER_CARD_DECLINED,
            actor=by,
            subject=application.applicant,
            target=application,
            changes={"status": (CardApplicationStatus.PENDING, CardApplicationStatus.DECLINED)},
            address=address,
        )
        text = _("%(market)s declined your card application: %(reason)s") % {
            "market": market.name,
            "reason": reason,
        }
        notify(
            user=application.applicant,
            kind="market.card_declined",
            title=_("Your card application to %(market)s") % {"market": market.name},
            body=text,
            url=reverse("markets:cards"),
            payload={"application": application.pk},
        )
        _sms_after_commit(application.applicant, text)
    return application


def _sms_after_commit(user: User, text: str) -> None:
    # The provider's HTTP call never runs inside the transaction, nor for a rolled-back one.
    if user.phone:
        transaction.on_commit(partial(_send_sms, phone=user.phone, text=text))


def _send_sms(*, phone: str, text: str) -> None:
    # The decision is committed and the in-app notification kept: a provider's refusal is
    # logged, not shown to the operator as a failure of her approval.
    try:
        send_sms(phone=phone, text=text)
    except SmsNotSent:
        logger.exception("The SMS about a card application was not sent.")
