"""Couriers joining a warehouse: the manager invites a phone number, the courier accepts with
his vehicle and capacity, the manager activates him; she may deactivate him at any time.

- An invitation is one SMS with a secret link (settings.SITE_URL + /courier/join/<secret>/),
  open DELIVERY_COURIER_INVITATION_DAYS; one pending invitation per warehouse and number; a
  number that is a courier (waiting or active) at another warehouse is refused. The manager
  may send it again (a new secret; the older link stops working) at most once every
  DELIVERY_COURIER_INVITATION_RESEND_SECONDS, or cancel it.
- Accepting needs the account of the invited number: his Courier row is made (or, for a
  courier deactivated elsewhere, moved here) WAITING, and his role becomes courier
  (accounts.services.roles.change_role, audited).
- Only an ACTIVE courier goes on shift and is offered tasks. Deactivating (audited) stops
  offers at once: the courier can no longer be offered anything, any offer waiting for his
  answer is withdrawn and its task offered to the next courier, and his screens are told.
  Tasks he has already accepted stay his: their orders are promised to their consumers
  and, once picked up, in his hands, so he finishes them (he stays on shift until he ends it,
  and his positions keep reaching the consumers); the manager phones him if she must.

Rows are locked as dispatch locks them: a task and its offer before a courier.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.choices import AuditAction, Role
from accounts.models import User
from accounts.notifications import notify
from accounts.phone import mask_phone, normalize_phone
from accounts.services.audit import record_audit
from accounts.services.roles import change_role
from accounts.sms import SmsNotSent, send_sms

from ..exceptions import (
    CourierInvitationConflict,
    CourierInvitationNotForYou,
    CourierInvitationNotFound,
    CourierInvitationRefused,
    CourierNotFound,
)
from ..models import (
    ACTIVE_TASK_STATUSES,
    Courier,
    CourierInvitation,
    CourierInvitationStatus,
    CourierStatus,
    FrontWarehouse,
    VehicleType,
)
from ..selectors.onboarding import couriers_of, invitations_of, open_invitation_for_link, token_hash
from . import offers
from .transitions import Why

# The live event (and notification kind) telling a courier his status changed.
COURIER_EVENT = "delivery.courier"
# Told to the warehouse's staff when an invited courier accepts.
COURIER_JOINED_EVENT = "delivery.courier_joined"
# Accounts that may become couriers: a fresh sign-up's roles, and a courier without a row.
JOINABLE_ROLES = (Role.CONSUMER, Role.BUYER, Role.COURIER)
# A courier here already (or on his way to it) is not invited again.
WORKING_STATUSES = (CourierStatus.WAITING, CourierStatus.ACTIVE)


def invitation_link(token: str) -> str:
    return settings.SITE_URL + reverse("delivery:courier_join", args=[token])


def clean_phone(raw) -> str:
    phone = normalize_phone(str(raw or ""))
    if phone is None:
        raise CourierInvitationRefused(
            _(
                "Enter a mainland China mobile number: 11 digits starting with 1, e.g. 138 0013 8000."
            ),
            field="phone",
        )
    return phone


def clean_vehicle_type(raw) -> str:
    if raw not in VehicleType.values:
        raise CourierInvitationRefused(_("Choose your vehicle."), field="vehicle_type")
    return str(raw)


def clean_capacity(raw) -> int:
    try:
        capacity = int(str(raw).strip())
    except (TypeError, ValueError):
        capacity = 0
    if not 1 <= capacity <= 10:
        raise CourierInvitationRefused(
            _("Give how many orders you can carry at once: 1 to 10."), field="capacity"
        )
    return capacity


# --- The manager's side: invitations --------------------------------------------------------


def _new_secret(invitation: CourierInvitation, *, now: datetime) -> str:
    token = secrets.token_urlsafe(24)
    invitation.token_hash = token_hash(token)
    invitation.sent_at = now
    invitation.expires_at = now + timedelta(days=settings.DELIVERY_COURIER_INVITATION_DAYS)
    return token


def _send(invitation: CourierInvitation, token: str) -> None:
    # In the platform's language: the invitee has no account (or no language) yet.
    with translation.override(settings.LANGUAGE_CODE):
        text = _(
            "%(warehouse)s invites you to deliver for it on FreshChain. Join here: %(link)s"
        ) % {"warehouse": invitation.warehouse.name, "link": invitation_link(token)}
    try:
        send_sms(phone=invitation.phone, text=text)
    except SmsNotSent as refusal:
        raise CourierInvitationRefused(
            _("The SMS could not be sent (%(reason)s). Try again later.") % {"reason": refusal},
            field="phone",
        ) from refusal


def _check_number_is_free(warehouse: FrontWarehouse, phone: str) -> None:
    courier = Courier.objects.filter(user__phone=phone).select_related("home_warehouse").first()
    if courier is None:
        return
    if courier.home_warehouse_id == warehouse.pk:
        if courier.status == CourierStatus.DEACTIVATED:
            raise CourierInvitationRefused(
                _("This courier is deactivated here: activate him again in the list below."),
                field="phone",
            )
        raise CourierInvitationRefused(
            _("This number is one of your couriers already."), field="phone"
        )
    if courier.status in WORKING_STATUSES:
        raise CourierInvitationRefused(
            _("This number is a courier at another warehouse."), field="phone"
        )


def invite_courier(
    *, warehouse: FrontWarehouse, phone, by: User, address: str | None = None
) -> CourierInvitation:
    """Invite a phone number to deliver for the warehouse: one SMS with the link. Refused on
    the field "phone" (nothing saved, nothing sent): not a mainland mobile number, a courier
    (waiting or active) here or at another warehouse, a courier deactivated here (activate
    him again instead), an invitation of this number still pending here. The caller has
    checked that `by` runs the warehouse."""
    phone = clean_phone(phone)
    now = timezone.now()
    try:
        with transaction.atomic():
            _check_number_is_free(warehouse, phone)
            # One that ran out makes room for a new one.
            invitations_of(warehouse).filter(
                phone=phone, status=CourierInvitationStatus.PENDING, expires_at__lte=now
            ).update(status=CourierInvitationStatus.EXPIRED, updated_at=now)
            invitation = CourierInvitation(warehouse=warehouse, phone=phone, invited_by=by)
            token = _new_secret(invitation, now=now)
            invitation.save()
            _send(invitation, token)
    except IntegrityError:  # courier_invitation_one_pending, whoever came first
        raise CourierInvitationRefused(
            _("This number has an invitation waiting already: send it again from the list."),
            field="phone",
        ) from None
    return invitation


def _locked_invitation(warehouse: FrontWarehouse, invitation_id: int) -> CourierInvitation:
    invitation = (
        invitations_of(warehouse)
        .select_for_update(no_key=True, of=("self",))
        .select_related("warehouse")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:
        raise CourierInvitationNotFound(_("No such invitation at your warehouse."))
    return invitation


def _require_pending(invitation: CourierInvitation, *, now: datetime) -> None:
    if invitation.status == CourierInvitationStatus.PENDING and now >= invitation.expires_at:
        raise CourierInvitationConflict(_("This invitation has expired: invite the number again."))
    if invitation.status != CourierInvitationStatus.PENDING:
        raise CourierInvitationConflict(
            _("This invitation is %(status)s: it cannot change any more.")
            % {"status": invitation.get_status_display().lower()}
        )


def resend_invitation(
    *, warehouse: FrontWarehouse, invitation_id: int, by: User
) -> CourierInvitation:
    """Send a pending invitation's SMS again, with a new link (the older one stops working)
    open for another DELIVERY_COURIER_INVITATION_DAYS. At most once every
    DELIVERY_COURIER_INVITATION_RESEND_SECONDS (refused with the seconds to wait)."""
    now = timezone.now()
    with transaction.atomic():
        invitation = _locked_invitation(warehouse, invitation_id)
        _require_pending(invitation, now=now)
        wait = settings.DELIVERY_COURIER_INVITATION_RESEND_SECONDS - int(
            (now - invitation.sent_at).total_seconds()
        )
        if wait > 0:
            raise CourierInvitationConflict(
                _("Sent a moment ago: wait %(seconds)s seconds before sending it again.")
                % {"seconds": wait}
            )
        token = _new_secret(invitation, now=now)
        invitation.save(update_fields=["token_hash", "sent_at", "expires_at", "updated_at"])
        _send(invitation, token)
    return invitation


def cancel_invitation(
    *, warehouse: FrontWarehouse, invitation_id: int, by: User
) -> CourierInvitation:
    """The link stops working. Cancelling it again changes nothing; an answered one is
    refused (CourierInvitationConflict)."""
    now = timezone.now()
    with transaction.atomic():
        invitation = _locked_invitation(warehouse, invitation_id)
        if invitation.status == CourierInvitationStatus.CANCELLED:
            return invitation
        if invitation.status != CourierInvitationStatus.PENDING:
            _require_pending(invitation, now=now)
        invitation.status = CourierInvitationStatus.CANCELLED
        invitation.cancelled_at = now
        invitation.save(update_fields=["status", "cancelled_at", "updated_at"])
    return invitation


# --- The courier's side: answering the link -------------------------------------------------


def _open_invitation(token: str, *, now: datetime) -> CourierInvitation:
    seen = open_invitation_for_link(token, now=now)
    if seen is None:
        raise CourierInvitationNotFound()
    invitation = (
        CourierInvitation.objects.select_for_update(no_key=True, of=("self",))
        .select_related("warehouse")
        .get(pk=seen.pk)
    )
    if not invitation.is_open_at(now) or invitation.token_hash != seen.token_hash:
        raise CourierInvitationNotFound()  # answered, cancelled or sent again meanwhile
    return invitation


def check_invitee(invitation: CourierInvitation, user: User) -> None:
    """Refused unless `user` holds the invited number and may become a courier here."""
    if normalize_phone(user.phone or "") != invitation.phone:
        raise CourierInvitationNotForYou(
            _(
                "This invitation is for %(phone)s. Sign out, then sign in or sign up with that "
                "number."
            )
            % {"phone": mask_phone(invitation.phone)}
        )
    if user.role not in JOINABLE_ROLES:
        raise CourierInvitationNotForYou(
            _(
                "Your account works on the platform as %(role)s. A courier needs an account of "
                "his own: ask the warehouse to invite another number."
            )
            % {"role": user.get_role_display()}
        )
    courier = Courier.objects.filter(user=user).first()
    if courier is not None and courier.status in WORKING_STATUSES:
        raise CourierInvitationNotForYou(
            _("You are a courier of %(warehouse)s already.")
            % {"warehouse": courier.home_warehouse or "—"}
        )
    if courier is not None and courier.is_on_shift:
        raise CourierInvitationNotForYou(
            _("Finish your current task and end your shift before joining another warehouse.")
        )


def accept_invitation(
    *, token: str, user: User, vehicle_type, capacity, address: str | None = None
) -> Courier:
    """The invited courier joins: his Courier row (made now, or moved here when he was
    deactivated elsewhere) WAITS for the manager's activation, with his vehicle and how many
    orders he carries at once (1–10); his role becomes courier (audited). Refused: a link
    no longer open (CourierInvitationNotFound), another number's account, an account with
    another job on the platform, a courier working elsewhere; bad input on its field.
    Nothing is saved on a refusal."""
    now = timezone.now()
    vehicle_type = clean_vehicle_type(vehicle_type)
    capacity = clean_capacity(capacity)
    with transaction.atomic():
        invitation = _open_invitation(token, now=now)
        check_invitee(invitation, user)
        courier = Courier.objects.select_for_update(no_key=True).filter(user=user).first()
        courier = courier or Courier(user=user)
        courier.home_warehouse = invitation.warehouse
        courier.status = CourierStatus.WAITING
        courier.vehicle_type = vehicle_type
        courier.capacity = capacity
        courier.activated_at = courier.deactivated_at = None
        courier.save()
        invitation.status = CourierInvitationStatus.ACCEPTED
        invitation.accepted_at = now
        invitation.courier = courier
        invitation.save(update_fields=["status", "accepted_at", "courier", "updated_at"])
        change_role(user=user, role=Role.COURIER, changed_by=user, address=address)
        for staff_id in invitation.warehouse.staff.values_list("user_id", flat=True):
            notify(
                user=User(pk=staff_id),
                kind=COURIER_JOINED_EVENT,
                title=_("A courier accepted your invitation: activate him when you are ready."),
                url=reverse("delivery:warehouse_couriers"),
                payload={"courier_id": courier.pk},
            )
    return courier


def decline_invitation(*, token: str, user: User) -> CourierInvitation:
    """The invited number's account says no; the link stops working."""
    now = timezone.now()
    with transaction.atomic():
        invitation = _open_invitation(token, now=now)
        if normalize_phone(user.phone or "") != invitation.phone:
            check_invitee(invitation, user)  # raises: another number
        invitation.status = CourierInvitationStatus.DECLINED
        invitation.declined_at = now
        invitation.save(update_fields=["status", "declined_at", "updated_at"])
    return invitation


