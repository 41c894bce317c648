"""A co-operative's application to join the platform, and the platform admin's review.

Each public function is one transaction; the applicant's SMS is sent after commit (never an
HTTP call to a provider inside a transaction)."""

import logging
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import AuditAction, Role
from accounts.models import User
from accounts.notifications import notify
from accounts.permissions import is_admin
from accounts.phone import normalize_phone
from accounts.services.audit import record_audit
from accounts.services.roles import change_role
from accounts.sms import SmsNotSent, send_sms

from ..choices import OPEN_APPLICATION_STATUSES, ApplicationStatus
from ..credit_codes import normalize_credit_code, validate_credit_code
from ..exceptions import (
    ApplicationAlreadyOpen,
    ApplicationNotAvailable,
    ApplicationNotEditable,
    ApplicationNotReviewable,
    CannotApplyForCooperative,
    FarmsError,
    NotCooperativeManager,
    ReviewReasonRequired,
)
from ..licences import process_licence
from ..models import Cooperative, CooperativeApplication, Membership
from .cleaning import clean_name
from .cooperatives import register_cooperative

logger = logging.getLogger(__name__)

# Who may apply: a newcomer (sign-up makes consumers and buyers), or a farmer or manager in no
# co-operative. Staff roles (market, warehouse, courier, cold chain) are given, not applied for.
APPLICANT_ROLES = (Role.CONSUMER, Role.BUYER, Role.FARMER, Role.COOPERATIVE_MANAGER)
MAX_REASON_LENGTH = 1000


@dataclass(frozen=True)
class ApplicationDetails:
    """What the applicant fills in; `licence` is an uploaded file (None: keep the old one,
    when she edits a returned application)."""

    name: str
    registration_code: str
    province: str
    region: str
    contact_name: str
    contact_phone: str
    licence: object | None = None


def _cleaned(details: ApplicationDetails) -> dict:
    code = normalize_credit_code(details.registration_code)
    try:
        validate_credit_code(code)
    except ValidationError as exc:
        raise FarmsError(exc.messages[0], field="registration_code") from exc
    phone = normalize_phone(details.contact_phone or "")
    if phone is None:
        raise FarmsError(
            _("Enter a mainland China mobile number: 11 digits starting with 1."),
            field="contact_phone",
        )
    return {
        "name": clean_name(details.name, field="name", max_length=120),
        "registration_code": code,
        "province": clean_name(details.province, field="province", max_length=40),
        "region": clean_name(details.region, field="region", max_length=80),
        "contact_name": clean_name(details.contact_name, field="contact_name", max_length=80),
        "contact_phone": phone,
    }


def _refuse_taken(*, name: str, registration_code: str) -> None:
    """A co-operative already on the platform under this name or code cannot come in twice."""
    if Cooperative.objects.filter(name=name).exists():
        raise FarmsError(_("A co-operative with this name exists."), field="name")
    if Cooperative.objects.filter(registration_code=registration_code).exists():
        raise FarmsError(
            _("A co-operative with this registration code exists."), field="registration_code"
        )


def _refuse_ineligible(applicant: User) -> None:
    if (
        not applicant.is_active
        or is_admin(applicant)
        or applicant.role not in APPLICANT_ROLES
        or Membership.objects.filter(user=applicant).exists()
    ):
        raise CannotApplyForCooperative


def apply_for_cooperative(
    *, applicant: User, details: ApplicationDetails
) -> CooperativeApplication:
    """Submit a co-operative's application for the platform admin to review.

    Every field is checked (the credit code's check character too) and the licence photo is
    verified before anything is saved; one open application per person (the database's
    promise too), and not for a name or code a co-operative already has."""
    _refuse_ineligible(applicant)
    fields = _cleaned(details)
    _refuse_taken(name=fields["name"], registration_code=fields["registration_code"])
    photo = process_licence(details.licence)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=applicant.pk).first()  # one at a time
        if CooperativeApplication.objects.filter(
            applicant=applicant, status__in=OPEN_APPLICATION_STATUSES
        ).exists():
            raise ApplicationAlreadyOpen
        application = CooperativeApplication(
            applicant=applicant, submitted_at=timezone.now(), **fields
        )
        application.licence.save(photo.name, ContentFile(photo.image), save=False)
        try:
            with transaction.atomic():
                application.save()
        except IntegrityError as exc:
            application.licence.delete(save=False)
            raise ApplicationAlreadyOpen from exc
    return application


def resubmit_application(
    *, applicant: User, application_id: int, details: ApplicationDetails
) -> CooperativeApplication:
    """The applicant corrects an application the admin returned, and it waits for review
    again; a new licence photo replaces the old one, none keeps it."""
    fields = _cleaned(details)
    _refuse_taken(name=fields["name"], registration_code=fields["registration_code"])
    photo = process_licence(details.licence) if details.licence else None
    with transaction.atomic():
        application = (
            CooperativeApplication.objects.select_for_update()
            .filter(pk=application_id, applicant=applicant)
            .first()
        )
        if application is None:
            raise ApplicationNotAvailable
        if application.status != ApplicationStatus.CHANGES_REQUESTED:
            raise ApplicationNotEditable
        for field, value in fields.items():
            setattr(application, field, value)
        if photo is not None:
            old = application.licence.name
            application.licence.save(photo.name, ContentFile(photo.image), save=False)
            transaction.on_commit(partial(application.licence.storage.delete, old))
        application.status = ApplicationStatus.PENDING
        application.submitted_at = timezone.now()
        application.save()
    return application


