"""Membership invitations: the only way a person comes into a co-operative.

A manager invites a mobile number. The number gets an SMS with a link (an unguessable token,
kept here only as its hash); its holder opens it, signs up with that number if she has no
account yet or signs in, and joins only by accepting. Nobody's account is made or attached by
the co-operative. A number that already has an account is also told in the app. Each public
function is one transaction; the SMS leaves after commit.
"""

import logging
import secrets
from datetime import timedelta
from functools import partial
from typing import Final

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.links import token_hash
from accounts.models import User
from accounts.notifications import notify
from accounts.phone import normalize_phone
from accounts.services.roles import change_role
from accounts.sms import SmsNotSent, send_sms

from .. import selectors
from ..choices import InvitationStatus
from ..exceptions import (
    AlreadyMember,
    CannotJoinCooperative,
    InvalidMemberDetails,
    InvitationAlreadyAnswered,
    InvitationExpired,
    InvitationNotAvailable,
    MemberOfAnotherCooperative,
    NotCooperativeManager,
)
from ..models import Cooperative, Membership, MembershipInvitation

logger = logging.getLogger(__name__)

# Sign-up makes consumers and buyers; an invited newcomer has one of those roles (or is a
# farmer already) and becomes a farmer by joining. Staff roles and managers cannot.
JOINABLE_ROLES: Final = (Role.FARMER, Role.CONSUMER, Role.BUYER)
# A manager who presses "invite" twice does not text the number twice.
RESEND_AFTER: Final = timedelta(minutes=1)
# How long the texted link stays usable: a week for a farmer to find a moment to sign up.
LINK_VALID_DAYS: Final = 7


def invitation_link(token: str) -> str:
    """The absolute link texted to the number."""
    return f"{settings.SITE_URL}{reverse('farms:join', args=[token])}"


def invite_member(
    *, invited_by: User, cooperative: Cooperative, phone: str
) -> MembershipInvitation:
    """Invite the holder of a mainland mobile number to join the co-operative as a farmer.

    Only the co-operative's manager (or a platform admin) may. The number gets an SMS with a
    link valid LINK_VALID_DAYS days; inviting it again while the
    invitation waits re-sends a new link (the old one stops working), at most once a minute.
    The manager learns nothing of an account behind the number (not its name or role):
    consumer, buyer, farmer or nobody, the answer is alike. Two refusals do tell her
    something, on purpose: a member of her own co-operative (she sees them anyway), and a
    member of ANOTHER co-operative. The second says only "a member elsewhere", never which
    co-operative. We accept that: a co-operative's membership is business information filed
    with its registration (成员名册), the asker is a manager the platform admin approved, and
    without it she would keep inviting a farmer who can never accept, while the farmer gets
    texts she cannot act on.
    """
    if not selectors.manages_cooperative(invited_by, cooperative):
        raise NotCooperativeManager
    normalized = normalize_phone(phone or "")
    if normalized is None:
        raise InvalidMemberDetails(
            _("Enter a mainland China mobile number: 11 digits starting with 1."), field="phone"
        )
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        holder = User.objects.filter(phone=normalized).first()
        membership = Membership.objects.filter(user=holder).first() if holder else None
        if membership is not None:
            if membership.cooperative_id == cooperative.pk:
                raise AlreadyMember(_("This farmer is already a member of your co-operative."))
            raise MemberOfAnotherCooperative
        pending = (
            MembershipInvitation.objects.select_for_update()
            .filter(cooperative=cooperative, phone=normalized, status=InvitationStatus.PENDING)
            .first()
        )
        if pending is not None and pending.sent_at and now - pending.sent_at < RESEND_AFTER:
            return pending
        created = pending is None
        invitation = pending or MembershipInvitation(
            cooperative=cooperative, phone=normalized, invited_by=invited_by
        )
        invitation.user = holder
        invitation.invited_by = invited_by
        invitation.token_hash = token_hash(token)
        invitation.sent_at = now
        invitation.expires_at = now + timedelta(days=LINK_VALID_DAYS)
        try:
            with transaction.atomic():
                invitation.save()
        except IntegrityError:
            # The same invitation was made a moment ago; that one's SMS is on its way.
            return MembershipInvitation.objects.get(
                cooperative=cooperative, phone=normalized, status=InvitationStatus.PENDING
            )
        if holder is not None and created:
            notify(
                user=holder,
                kind="membership.invited",
                title=_("%(cooperative)s invites you to join it") % {"cooperative": cooperative},
                body=_("You join only if you accept. Open your invitations to answer."),
                url=reverse("farms:invitation_list"),
                payload={"invitation": invitation.pk},
            )
        text = _(
            "[FreshChain] %(cooperative)s invites you to join it as a farmer. Open %(link)s "
            "within %(days)s days to sign up and accept."
        ) % {
            "cooperative": cooperative.name,
            "link": invitation_link(token),
            "days": LINK_VALID_DAYS,
        }
        transaction.on_commit(partial(_send_sms_quietly, phone=normalized, text=text))
    return invitation


