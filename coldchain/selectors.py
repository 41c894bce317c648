"""Reads shared by the cold chain's pages, API, consumers and tasks, including who sees what.

Visibility: a cold-chain controller (and a platform admin) sees every shipment, store, vehicle
and alert; a co-operative manager sees those whose site belongs to her co-operative; a market
operator those whose site belongs to her market. Every other role sees none.
"""

from django.db.models import Q, QuerySet

from accounts.choices import Role
from accounts.models import User
from accounts.permissions import is_admin
from farms.models import HarvestLot
from farms.selectors import cooperative_managed_by, lots_visible_to
from marketplace.markets.models import MarketStaff, Trade
from marketplace.markets.selectors.counter import trades_visible_to
from marketplace.models import Order
from marketplace.selectors.orders import orders_visible_to

from .choices import ShipmentStatus
from .models import (
    Alert,
    ColdStore,
    Excursion,
    LoggerAssignment,
    Shipment,
    ShipmentLot,
    Vehicle,
)

SCREEN_ROLES = (Role.COLDCHAIN_CONTROLLER, Role.COOPERATIVE_MANAGER, Role.MARKET_OPERATOR)


def _active(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def sees_everything(user: User) -> bool:
    return _active(user) and (is_admin(user) or user.role == Role.COLDCHAIN_CONTROLLER)


def site_filter_for(user: User, prefix: str) -> Q | None:
    """Q over a site reached through `prefix` ("origin", "site", …) for the user's own
    co-operative or market; None when the user sees every site, Q(pk__in=[]) when none."""
    if sees_everything(user):
        return None
    if not _active(user):
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
    ends = site_filter_for(user, "origin")
    if ends is None:
        return shipments
    return shipments.filter(ends | site_filter_for(user, "destination")).distinct()


def stores_visible_to(user: User) -> QuerySet[ColdStore]:
    stores = ColdStore.objects.select_related("site")
    own = site_filter_for(user, "site")
    return stores if own is None else stores.filter(own)


def vehicles_visible_to(user: User) -> QuerySet[Vehicle]:
    """Every vehicle for a controller; otherwise those on the user's visible shipments."""
    if sees_everything(user):
        return Vehicle.objects.all()
    return Vehicle.objects.filter(shipments__in=shipments_visible_to(user)).distinct()


def vehicles_for_planning(user: User) -> QuerySet[Vehicle]:
    """Vehicles the user may put on a shipment: every one for a controller; otherwise hired
    carriers' (no co-operative) and her own co-operative's."""
    vehicles = Vehicle.objects.order_by("plate")
    if sees_everything(user):
        return vehicles
    own = Q(cooperative__isnull=True)
    cooperative = cooperative_managed_by(user)
    if cooperative is not None:
        own |= Q(cooperative=cooperative)
    return vehicles.filter(own)


# --- What a planner may put on a shipment ------------------------------------------------------
# Ids in a plan's body are looked up here only, so another co-operative's lot, order or trade is
# "not found" exactly as a missing one is.


def lots_shippable_by(user: User) -> QuerySet[HarvestLot]:
    """Lots the user may put on a shipment: every lot for a controller; her co-operative's
    lots for a co-operative manager; the lots traded at her market for a market operator."""
    lots = HarvestLot.objects.select_related("product__storage_profile")
    if sees_everything(user):
        return lots
    if not _active(user):
        return lots.none()
    if user.role == Role.COOPERATIVE_MANAGER:
        return lots.filter(pk__in=lots_visible_to(user).values("pk"))
    if user.role == Role.MARKET_OPERATOR:
        markets = MarketStaff.objects.filter(user=user).values("market")
        return lots.filter(
            pk__in=Trade.objects.filter(market__in=markets, lot__isnull=False).values("lot")
        )
    return lots.none()


def orders_for_shipping(user: User) -> QuerySet[Order]:
    """Marketplace orders a shipment line may name: every one for a controller, otherwise
    those the user may see (marketplace.selectors)."""
    if sees_everything(user):
        return Order.objects.all()
    return orders_visible_to(user)


def trades_for_shipping(user: User) -> QuerySet[Trade]:
    """Market trades a shipment line may name: every one for a controller, otherwise those
    the user may see (her market's, or her own as a trader)."""
    if sees_everything(user):
        return Trade.objects.all()
    return trades_visible_to(user)


def lots_shipped_to(site) -> QuerySet[HarvestLot]:
    """Lots on shipments to `site` that have left (in transit or delivered): what may arrive
    there. Front warehouses receive such lots."""
    arrived = (ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED)
    return HarvestLot.objects.filter(
        pk__in=ShipmentLot.objects.filter(
            shipment__destination=site, shipment__status__in=arrived
        ).values("lot")
    )


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


def assignments_covering(logger_id: int, start, end) -> QuerySet[LoggerAssignment]:
    """The logger's assignments whose period meets [start, end]."""
    return LoggerAssignment.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=start), logger_id=logger_id, starts_at__lte=end
    ).select_related("shipment", "store")


def alert_payload(alert: Alert) -> dict:
    """One alert as the API lists it and the screens receive it live (the same shape)."""
    subject = alert.shipment or alert.store
    excursion = alert.excursion
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "kind_label": str(alert.get_kind_display()),
        "severity": alert.severity,
        "severity_label": str(alert.get_severity_display()),
        "subject": "shipment" if alert.shipment_id else "store",
        "subject_id": subject.pk,
        "subject_code": subject.code,
        "raised_at": alert.raised_at.isoformat() if alert.raised_at else None,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledgement_note": alert.acknowledgement_note,
        # Late readings no longer show the excursion: kept as confirmed, for a person to judge.
        "disputed": excursion is not None and excursion.refuted_at is not None,
        "excursion": None
        if excursion is None
        else {
            "kind": excursion.kind,
            "kind_label": str(excursion.get_kind_display()),
            "limit_c": excursion.limit_c,
            "started_at": excursion.started_at.isoformat(),
            "ended_at": excursion.ended_at.isoformat() if excursion.ended_at else None,
            "peak_c": excursion.peak_c,
            "degree_minutes": round(excursion.degree_minutes, 1),
            "refuted_at": excursion.refuted_at.isoformat() if excursion.refuted_at else None,
        },
    }
