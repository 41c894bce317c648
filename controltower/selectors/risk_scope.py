"""Which risk warnings lie in a tower's scope (controltower.selectors.scope).

A regulator limited to an area sees, is told of and is pushed only the warnings about what
lies inside it: a market there (its price, its business day), a front warehouse, a shipment
or an excursion there, a logger watching one of them now, a co-operative with a farm there.
The admin and a regulator of the whole country see every warning.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from accounts.choices import Role
from accounts.models import User
from coldchain.models import DataLogger, Excursion, LoggerAssignment, Shipment
from delivery.models import FrontWarehouse
from farms.models import Cooperative, Farm
from marketplace.markets.models import Market, MarketDay

from ..models import RegulatorArea, RiskWarning
from .scope import (
    TowerScope,
    excursions_in,
    markets_in,
    scope_of_area,
    shipments_in,
    sites_in,
    warehouses_in,
)

WARNINGS_GROUP = "tower.warnings"  # the admins' and the whole country's regulators' panels


def area_group(area_id: int) -> str:
    """The live group of the panels of regulators limited to this area."""
    return f"tower.warnings.area.{area_id}"


def _about(model, ids) -> Q:
    return Q(subject_type=ContentType.objects.get_for_model(model), subject_id__in=ids)


def warnings_in(scope: TowerScope, warnings: QuerySet[RiskWarning]) -> QuerySet[RiskWarning]:
    """The warnings about what lies in the scope (all of them for the whole country)."""
    if scope.area is None:
        return warnings
    markets = markets_in(scope).values("pk")
    shipments = shipments_in(scope).values("pk")
    loggers = LoggerAssignment.objects.filter(
        Q(shipment__in=shipments) | Q(store__site__in=sites_in(scope)), ends_at__isnull=True
    ).values("logger")
    return warnings.filter(
        _about(Market, markets)
        | _about(MarketDay, MarketDay.objects.filter(market__in=markets).values("pk"))
        | _about(FrontWarehouse, warehouses_in(scope).values("pk"))
        | _about(Shipment, shipments)
        | _about(Excursion, excursions_in(scope).values("pk"))
        | _about(DataLogger, loggers)
        | _about(
            Cooperative, Farm.objects.filter(location__intersects=scope.area).values("cooperative")
        )
    )


def _areas() -> QuerySet[RegulatorArea]:
    return RegulatorArea.objects.exclude(area=None)


def areas_holding(warning: RiskWarning) -> list[RegulatorArea]:
    """The regulators' areas the warning is about something inside of."""
    one = RiskWarning.objects.filter(pk=warning.pk)
    return [area for area in _areas() if warnings_in(scope_of_area(area), one).exists()]


def groups_of(warning: RiskWarning) -> list[str]:
    """The live groups whose panels show the warning."""
    return [WARNINGS_GROUP, *(area_group(area.pk) for area in areas_holding(warning))]


def watcher_ids_of(warning: RiskWarning) -> list[int]:
    """Who is told of the warning: the active admins, the regulators of the whole country,
    and the regulators whose area it lies in."""
    watchers = User.objects.filter(is_active=True).filter(
        Q(role__in=[Role.ADMIN, Role.REGULATOR]) | Q(is_superuser=True)
    )
    limited = _areas().values("user")
    inside = [area.user_id for area in areas_holding(warning)]
    return list(
        watchers.filter(~Q(pk__in=limited) | Q(pk__in=inside) | Q(role=Role.ADMIN))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
