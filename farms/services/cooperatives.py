"""Registering a co-operative with its first manager (an approved application does it,
farms.services.applications; so do the demo and the admin). Members come in by invitation
(farms.services.invitations)."""

from datetime import date

from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from common import geometry

from ..exceptions import AlreadyMember, FarmsError
from ..models import Cooperative, Membership
from .cleaning import clean_name, violated_constraint


def register_cooperative(
    *,
    name: str,
    province: str,
    name_en: str = "",
    region: str = "",
    location: Point | None = None,
    registration_code: str = "",
    founded_on: date | None = None,
    manager: User | None = None,
) -> Cooperative:
    """Register a co-operative, with its first manager (a cooperative_manager in no co-op)."""
    name = clean_name(name, field="name", max_length=120)
    province = clean_name(province, field="province", max_length=40)
    if location is not None:
        location = geometry.validate_location(location)
    if manager is not None and manager.role != Role.COOPERATIVE_MANAGER:
        raise FarmsError(_("A manager must have the co-operative manager role."), field="manager")
    with transaction.atomic():
        try:
            with transaction.atomic():
                cooperative = Cooperative.objects.create(
                    name=name,
                    name_en=name_en.strip(),
                    province=province,
                    region=region.strip(),
                    location=location,
                    registration_code=registration_code.strip(),
                    founded_on=founded_on,
                )
        except IntegrityError as exc:
            if violated_constraint(exc) == "cooperative_registration_code_unique":
                raise FarmsError(
                    _("A co-operative with this registration code exists."),
                    field="registration_code",
                ) from exc
            raise FarmsError(_("A co-operative with this name exists."), field="name") from exc
        if manager is not None:
            try:
                with transaction.atomic():
                    Membership.objects.create(
                        cooperative=cooperative, user=manager, is_manager=True
                    )
            except IntegrityError as exc:
                raise AlreadyMember(field="manager") from exc
    return cooperative
