"""Who may open the tower, and what part of the chain it shows them.

The platform admin and the regulator open it, read-only; nobody else. A regulator with a
RegulatorArea sees only what lies inside it: the sites (coldchain.Site) whose location is in
the area, the markets and front warehouses on those sites, the shipments that start or end
at one, the excursions of those shipments and of the cold stores there, the recalls of lots
grown on a farm in the area or traded or checked in at those markets, and the holds at their
gates. The admin, and a
regulator without an area, see the whole country.

Every other tower read takes a `TowerScope` from `scope_of(user)`, so the rule is written once.
"""

from dataclasses import dataclass

from django.contrib.gis.geos import MultiPolygon
from django.db.models import Q, QuerySet

from accounts.choices import Role
from accounts.models import User
from accounts.permissions import is_admin, user_has_role
from coldchain.models import ColdStore, Excursion, Shipment, Site
from delivery.models import FrontWarehouse
from farms.models import LotHold
from marketplace.markets.models import Market
from traceability.models import Recall

from ..models import RegulatorArea

TOWER_ROLES = (Role.REGULATOR,)  # and the platform admin, who holds every role


@dataclass(frozen=True)
class TowerScope:
    """The part of the country a tower shows: `area` None is all of it."""

    area: MultiPolygon | None = None
    area_name: str = ""
    area_id: int | None = None

    @property
    def is_whole_country(self) -> bool:
        return self.area is None


WHOLE_COUNTRY = TowerScope()


def may_open_tower(user: User) -> bool:
    return user_has_role(user, *TOWER_ROLES)


def scope_of(user: User) -> TowerScope:
    """The user's scope; the caller has checked `may_open_tower`."""
    if is_admin(user):
        return WHOLE_COUNTRY
    area = RegulatorArea.objects.filter(user=user).first()
    return scope_of_area(area)


def scope_of_area(area: RegulatorArea | None) -> TowerScope:
    if area is None or area.area is None:
        return WHOLE_COUNTRY
    return TowerScope(area=area.area, area_name=area.name, area_id=area.pk)


def regulators_of(area: RegulatorArea | None) -> QuerySet[User]:
    """The active regulators who watch `area` (None: those who watch the whole country)."""
    regulators = User.objects.filter(role=Role.REGULATOR, is_active=True)
    if area is not None:
        return regulators.filter(regulator_area=area)
    return regulators.filter(Q(regulator_area__isnull=True) | Q(regulator_area__area__isnull=True))


# --- The chain inside a scope ---------------------------------------------------------------


def sites_in(scope: TowerScope) -> QuerySet[Site]:
    sites = Site.objects.all()
    return sites if scope.area is None else sites.filter(location__intersects=scope.area)


def markets_in(scope: TowerScope) -> QuerySet[Market]:
    """Markets with a site inside the scope; the whole country's include markets that have no
    site yet (they count, but are not on the map)."""
    markets = Market.objects.all()
    if scope.area is None:
        return markets
    return markets.filter(pk__in=sites_in(scope).filter(market__isnull=False).values("market"))


def warehouses_in(scope: TowerScope) -> QuerySet[FrontWarehouse]:
    warehouses = FrontWarehouse.objects.filter(is_active=True).select_related("site")
    return warehouses if scope.area is None else warehouses.filter(site__in=sites_in(scope))


def shipments_in(scope: TowerScope) -> QuerySet[Shipment]:
    shipments = Shipment.objects.select_related("origin", "destination", "vehicle")
    if scope.area is None:
        return shipments
    inside = sites_in(scope)
    return shipments.filter(Q(origin__in=inside) | Q(destination__in=inside))


def excursions_in(scope: TowerScope) -> QuerySet[Excursion]:
    excursions = Excursion.objects.select_related("shipment", "store")
    if scope.area is None:
        return excursions
    return excursions.filter(
        Q(shipment__in=shipments_in(scope))
        | Q(store__in=ColdStore.objects.filter(site__in=sites_in(scope)))
    )


def recalls_in(scope: TowerScope) -> QuerySet[Recall]:
    recalls = Recall.objects.select_related("lot", "lot__product", "cooperative")
    if scope.area is None:
        return recalls
    market_ids = list(markets_in(scope).values_list("pk", flat=True))
    return recalls.filter(
        Q(market_ids__overlap=market_ids) | Q(lot__farm__location__intersects=scope.area)
    )


def gate_holds_in(scope: TowerScope) -> QuerySet[LotHold]:
    """Holds placed at a market's gate (an entry check, a rapid test, a laboratory result):
    the lot may not trade at that market. Recalls hold everywhere and are counted apart."""
    holds = LotHold.objects.filter(market__isnull=False)
    return holds if scope.area is None else holds.filter(market__in=markets_in(scope))
