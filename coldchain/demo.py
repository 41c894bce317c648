"""Demo cold chain: the co-operatives' packhouses and 新发地 as sites, three cold stores, four
refrigerated trucks on their way to 新发地 with real demo harvest lots, and a data logger in
every truck and store, with fixed device ids and secrets so `manage.py simulate_loggers` can
post their readings through the real API.

`manage.py seed_demo` calls seed(context) after farms.demo and marketplace.markets.demo;
everything goes through coldchain.services (the registry by the demo controller, shipments
planned and loaded by the co-operatives' managers, back-dated with time-machine as the market
demo does). Running it again changes nothing while the demo's trips are under way. Once every
demo truck is due at 新发地 (a later day), 新发地's operator unloads and accepts the finished
trips and a new set leaves, so the screens always have shipments in transit.

The loggers' secrets are written here in the clear: they are demo secrets, known only to a
DEBUG demo (seed_demo refuses to run with DEBUG off). A real logger gets a random secret from
`register_logger`, shown once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import time_machine
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from common.dates import BUSINESS_TIME_ZONE
from farms.models import HarvestLot

from .choices import HandoverDecision, HandoverKind, ShipmentStatus, SiteKind
from .models import ColdStore, DataLogger, LoggerAssignment, Shipment, Site, Vehicle
from .services.handovers import record_handover
from .services.registry import (
    assign_logger,
    create_cold_store,
    create_site,
    create_vehicle,
    hash_logger_secret,
    logger_secret_matches,
    register_logger,
)
from .services.shipments import plan_shipment

SHIPMENT_PREFIX = "CC-"  # demo shipment codes: CC-<yymmdd-HHMM of the set>-<n>
# Short enough that the simulator's live compressor failure becomes an alert within minutes of
# `make run`; a door opening (two or three minutes) still never does.
DEMO_EXCURSION_DELAY_MINUTES = 5
DEMO_RECOVERY_MINUTES = 5
STORE_EXCURSION_DELAY_MINUTES = 10
STORE_WATCHED_SINCE = timedelta(days=7)


@dataclass(frozen=True)
class DemoSite:
    name: str
    kind: str
    longitude: float
    latitude: float
    cooperative: str = ""  # farms.demo's English name
    market: bool = False  # the demo market (新发地)


@dataclass(frozen=True)
class DemoLogger:
    device_id: str
    secret: str
    label: str


@dataclass(frozen=True)
class DemoStore:
    code: str
    name: str
    site: str
    min_c: str
    max_c: str
    capacity_kg: str
    logger: DemoLogger


@dataclass(frozen=True)
class DemoVehicle:
    plate: str
    name: str
    carrier: str
    cooperative: str
    logger: DemoLogger


@dataclass(frozen=True)
class DemoShipment:
    """A trip of one truck: it left `departed_hours` before the set was planned and is due
    `arrives_hours` after; `via` are the road's turning points (longitude, latitude)."""

    n: int
    origin: str
    vehicle: str  # plate
    planned_by: str  # demo username
    lots: tuple[tuple[str, str], ...]  # (lot code, kg)
    departed_hours: float
    arrives_hours: float
    via: tuple[tuple[float, float], ...] = ()


XINFADI = "北京新发地农产品批发市场"
XIANFENG = "寿光鲜丰蔬菜合作社包装场"
RED_PEPPER = "寿光红椒合作社包装场"
LUOCHUAN = "洛川金果苹果合作社冷库"

SITES = (
    DemoSite(XINFADI, SiteKind.MARKET, 116.3655, 39.7838, market=True),
    DemoSite(XIANFENG, SiteKind.COOPERATIVE, 118.7910, 36.8570,
             cooperative="Shouguang Xianfeng Vegetable Co-operative"),
    DemoSite(RED_PEPPER, SiteKind.COOPERATIVE, 118.7020, 36.9210,
             cooperative="Shouguang Red Pepper Co-operative"),
    DemoSite(LUOCHUAN, SiteKind.COOPERATIVE, 109.4320, 35.7620,
             cooperative="Luochuan Golden Fruit Apple Co-operative"),
)  # fmt: skip

