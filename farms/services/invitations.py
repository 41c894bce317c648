"""Membership invitations: the only way an existing account comes into a co-operative.

A manager who adds a number that already has an account invites its holder; she sees the
invitation after signing in and joins only by accepting it. Each function is one transaction.
"""

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from accounts.notifications import notify

from .. import selectors
from ..choices import InvitationStatus
from ..exceptions import CannotJoinCooperative, InvitationAlreadyAnswered, InvitationNotAvailable
from ..models import Cooperative, Membership, MembershipInvitation


def invite(
    *, invited_by: User, cooperative: Cooperative, user: User, phone: str
) -> MembershipInvitation:
    """Invite the holder of an existing account; a second invite returns the pending one.

    The caller has checked that `invited_by` manages the co-operative. Whatever the account
    (any role, in a co-operative or not) the invitation is made alike, so the manager cannot
    tell them apart; only a farmer in no co-operative can accept it.
    """
    with transaction.atomic():
        pending = MembershipInvitation.objects.filter(
            cooperative=cooperative, user=user, status=InvitationStatus.PENDING
        ).first()
        if pending is not None:
            return pending
        try:
            with transaction.atomic():
                invitation = MembershipInvitation.objects.create(
                    cooperative=cooperative, user=user, phone=phone, invited_by=invited_by
                )
        except IntegrityError:
            # The same invitation was made a moment ago.
            return MembershipInvitation.objects.get(
                cooperative=cooperative, user=user, status=InvitationStatus.PENDING
            )
        notify(
            user=user,
            kind="membership.invited",
            title=_("%(cooperative)s invites you to join it") % {"cooperative": cooperative},
            body=_("You join only if you accept. Open your invitations to answer."),
            url=reverse("farms:invitation_list"),
            payload={"invitation": invitation.pk},
        )
    return invitation


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
    invitation.save(update_fields=["status", "answered_at"])


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


def accept_invitation(*, user: User, invitation_id: int) -> Membership:
    """She joins the inviting co-operative: only her own pending invitation, only while she
    is a farmer in no co-operative (one co-operative per person)."""
    with transaction.atomic():
        invitation = _lock_pending(selectors.invitations_of(user), invitation_id)
        if user.role != Role.FARMER or Membership.objects.filter(user=user).exists():
            raise CannotJoinCooperative
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    cooperative=invitation.cooperative, user=user
                )
        except IntegrityError as exc:
            raise CannotJoinCooperative from exc
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
        _close(invitation, InvitationStatus.DECLINED)
        _tell_inviter(
            invitation, _("%(phone)s declined your invitation") % {"phone": invitation.phone}
        )
    return invitation


def withdraw_invitation(*, withdrawn_by: User, invitation_id: int) -> MembershipInvitation:
    """A manager takes back a pending invitation of her co-operative."""
    with transaction.atomic():
        invitation = _lock_pending(
            selectors.invitations_sent_visible_to(withdrawn_by), invitation_id
        )
        _close(invitation, InvitationStatus.WITHDRAWN)
    return invitation
