"""Farms' section of her personal data: her co-operative membership, invitations, farms and
the harvest lots she recorded.

On deletion she leaves her co-operative; her farms and lots stay (a lot's origin is a food
safety record: Food Safety Law art. 50/65), held by the pseudonymous account, with her name
taken out of a farm's name.
"""

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.personal_data import (
    name_spellings,
    phone_spellings,
    register_section,
    replace_in_text,
)
from accounts.phone import mask_phone

from .choices import ApplicationStatus
from .models import CooperativeApplication, Farm, HarvestLot, Membership, MembershipInvitation

EXPORT_LIMIT = 1000


def export_farms(user: User) -> dict[str, Any]:
    membership = Membership.objects.select_related("cooperative").filter(user=user).first()
    return {
        "membership": (
            {
                "cooperative": membership.cooperative.name,
                "is_manager": membership.is_manager,
                "joined_on": membership.joined_on.isoformat(),
            }
            if membership
            else None
        ),
        "cooperative_applications": [
            {
                "name": application.name,
                "registration_code": application.registration_code,
                "contact_name": application.contact_name,
                "contact_phone": application.contact_phone,
                "status": application.status,
                "reason": application.reason,
                "submitted_at": application.submitted_at.isoformat(),
            }
            for application in CooperativeApplication.objects.filter(applicant=user)
        ],
        "invitations": [
            {
                "cooperative": invitation.cooperative.name,
                "phone": invitation.phone,
                "status": invitation.status,
                "created_at": invitation.created_at.isoformat(),
            }
            for invitation in _invitations_of(user).select_related("cooperative")
        ],
        "farms": [
            {
                "id": farm.pk,
                "name": farm.name,
                "cooperative": farm.cooperative.name,
                "longitude": farm.location.x,
                "latitude": farm.location.y,
                "area_hectares": str(farm.area_hectares) if farm.area_hectares else None,
            }
            for farm in Farm.objects.filter(farmer=user).select_related("cooperative")
        ],
        "harvest_lots_recorded": [
            {"lot_code": lot.lot_code, "harvest_date": lot.harvest_date.isoformat()}
            for lot in HarvestLot.objects.filter(recorded_by=user).order_by("-pk")[:EXPORT_LIMIT]
        ],
    }


def erase_farms(user: User, pseudonym: str) -> None:
    replace_in_text(
        Farm.objects.filter(farmer=user),
        fields=["name"],
        spellings=name_spellings(user),
        replacement=pseudonym,
    )
    for invitation in _invitations_of(user):
        invitation.phone = mask_phone(invitation.phone) or ""
        invitation.save(update_fields=["phone"])
    _erase_applications(user, pseudonym)
    Membership.objects.filter(user=user).delete()


def _invitations_of(user: User):
    """Invitations to her account, and to her number before she had one."""
    return MembershipInvitation.objects.filter(
        Q(user=user) | Q(phone__in=phone_spellings(user.phone))
    )


def _erase_applications(user: User, pseudonym: str) -> None:
    """An approved application is the co-operative's registration record and stays, with
    her contact details taken out; one that never made a co-operative goes, licence photo
    and all."""
    applications = CooperativeApplication.objects.filter(applicant=user)
    for application in applications.exclude(status=ApplicationStatus.APPROVED):
        if application.licence:
            application.licence.delete(save=False)
        application.delete()
    approved = applications.filter(status=ApplicationStatus.APPROVED)
    replace_in_text(
        approved, fields=["reason"], spellings=name_spellings(user), replacement=pseudonym
    )
    for application in approved:
        application.contact_name = pseudonym
        application.contact_phone = mask_phone(application.contact_phone)
        application.save(update_fields=["contact_name", "contact_phone"])


def last_manager(user: User) -> str | None:
    """A co-operative is not left without a manager while it has other members."""
    membership = Membership.objects.select_related("cooperative").filter(user=user).first()
    if membership is None or not membership.is_manager:
        return None
    members = Membership.objects.filter(cooperative=membership.cooperative).exclude(user=user)
    if members.exists() and not members.filter(is_manager=True).exists():
        return _(
            "You are the only manager of %(cooperative)s: make another member its manager first."
        ) % {"cooperative": membership.cooperative.name}
    return None


def register() -> None:
    register_section(
        name="farms",
        label=gettext_lazy("Co-operative, farms and harvests"),
        exporter=export_farms,
        eraser=erase_farms,
        blocker=last_manager,
    )
