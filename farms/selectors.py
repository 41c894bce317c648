"""Reads shared by pages, the API and other apps, including who may see what.

Visibility: a farmer sees her own farms and lots; a co-operative manager sees those of
her co-operative; a platform admin sees everything; every other role sees none.
"""

from collections.abc import Iterable

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from accounts.choices import Role
from accounts.models import User
from accounts.permissions import is_admin

from .choices import OPEN_APPLICATION_STATUSES, ApplicationStatus, InvitationStatus
from .models import (
    Cooperative,
    CooperativeApplication,
    Farm,
    HarvestLot,
    LotAdmission,
    LotHold,
    Membership,
    MembershipInvitation,
    Product,
)


def _is_active_user(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def cooperative_managed_by(user: User) -> Cooperative | None:
    """The co-operative this user manages, if any."""
    if not _is_active_user(user) or user.role != Role.COOPERATIVE_MANAGER:
        return None
    membership = (
        Membership.objects.filter(user=user, is_manager=True).select_related("cooperative").first()
    )
    return membership.cooperative if membership else None


def cooperative_of(user: User) -> Cooperative | None:
    """The co-operative this user belongs to (as member or manager), if any."""
    membership = Membership.objects.filter(user=user).select_related("cooperative").first()
    return membership.cooperative if membership else None


def manages_cooperative(user: User, cooperative: Cooperative) -> bool:
    """A platform admin, or the co-operative's own manager."""
    return is_admin(user) or cooperative_managed_by(user) == cooperative


def farms_visible_to(user: User) -> QuerySet[Farm]:
    farms = Farm.objects.select_related("cooperative", "farmer")
    if is_admin(user):
        return farms
    if not _is_active_user(user):
        return farms.none()
    if user.role == Role.FARMER:
        return farms.filter(farmer=user)
    if user.role == Role.COOPERATIVE_MANAGER:
        return farms.filter(
            cooperative__in=Membership.objects.filter(user=user, is_manager=True).values(
                "cooperative"
            )
        )
    return farms.none()


def farm_choices_for(user: User) -> QuerySet[Farm]:
    """Farms on which this user may record a harvest or change the boundary."""
    return farms_visible_to(user).order_by("name", "id")


def lots_visible_to(user: User) -> QuerySet[HarvestLot]:
    return HarvestLot.objects.filter(farm__in=farms_visible_to(user).values("pk")).select_related(
        "product", "farm", "farm__cooperative", "recorded_by"
    )


def members_visible_to(user: User) -> QuerySet[Membership]:
    members = Membership.objects.select_related("user", "cooperative")
    if is_admin(user):
        return members
    if not _is_active_user(user) or user.role != Role.COOPERATIVE_MANAGER:
        return members.none()
    return members.filter(
        cooperative__in=Membership.objects.filter(user=user, is_manager=True).values("cooperative")
    )


def members_of_cooperative(cooperative: Cooperative) -> QuerySet[Membership]:
    """The memberships of a co-operative (its members see who runs it)."""
    return Membership.objects.filter(cooperative=cooperative).select_related("user")


def farmers_of(cooperative: Cooperative) -> QuerySet[User]:
    """Members of the co-operative who farm (hold the farmer role)."""
    return User.objects.filter(
        membership__cooperative=cooperative, role=Role.FARMER, is_active=True
    ).order_by("display_name", "username")


def catalogue_products() -> QuerySet[Product]:
    """The active catalogue, with storage profiles; every signed-in user may read it."""
    return Product.objects.filter(is_active=True).select_related("storage_profile")


def products_named(products: QuerySet[Product], words: str) -> QuerySet[Product]:
    """Products whose Chinese or English name, or code, contains the words."""
    return products.filter(
        Q(name_zh__icontains=words) | Q(name_en__icontains=words) | Q(code__icontains=words)
    )


def farms_near(
    point: Point, radius_km: float, *, among: QuerySet[Farm] | None = None
) -> QuerySet[Farm]:
    """Farms whose location lies within radius_km of the point, nearest first.

    Distances are geodesic (PostGIS geography); each farm carries `distance` (a Distance).
    """
    farms = among if among is not None else Farm.objects.all()
    return (
        farms.filter(location__dwithin=(point, D(km=radius_km)))
        .annotate(distance=Distance("location", point))
        .order_by("distance", "id")
    )


def farmers_for_new_farms(user: User) -> QuerySet[User]:
    """Whose farms this user may add: her own (a member farmer), her co-op's farmers
    (a manager), every member farmer (a platform admin)."""
    farmers = User.objects.filter(role=Role.FARMER, is_active=True, membership__isnull=False)
    if is_admin(user):
        return farmers.order_by("display_name", "username")
    if not _is_active_user(user):
        return farmers.none()
    if user.role == Role.FARMER:
        return farmers.filter(pk=user.pk)
    if user.role == Role.COOPERATIVE_MANAGER:
        cooperative = cooperative_managed_by(user)
        return farmers_of(cooperative) if cooperative else farmers.none()
    return farmers.none()


def invitations_of(user: User) -> QuerySet[MembershipInvitation]:
    """The membership invitations made to this user (newest first): those to her account,
    and those to her number made before she had an account."""
    if not _is_active_user(user):
        return MembershipInvitation.objects.none()
    mine = Q(user=user)
    if user.phone:
        mine |= Q(user__isnull=True, phone=user.phone)
    return MembershipInvitation.objects.filter(mine).select_related("cooperative")


def invitation_by_token(token_hash: str) -> MembershipInvitation | None:
    """The invitation a texted link opens (by its token's hash), whatever its state."""
    if not token_hash:
        return None
    return (
        MembershipInvitation.objects.select_related("cooperative")
        .filter(token_hash=token_hash)
        .first()
    )


def pending_invitations_of(user: User) -> QuerySet[MembershipInvitation]:
    return invitations_of(user).filter(status=InvitationStatus.PENDING)


def invitations_sent_visible_to(user: User) -> QuerySet[MembershipInvitation]:
    """Invitations of the co-operative a manager runs (every one, for a platform admin)."""
    invitations = MembershipInvitation.objects.select_related("cooperative", "invited_by")
    if is_admin(user):
        return invitations
    if not _is_active_user(user) or user.role != Role.COOPERATIVE_MANAGER:
        return invitations.none()
    return invitations.filter(
        cooperative__in=Membership.objects.filter(user=user, is_manager=True).values("cooperative")
    )


# Co-operative applications


def applications_visible_to(user: User) -> QuerySet[CooperativeApplication]:
    """Every application for the platform admin; her own for anyone else."""
    applications = CooperativeApplication.objects.select_related(
        "applicant", "reviewed_by", "cooperative"
    )
    if is_admin(user):
        return applications
    if not _is_active_user(user):
        return applications.none()
    return applications.filter(applicant=user)


def open_application_of(user: User) -> CooperativeApplication | None:
    """Her application under way (waiting for review or returned for changes), if any."""
    return (
        applications_visible_to(user)
        .filter(applicant=user, status__in=OPEN_APPLICATION_STATUSES)
        .first()
    )


def applications_to_review() -> QuerySet[CooperativeApplication]:
    """Pending applications, oldest first: the platform admin's queue."""
    return (
        CooperativeApplication.objects.select_related("applicant")
        .filter(status=ApplicationStatus.PENDING)
        .order_by("submitted_at", "id")
    )


# Holds: what stops a lot from being sold (farms.models.holds).


def open_holds_applying(
    *, lot_ids: Iterable[int], market_id: int | None = None
) -> QuerySet[LotHold]:
    """Open holds on these lots that stop a sale: those held everywhere, and, at a market's
    counter, those held at that market."""
    scope = Q(market__isnull=True)
    if market_id is not None:
        scope |= Q(market_id=market_id)
    return LotHold.objects.filter(scope, lot_id__in=list(lot_ids), released_at__isnull=True)


def held_everywhere(lot_ref=None) -> Exists:
    """An Exists() for annotating or filtering rows that carry a lot (`lot_ref` defaults to
    OuterRef("lot_id")): true while the lot has an open hold that applies everywhere. Delivery
    leaves such stock out of first-expired-first-out picking with it."""
    lot = lot_ref if lot_ref is not None else OuterRef("lot_id")
    return Exists(
        LotHold.objects.filter(
            lot=lot,  # type: ignore[misc]  # an OuterRef, which the stubs' lookups do not know
            market__isnull=True,
            released_at__isnull=True,
        )
    )


def everywhere_hold_reason(lot_ref=None) -> Subquery:
    """A Subquery for annotating rows that carry a lot (`lot_ref` as in held_everywhere): the
    reason of its first open hold that applies everywhere, or None. Pages show it beside the
    stock, listing or shipment that the hold blocks."""
    lot = lot_ref if lot_ref is not None else OuterRef("lot_id")
    return Subquery(
        LotHold.objects.filter(
            lot=lot,  # type: ignore[misc]  # an OuterRef, as in held_everywhere
            market__isnull=True,
            released_at__isnull=True,
        )
        .order_by("placed_at", "id")
        .values("reason")[:1]
    )


# --- A lot's gate checks, for its journey (traceability reads them here) --------------------


def markets_that_admitted(lot_id: int) -> QuerySet:
    """Ids of the markets that checked the lot in at their gate."""
    return LotAdmission.objects.filter(lot_id=lot_id).values("market_id")


def lots_admitted_at(market_ids) -> QuerySet:
    """Ids of the lots the given markets checked in at their gate."""
    return LotAdmission.objects.filter(market_id__in=market_ids).values("lot_id")


def cooperative_manager_ids(cooperative_id: int) -> list[int]:
    """The active managers of the co-operative."""
    return list(
        Membership.objects.filter(
            cooperative_id=cooperative_id, is_manager=True, user__is_active=True
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
