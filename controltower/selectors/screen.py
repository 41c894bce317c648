"""The tower's screen in one read: today's counters and what goes on the map, in a scope.

Today is the Asia/Shanghai business day. Each figure is read from the app that owns it:
trades from the markets (not reversed, by business date), consumer orders and the on-time
rule from delivery (delivered by the promise, among those delivered today; .deliveries),
excursions from the cold chain (confirmed and not over, not disputed), recalls from
traceability (not closed), and the holds a market's gate placed (farms' LotHold with a
market, not released), counted as lots.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Sum

from coldchain.choices import ShipmentStatus, SiteKind
from coldchain.selectors.screen import shipments_with_state, state_of
from common.dates import business_date_of
from delivery.models import DeliveryOrder, DeliveryOrderStatus
from delivery.selectors.warehouse import business_day_bounds
from marketplace.models import Trade

from .deliveries import delivered_between, with_on_time_counts
from .scope import (
    TowerScope,
    excursions_in,
    gate_holds_in,
    markets_in,
    recalls_in,
    shipments_in,
    sites_in,
    warehouses_in,
)

KG_PER_TONNE = Decimal(1000)
# The map shows at most this many shipments under way (worst state first).
MAP_MAX_SHIPMENTS = 300


def tonnes(kg: Decimal) -> Decimal:
    return (kg / KG_PER_TONNE).quantize(Decimal("0.001"))


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class MarketToday:
    id: int
    name: str
    city: str
    location: tuple[float, float] | None  # (longitude, latitude) of its site; None: no site
    trades: int
    volume_kg: Decimal

    @property
    def tonnes(self) -> Decimal:
        return tonnes(self.volume_kg)


@dataclass(frozen=True)
class WarehouseToday:
    id: int
    name: str
    location: tuple[float, float]
    orders: int  # placed today, cancelled ones left out
    delivered: int
    on_time: int

    @property
    def on_time_percent(self) -> Decimal | None:
        return percent(self.on_time, self.delivered)


@dataclass(frozen=True)
class ShipmentOnMap:
    id: int
    code: str
    status: str
    status_label: str
    state: str
    state_label: str
    origin: str
    destination: str
    route: tuple[tuple[float, float], tuple[float, float]]  # origin, destination
    position: tuple[float, float]  # the vehicle's last position, else the origin
    plate: str


@dataclass(frozen=True)
class Counters:
    day: date
    trades: int
    volume_kg: Decimal
    orders: int
    delivered: int
    on_time: int
    open_excursions: int
    open_recalls: int
    lots_held_at_gates: int

    @property
    def tonnes(self) -> Decimal:
        return tonnes(self.volume_kg)

    @property
    def on_time_percent(self) -> Decimal | None:
        return percent(self.on_time, self.delivered)


@dataclass(frozen=True)
class TowerScreen:
    scope: TowerScope
    at: datetime
    counters: Counters
    markets: list[MarketToday] = field(default_factory=list)
    warehouses: list[WarehouseToday] = field(default_factory=list)
    shipments: list[ShipmentOnMap] = field(default_factory=list)


def _lon_lat(point) -> tuple[float, float] | None:
    return None if point is None else (round(point.x, 6), round(point.y, 6))


def markets_on(scope: TowerScope, day: date) -> list[MarketToday]:
    """Each market in the scope with its trades and kilograms of `day` (zero when none)."""
    per_market = {
        row["market"]: row
        for row in Trade.objects.filter(
            market__in=markets_in(scope), business_date=day, reversal__isnull=True
        )
        .values("market")
        .annotate(trades=Count("id"), kg=Sum("net_kg"))
    }
    # A market's own site (kind "market", the first one) wins over any other naming it.
    sites = sorted(
        sites_in(scope).filter(market__isnull=False),
        key=lambda site: (site.kind == SiteKind.MARKET, -site.pk),
    )
    locations = {site.market_id: _lon_lat(site.location) for site in sites}
    return [
        MarketToday(
            id=market.pk,
            name=market.name,
            city=market.city,
            location=locations.get(market.pk),
            trades=per_market.get(market.pk, {}).get("trades", 0),
            volume_kg=per_market.get(market.pk, {}).get("kg") or Decimal("0.000"),
        )
        for market in markets_in(scope).order_by("name", "id")
    ]


def warehouses_on(scope: TowerScope, day: date) -> list[WarehouseToday]:
    """Each front warehouse in the scope with its consumer orders placed on `day` and its
    on-time rate (delivery's rule, see .deliveries), in three queries whatever their number."""
    start, end = business_day_bounds(day)
    warehouses = list(warehouses_in(scope).order_by("name", "id"))
    placed = dict(
        DeliveryOrder.objects.filter(
            warehouse__in=warehouses, placed_at__gte=start, placed_at__lt=end
        )
        .exclude(status=DeliveryOrderStatus.CANCELLED)
        .values("warehouse")
        .annotate(n=Count("id"))
        .values_list("warehouse", "n")
    )
    counts = {
        row["warehouse"]: row
        for row in with_on_time_counts(
            delivered_between(warehouses, start, end).values("warehouse")
        )
    }
    none = {"delivered": 0, "on_time": 0}
    return [
        WarehouseToday(
            id=warehouse.pk,
            name=warehouse.name,
            location=_lon_lat(warehouse.site.location) or (0.0, 0.0),
            orders=placed.get(warehouse.pk, 0),
            delivered=counts.get(warehouse.pk, none)["delivered"],
            on_time=counts.get(warehouse.pk, none)["on_time"],
        )
        for warehouse in warehouses
    ]


def shipments_on_map(scope: TowerScope) -> list[ShipmentOnMap]:
    """Shipments under way (in transit) coloured like the cold-chain screen: excursion, loss
    of signal, or normal."""
    shipments = shipments_with_state(
        shipments_in(scope).filter(status=ShipmentStatus.IN_TRANSIT)
    ).order_by("-state_rank", "planned_departure_at", "id")[:MAP_MAX_SHIPMENTS]
    rows = []
    for shipment in shipments:
        origin = _lon_lat(shipment.origin.location) or (0.0, 0.0)
        destination = _lon_lat(shipment.destination.location) or (0.0, 0.0)
        vehicle = shipment.vehicle
        position = _lon_lat(vehicle.last_position) if vehicle else None
        state = state_of(shipment.state_rank)  # type: ignore[attr-defined]  # annotated
        rows.append(
            ShipmentOnMap(
                id=shipment.pk,
                code=shipment.code,
                status=shipment.status,
                status_label=str(shipment.get_status_display()),
                state=state["state"],
                state_label=state["state_label"],
                origin=shipment.origin.name,
                destination=shipment.destination.name,
                route=(origin, destination),
                position=position or origin,
                plate=vehicle.plate if vehicle else "",
            )
        )
    return rows


def open_excursion_count(scope: TowerScope) -> int:
    return excursions_in(scope).filter(ended_at__isnull=True, refuted_at__isnull=True).count()


def open_recall_count(scope: TowerScope) -> int:
    return recalls_in(scope).filter(closed_at__isnull=True).count()


def lots_held_at_gates(scope: TowerScope) -> int:
    return (
        gate_holds_in(scope)
        .filter(released_at__isnull=True)
        .aggregate(n=Count("lot", distinct=True))["n"]
    )


def counters_of(
    scope: TowerScope,
    *,
    day: date,
    markets: list[MarketToday],
    warehouses: list[WarehouseToday],
) -> Counters:
    return Counters(
        day=day,
        trades=sum(m.trades for m in markets),
        volume_kg=sum((m.volume_kg for m in markets), Decimal("0.000")),
        orders=sum(w.orders for w in warehouses),
        delivered=sum(w.delivered for w in warehouses),
        on_time=sum(w.on_time for w in warehouses),
        open_excursions=open_excursion_count(scope),
        open_recalls=open_recall_count(scope),
        lots_held_at_gates=lots_held_at_gates(scope),
    )


def tower_screen(scope: TowerScope, *, now: datetime) -> TowerScreen:
    day = business_date_of(now)
    markets = markets_on(scope, day)
    warehouses = warehouses_on(scope, day)
    return TowerScreen(
        scope=scope,
        at=now,
        counters=counters_of(scope, day=day, markets=markets, warehouses=warehouses),
        markets=markets,
        warehouses=warehouses,
        shipments=shipments_on_map(scope),
    )


def counters_on(scope: TowerScope, day: date) -> Counters:
    """The counters of a past or present `day` (the digest's yesterday). Open excursions,
    recalls and gate holds are as they stand now: they have no history of counts."""
    return counters_of(
        scope, day=day, markets=markets_on(scope, day), warehouses=warehouses_on(scope, day)
    )