def _lock_for_review(reviewed_by: User, application_id: int) -> CooperativeApplication:
    if not is_admin(reviewed_by):
        raise NotCooperativeManager(_("Only the platform admin reviews applications."))
    application = (
        CooperativeApplication.objects.select_for_update(of=("self",))
        .select_related("applicant")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise ApplicationNotAvailable
    if application.status != ApplicationStatus.PENDING:
        raise ApplicationNotReviewable
    return application


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise ReviewReasonRequired
    return reason


def _decide(
    application: CooperativeApplication,
    *,
    status: str,
    reason: str,
    reviewed_by: User,
    action: AuditAction,
    address: str | None,
) -> None:
    before = application.status
    application.status = status
    application.reason = reason
    application.reviewed_by = reviewed_by
    application.reviewed_at = timezone.now()
    application.save(
        update_fields=["status", "reason", "reviewed_by", "reviewed_at", "cooperative"]
    )
    record_audit(
        action=action,
        actor=reviewed_by,
        subject=application.applicant,
        target=application,
        changes={"status": (before, status)},
        address=address,
    )


def _tell_applicant(application: CooperativeApplication, *, title: str, text: str) -> None:
    """In-app now (with the transaction), by SMS after commit."""
    applicant = application.applicant
    if applicant is None:
        return
    notify(
        user=applicant,
        kind=f"cooperative_application.{application.status}",
        title=title,
        body=application.reason,
        url=reverse("farms:application_detail", args=[application.pk]),
        payload={"application": application.pk},
    )
    phone = applicant.phone or application.contact_phone
    if phone:
        transaction.on_commit(partial(_send_sms_quietly, phone=phone, text=text))


def _send_sms_quietly(*, phone: str, text: str) -> None:
    """After commit: a provider's refusal is logged; the decision stands and the in-app
    notification tells her all the same."""
    try:
        send_sms(phone=phone, text=text)
    except SmsNotSent:
        logger.warning("SMS about a co-operative application was not sent", exc_info=True)


def approve_application(
    *, reviewed_by: User, application_id: int, address: str | None = None
) -> Cooperative:
    """The platform admin approves: in one transaction the co-operative is registered with
    the applicant as its manager, and her role becomes cooperative_manager. Refused (field
    errors) when a co-operative has taken the name or code meanwhile, or when she has joined
    a co-operative since she applied."""
    with transaction.atomic():
        application = _lock_for_review(reviewed_by, application_id)
        applicant = application.applicant
        if applicant is None or not applicant.is_active:
            raise CannotApplyForCooperative(_("The applicant's account no longer exists."))
        if Membership.objects.filter(user=applicant).exists():
            raise CannotApplyForCooperative(_("The applicant already belongs to a co-operative."))
        _refuse_taken(name=application.name, registration_code=application.registration_code)
        change_role(
            user=applicant, role=Role.COOPERATIVE_MANAGER, changed_by=reviewed_by, address=address
        )
        # Refuses a name or code taken meanwhile on its field, undoing the role change too.
        cooperative = register_cooperative(
            name=application.name,
            province=application.province,
            region=application.region,
            registration_code=application.registration_code,
            manager=applicant,
        )
        application.cooperative = cooperative
        _decide(
            application,
            status=ApplicationStatus.APPROVED,
            reason="",
            reviewed_by=reviewed_by,
            action=AuditAction.COOPERATIVE_APPLICATION_APPROVED,
            address=address,
        )
        _tell_applicant(
            application,
            title=_("%(cooperative)s is on FreshChain: you are its manager")
            % {"cooperative": cooperative.name},
            text=_(
                "[FreshChain] Your co-operative %(cooperative)s was approved. Sign in to add "
                "your members."
            )
            % {"cooperative": cooperative.name},
        )
    return cooperative


def request_changes(
    *, reviewed_by: User, application_id: int, reason: str, address: str | None = None
) -> CooperativeApplication:
    """The platform admin returns the application with what to change; she edits and
    resubmits it."""
    reason = _reason(reason)
    with transaction.atomic():
        application = _lock_for_review(reviewed_by, application_id)
        _decide(
            application,
            status=ApplicationStatus.CHANGES_REQUESTED,
            reason=reason,
            reviewed_by=reviewed_by,
            action=AuditAction.COOPERATIVE_APPLICATION_RETURNED,
            address=address,
        )
        _tell_applicant(
            application,
            title=_("Your co-operative application needs changes"),
            text=_("[FreshChain] Your application for %(cooperative)s needs changes: %(reason)s")
            % {"cooperative": application.name, "reason": reason[:120]},
        )
    return application


def decline_application(
    *, reviewed_by: User, application_id: int, reason: str, address: str | None = None
) -> CooperativeApplication:
    """The platform admin declines, saying why; she may apply again later."""
    reason = _reason(reason)
    with transaction.atomic():
        application = _lock_for_review(reviewed_by, application_id)
        _decide(
            application,
            status=ApplicationStatus.DECLINED,
            reason=reason,
            reviewed_by=reviewed_by,
            action=AuditAction.COOPERATIVE_APPLICATION_DECLINED,
            address=address,
        )
        _tell_applicant(
            application,
            title=_("Your co-operative application was declined"),
            text=_("[FreshChain] Your application for %(cooperative)s was declined: %(reason)s")
            % {"cooperative": application.name, "reason": reason[:120]},
        )
    return application