# --- Activation -----------------------------------------------------------------------------


def _locked_courier(warehouse: FrontWarehouse, courier_id: int) -> Courier:
    courier = (
        couriers_of(warehouse)
        .select_for_update(no_key=True, of=("self",))
        .filter(pk=courier_id)
        .first()
    )
    if courier is None:
        raise CourierNotFound()
    return courier


def _tell_courier(courier: Courier, *, title: str) -> None:
    notify(
        user=courier.user,
        kind=COURIER_EVENT,
        title=title,
        url=reverse("delivery:courier"),
        payload={"courier_id": courier.pk, "status": courier.status},
    )


def activate_courier(
    *, warehouse: FrontWarehouse, courier_id: int, by: User, address: str | None = None
) -> Courier:
    """The manager lets one of her warehouse's couriers work (waiting or deactivated →
    active, audited COURIER_ACTIVATED): he may go on shift and be offered tasks. Another
    warehouse's courier is not found. Activating an active courier changes nothing."""
    with transaction.atomic():
        courier = _locked_courier(warehouse, courier_id)
        if courier.status == CourierStatus.ACTIVE:
            return courier
        before = courier.status
        courier.status = CourierStatus.ACTIVE
        courier.activated_at = timezone.now()
        courier.save(update_fields=["status", "activated_at", "updated_at"])
        record_audit(
            action=AuditAction.COURIER_ACTIVATED,
            actor=by,
            subject=courier.user,
            # The warehouse, not the courier: a courier's label is his name, which the
            # append-only log must not keep.
            target=warehouse,
            changes={"status": (before, courier.status), "courier": (None, courier.pk)},
            address=address,
        )
        _tell_courier(
            courier,
            title=_("%(warehouse)s activated you: start your shift when you are ready.")
            % {"warehouse": warehouse.name},
        )
    return courier