STORES = (
    DemoStore("xinfadi-cold-1", "新发地一号冷库", XINFADI, "0.0", "4.0", "500000",
              DemoLogger("DEMO-STORE-1", "demo-store-1-secret", "新发地一号冷库 温湿度记录仪")),
    DemoStore("xianfeng-precool", "鲜丰合作社预冷库", XIANFENG, "10.0", "13.0", "80000",
              DemoLogger("DEMO-STORE-2", "demo-store-2-secret", "鲜丰合作社预冷库 温湿度记录仪")),
    DemoStore("luochuan-apple", "金果苹果冷库", LUOCHUAN, "-1.0", "2.0", "2000000",
              DemoLogger("DEMO-STORE-3", "demo-store-3-secret", "金果苹果冷库 温湿度记录仪")),
)  # fmt: skip

VEHICLES = (
    DemoVehicle("鲁V3K618", "9.6 米冷藏车", "寿光鲜丰冷链车队",
                "Shouguang Xianfeng Vegetable Co-operative",
                DemoLogger("DEMO-TRUCK-1", "demo-truck-1-secret", "鲁V3K618 车厢记录仪")),
    DemoVehicle("鲁V8L271", "7.6 米冷藏车", "寿光鲜丰冷链车队",
                "Shouguang Xianfeng Vegetable Co-operative",
                DemoLogger("DEMO-TRUCK-2", "demo-truck-2-secret", "鲁V8L271 车厢记录仪")),
    DemoVehicle("鲁VD5206", "6.8 米冷藏车", "寿光顺达冷链物流",
                "Shouguang Red Pepper Co-operative",
                DemoLogger("DEMO-TRUCK-3", "demo-truck-3-secret", "鲁VD5206 车厢记录仪")),
    DemoVehicle("陕J6T205", "13 米冷藏半挂车", "延安果都冷链运输",
                "Luochuan Golden Fruit Apple Co-operative",
                DemoLogger("DEMO-TRUCK-4", "demo-truck-4-secret", "陕J6T205 车厢记录仪")),
)  # fmt: skip

# Shouguang to Beijing by the G18/G3 expressways (Dongying, Binzhou, Cangzhou); Luochuan to
# Beijing by G65/G5/G4 (Yan'an, Taiyuan, Shijiazhuang, Baoding).
SHOUGUANG_TO_BEIJING = ((118.49, 37.43), (117.97, 37.38), (116.84, 38.30), (116.34, 39.45))
LUOCHUAN_TO_BEIJING = ((109.49, 36.59), (112.55, 37.87), (114.51, 38.04), (115.46, 38.87))

SHIPMENTS = (
    # Chilling-sensitive cucumbers and eggplant: kept 10–12 °C, too cold is a fault too.
    DemoShipment(1, XIANFENG, "鲁V3K618", "coop",
                 (("DEMO-SG-0002", "800"), ("DEMO-SG-0003", "600")), 3.0, 4.0,
                 SHOUGUANG_TO_BEIJING),
    DemoShipment(2, XIANFENG, "鲁V8L271", "coop", (("DEMO-SG-0001", "1000"),), 2.0, 5.0,
                 SHOUGUANG_TO_BEIJING),
    DemoShipment(3, RED_PEPPER, "鲁VD5206", "coop2", (("DEMO-SG-0004", "950"),), 2.5, 4.5,
                 SHOUGUANG_TO_BEIJING),
    DemoShipment(4, LUOCHUAN, "陕J6T205", "apple.coop", (("DEMO-LC-0001", "4800"),), 4.0, 10.0,
                 LUOCHUAN_TO_BEIJING),
)  # fmt: skip
DESTINATION = XINFADI


def demo_loggers() -> tuple[DemoLogger, ...]:
    """Every demo logger: the trucks', then the stores'."""
    return tuple(v.logger for v in VEHICLES) + tuple(s.logger for s in STORES)


def shipment_spec_for(plate: str) -> DemoShipment | None:
    return next((s for s in SHIPMENTS if s.vehicle == plate), None)


