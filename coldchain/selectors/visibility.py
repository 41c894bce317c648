"""Who sees what in the cold chain, the rule every door and every other read composes.

A cold-chain controller (and a platform admin) sees every shipment, store, vehicle and alert; a
co-operative manager sees those whose site belongs to her co-operative; a market operator those
whose site belongs to her market. Every other role sees none.
"""

from django.db.models import Q, QuerySet

from accounts.choices import Role
from accounts.models import User
from accounts.permissions import is_admin
from farms.selectors import cooperative_managed_by
from marketplace.markets.models import MarketStaff

from ..models import Alert, ColdStore, Excursion, Shipment, Vehicle

SCREEN_ROLES = (Role.COLDCHAIN_CONTROLLER, Role.COOPERATIVE_MANAGER, Role.MARKET_OPERATOR)


def active(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def sees_everything(user: User) -> bool:
    return active(user) and (is_admin(user) or user.role == Role.COLDCHAIN_CONTROLLER)


def site_filter_for(user: User, prefix: str) -> Q | None:
    """Q over a site reached through `prefix` ("origin", "site", …) for the user's own
    co-operative or market; None when the user sees every site, Q(pk__in=[]) when none."""
    if sees_everything(user):
        return None
    if not active(user):
        return Q(pk__in=[])
    if user.role == Role.COOPERATIVE_MANAGER:
        cooperative = cooperative_managed_by(user)
        if cooperative is not None:
            return Q(**{f"{prefix}__cooperative": cooperative})
    if user.role == Role.MARKET_OPERATOR:
        post = MarketStaff.objects.filter(user=user).only("market_id").first()
        if post is not None:
            return Q(**{f"{prefix}__market_id": post.market_id})
    return Q(pk__in=[])


def shipments_visible_to(user: User) -> QuerySet[Shipment]:
    shipments = Shipment.objects.select_related("origin", "destination", "vehicle")
    origin, destination = site_filter_for(user, "origin"), site_filter_for(user, "destination")
    if origin is None or destination is None:  # the user sees every site
        return shipments
    return shipments.filter(origin | destination).distinct()


def stores_visible_to(user: User) -> QuerySet[ColdStore]:
    stores = ColdStore.objects.select_related("site")
    own = site_filter_for(user, "site")
    return stores if own is None else stores.filter(own)


def vehicles_visible_to(user: User) -> QuerySet[Vehicle]:
    """Every vehicle for a controller; otherwise those on the user's visible shipments."""
    if sees_everything(user):
        return Vehicle.objects.all()
    return Vehicle.objects.filter(shipments__in=shipments_visible_to(user)).distinct()


def _about_visible_subjects(queryset: QuerySet, user: User) -> QuerySet:
    if sees_everything(user):
        return queryset
    return queryset.filter(
        Q(shipment__in=shipments_visible_to(user)) | Q(store__in=stores_visible_to(user))
    )


def alerts_visible_to(user: User) -> QuerySet[Alert]:
    alerts = Alert.objects.select_related(
        "shipment", "store", "excursion", "acknowledged_by", "assignment__logger"
    )
    return _about_visible_subjects(alerts, user)


def excursions_visible_to(user: User) -> QuerySet[Excursion]:
    return _about_visible_subjects(Excursion.objects.select_related("shipment", "store"), user)