def deactivate_courier(
    *, warehouse: FrontWarehouse, courier_id: int, by: User, address: str | None = None
) -> Courier:
    """The manager stops one of her couriers (→ deactivated, audited COURIER_DEACTIVATED):
    from the commit on he is offered nothing and cannot start a shift; then any offer
    waiting for his answer is withdrawn and its task offered to the next courier (each in
    its own transaction, see offers.withdraw_offers_to), and his screens are told. Tasks he
    has accepted stay his to finish: he stays on shift while he has one, else goes off
    shift now. Another warehouse's courier is not found; deactivating him again changes
    nothing (but still withdraws an offer left waiting)."""
    with transaction.atomic():
        courier = _locked_courier(warehouse, courier_id)
        if courier.status != CourierStatus.DEACTIVATED:
            before = courier.status
            courier.status = CourierStatus.DEACTIVATED
            courier.deactivated_at = timezone.now()
            if not courier.tasks.filter(status__in=ACTIVE_TASK_STATUSES).exists():
                courier.is_on_shift = False
                courier.shift_started_at = None
            courier.save(
                update_fields=[
                    "status",
                    "deactivated_at",
                    "is_on_shift",
                    "shift_started_at",
                    "updated_at",
                ]
            )
            record_audit(
                action=AuditAction.COURIER_DEACTIVATED,
                actor=by,
                subject=courier.user,
                target=warehouse,  # not the courier: his label is his name
                changes={"status": (before, courier.status), "courier": (None, courier.pk)},
                address=address,
            )
            _tell_courier(
                courier,
                title=_("%(warehouse)s deactivated you: you receive no more offers.")
                % {"warehouse": warehouse.name},
            )
    # Committed: no dispatcher can offer him anything now, so none appears behind this.
    offers.withdraw_offers_to(courier_id=courier.pk, why=Why.COURIER_DEACTIVATED)
    return courier