def _send_sms_quietly(*, phone: str, text: str) -> None:
    """After commit: a refused SMS is logged; the manager may invite the number again."""
    try:
        send_sms(phone=phone, text=text)
    except SmsNotSent:
        logger.warning("A membership invitation's SMS was not sent", exc_info=True)


def _lock_pending(invitations, invitation_id: int) -> MembershipInvitation:
    invitation = (
        invitations.select_for_update(of=("self",))
        .select_related("cooperative")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:
        raise InvitationNotAvailable
    if invitation.status != InvitationStatus.PENDING:
        raise InvitationAlreadyAnswered
    return invitation


def _close(invitation: MembershipInvitation, status: str) -> None:
    invitation.status = status
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at", "user"])


def _tell_inviter(invitation: MembershipInvitation, title: str) -> None:
    inviter = invitation.invited_by  # None, without a query, when the account was deleted
    if inviter is not None:
        notify(
            user=inviter,
            kind=f"membership.invitation_{invitation.status}",
            title=title,
            url=reverse("farms:member_list"),
            payload={"invitation": invitation.pk},
        )


def accept_invitation(*, user: User, invitation_id: int, address: str | None = None) -> Membership:
    """She joins the inviting co-operative as a farmer: only an invitation to her own number,
    still pending and not expired, only while she is in no co-operative (one co-operative
    per person) and a farmer, consumer or buyer (a newcomer's role becomes farmer, audited)."""
    with transaction.atomic():
        invitation = _lock_pending(selectors.invitations_of(user), invitation_id)
        if not invitation.is_open(timezone.now()):
            raise InvitationExpired
        if user.role not in JOINABLE_ROLES or Membership.objects.filter(user=user).exists():
            raise CannotJoinCooperative
        change_role(user=user, role=Role.FARMER, changed_by=user, address=address)
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    cooperative=invitation.cooperative, user=user
                )
        except IntegrityError as exc:
            raise CannotJoinCooperative from exc
        invitation.user = user
        _close(invitation, InvitationStatus.ACCEPTED)
        _tell_inviter(
            invitation,
            _("%(phone)s accepted your invitation and joined") % {"phone": invitation.phone},
        )
    return membership


def decline_invitation(*, user: User, invitation_id: int) -> MembershipInvitation:
    """She says no to her own pending invitation; nothing else changes."""
    with transaction.atomic():
        invitation = _lock_pending(selectors.invitations_of(user), invitation_id)
        invitation.user = user
        _close(invitation, InvitationStatus.DECLINED)
        _tell_inviter(
            invitation, _("%(phone)s declined your invitation") % {"phone": invitation.phone}
        )
    return invitation


def withdraw_invitation(*, withdrawn_by: User, invitation_id: int) -> MembershipInvitation:
    """A manager takes back a pending invitation of her co-operative; its link stops working."""
    with transaction.atomic():
        invitation = _lock_pending(
            selectors.invitations_sent_visible_to(withdrawn_by), invitation_id
        )
        _close(invitation, InvitationStatus.WITHDRAWN)
    return invitation