def route_of(shipment: Shipment) -> list[tuple[float, float]]:
    """The road a demo shipment takes, as (longitude, latitude) points from origin to
    destination; a straight line for a shipment the demo does not know."""
    spec = shipment_spec_for(shipment.vehicle.plate) if shipment.vehicle_id else None
    via = list(spec.via) if spec and shipment.origin.name == spec.origin else []
    return [shipment.origin.location.coords, *via, shipment.destination.location.coords]


def position_along(route: list[tuple[float, float]], fraction: float) -> tuple[float, float]:
    """The point `fraction` (0–1) of the way along the route, by length in degrees (close
    enough at this scale for a demo)."""
    fraction = min(max(fraction, 0.0), 1.0)
    legs = list(pairwise(route))
    lengths = [((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 for a, b in legs]
    remaining = fraction * sum(lengths)
    for (a, b), length in zip(legs, lengths, strict=True):
        if remaining <= length and length > 0:
            share = remaining / length
            return (a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share)
        remaining -= length
    return route[-1]


def trip_fraction(shipment: Shipment, moment: datetime) -> float:
    """How far along its trip a shipment is at `moment`, by the clock (0 before it leaves,
    1 once it is due)."""
    start = shipment.departed_at or shipment.planned_departure_at
    total = (shipment.planned_arrival_at - start).total_seconds()
    return min(max((moment - start).total_seconds() / total, 0.0), 1.0)


# --- Seeding -------------------------------------------------------------------------------


@transaction.atomic
def seed(context: dict) -> None:
    """Sites, stores, vehicles and loggers (registered by the demo controller), and a set of
    shipments planned by the co-operatives' managers and loaded hours ago;
    context["coldchain_shipments"] holds the set on the road."""
    now = timezone.now().replace(second=0, microsecond=0)
    people = context["people"]
    controller = people["controller"]
    cooperatives = context["cooperatives"]
    sites = {spec.name: _site(spec, controller, cooperatives, context["market"]) for spec in SITES}

    for spec in STORES:
        store = ColdStore.objects.filter(code=spec.code).first() or create_cold_store(
            by=controller,
            code=spec.code,
            name=spec.name,
            site=sites[spec.site],
            min_temperature_c=Decimal(spec.min_c),
            max_temperature_c=Decimal(spec.max_c),
            capacity_kg=Decimal(spec.capacity_kg),
            excursion_delay_minutes=STORE_EXCURSION_DELAY_MINUTES,
        )
        logger = _logger(spec.logger)
        if not LoggerAssignment.objects.filter(
            logger=logger, store=store, ends_at__isnull=True
        ).exists():
            assign_logger(logger=logger, subject=store, starts_at=now - STORE_WATCHED_SINCE)

    vehicles = {}
    for spec in VEHICLES:
        vehicles[spec.plate] = Vehicle.objects.filter(plate=spec.plate).first() or create_vehicle(
            by=controller,
            plate=spec.plate,
            name=spec.name,
            carrier=spec.carrier,
            cooperative=cooperatives[spec.cooperative],
        )
        _logger(spec.logger)

    current = list(_current_shipments(now))
    if not current:
        _deliver_finished(now, people["operator"])
        current = [_send(spec, now, sites, vehicles, people) for spec in SHIPMENTS]
    context["coldchain_shipments"] = current


def _site(spec: DemoSite, controller, cooperatives: dict, market) -> Site:
    return Site.objects.filter(name=spec.name).first() or create_site(
        by=controller,
        name=spec.name,
        kind=spec.kind,
        longitude=spec.longitude,
        latitude=spec.latitude,
        cooperative=cooperatives.get(spec.cooperative),
        market=market if spec.market else None,
    )


def _logger(spec: DemoLogger) -> DataLogger:
    """The demo logger, registered with its known secret (reset to it if it was changed, so
    the simulator can always sign in)."""
    logger = DataLogger.objects.filter(device_id=spec.device_id).first()
    if logger is None:
        logger, _secret = register_logger(
            device_id=spec.device_id, label=spec.label, secret=spec.secret
        )
    elif not logger_secret_matches(logger, spec.secret) or not logger.is_active:
        logger.secret_hash = hash_logger_secret(spec.secret)
        logger.is_active = True
        logger.save(update_fields=["secret_hash", "is_active", "updated_at"])
    return logger


def _demo_trips():
    return Shipment.objects.filter(
        code__startswith=SHIPMENT_PREFIX,
        status=ShipmentStatus.IN_TRANSIT,
        vehicle__plate__in=[v.plate for v in VEHICLES],
    )


def _current_shipments(now: datetime):
    """The demo's set still on the road: in transit and not yet due."""
    return _demo_trips().filter(planned_arrival_at__gt=now).order_by("code")


def _deliver_finished(now: datetime, receiver) -> None:
    """Demo trips that are due have arrived: unloaded and accepted at 新发地 at their planned
    arrival (or when the truck has to leave again on its next demo trip, if earlier), which
    takes their loggers off, so no loss of signal is raised for a finished trip."""
    finished = _demo_trips().filter(planned_arrival_at__lte=now).select_related("vehicle")
    for shipment in finished:
        arrived = shipment.planned_arrival_at
        spec = shipment_spec_for(shipment.vehicle.plate)
        if spec is not None:
            arrived = min(arrived, now - timedelta(hours=spec.departed_hours))
        arrived = max(arrived, shipment.departed_at + timedelta(minutes=1))
        with time_machine.travel(arrived, tick=False):
            record_handover(
                shipment=shipment,
                kind=HandoverKind.UNLOADING,
                decision=HandoverDecision.ACCEPTED,
                probe_temperature_c=_middle(shipment),
                by=receiver,
            )


def _middle(subject) -> Decimal:
    return ((subject.min_temperature_c + subject.max_temperature_c) / 2).quantize(Decimal("0.1"))


def _send(spec: DemoShipment, now: datetime, sites, vehicles, people) -> Shipment:
    """One demo trip, planned by the co-operative's manager half an hour before it left
    `departed_hours` ago, loaded and accepted at the packhouse as its truck's logger went on
    board. plan_shipment takes the range from the lots' storage profiles."""
    departed = now - timedelta(hours=spec.departed_hours)
    manager = people[spec.planned_by]
    set_time = timezone.localtime(now, BUSINESS_TIME_ZONE)
    lots = [(HarvestLot.objects.get(lot_code=code), Decimal(kg)) for code, kg in spec.lots]
    with time_machine.travel(departed - timedelta(minutes=30), tick=False):
        shipment = plan_shipment(
            planned_by=manager,
            origin=sites[spec.origin],
            destination=sites[DESTINATION],
            lots=lots,
            planned_departure_at=departed,
            planned_arrival_at=now + timedelta(hours=spec.arrives_hours),
            vehicle=vehicles[spec.vehicle],
            code=f"{SHIPMENT_PREFIX}{set_time:%y%m%d-%H%M}-{spec.n}",
            accept_warnings=True,
            excursion_delay_minutes=DEMO_EXCURSION_DELAY_MINUTES,
            recovery_minutes=DEMO_RECOVERY_MINUTES,
        )
    logger = DataLogger.objects.get(
        device_id=next(v.logger.device_id for v in VEHICLES if v.plate == spec.vehicle)
    )
    assign_logger(logger=logger, subject=shipment, starts_at=departed)
    with time_machine.travel(departed, tick=False):
        record_handover(
            shipment=shipment,
            kind=HandoverKind.LOADING,
            decision=HandoverDecision.ACCEPTED,
            probe_temperature_c=_middle(shipment),
            by=manager,
        )
    shipment.refresh_from_db()
    # Where the truck is now, until its logger's readings move it.
    vehicle = shipment.vehicle
    longitude, latitude = position_along(route_of(shipment), trip_fraction(shipment, now))
    vehicle.last_position = Point(longitude, latitude, srid=4326)
    vehicle.last_position_at = now
    vehicle.save(update_fields=["last_position", "last_position_at", "updated_at"])
    return shipment
