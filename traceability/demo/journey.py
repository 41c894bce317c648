"""Demo: one lot followed from a Shouguang greenhouse to a consumer's doorstep.

Winter spinach from the demo farmer's greenhouse 东地大棚 (the catalogue gives spinach GS1's
published example GTIN, so its labels carry a Digital Link path): harvested and certified
(own test), carried cold by the co-operative's truck to 新发地 and checked in at its gate,
sold at the counter to the 望京 front warehouse, carried cold again by a city van, received
into 望京's stock, ordered by one of 望京's regular customers and delivered to her door. Each leg has
its logger's readings (a door opened for a minute now and then, no excursion).

What the earlier demos make is reused (context: people, farms, market, front warehouses; the
packhouse and market sites by name); what is missing is added here: the lot, its
certificate, two trucks and their loggers, the warehouse's card at the market, spinach on
the shop's shelf. Everything goes through the apps' services, back-dated with time-machine
as the other demos do; the times are laid out backwards from now so the trade falls on the
market's open business day. Running it again changes nothing: the lot's code is the key.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import time_machine
from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from accounts.models import User
from coldchain.choices import HandoverDecision, HandoverKind
from coldchain.demo import XIANFENG, XINFADI
from coldchain.models import DataLogger, Reading, Shipment, Site, Vehicle
from coldchain.services.handovers import record_handover
from coldchain.services.registry import assign_logger, create_vehicle, register_logger
from coldchain.services.shipments import plan_shipment
from coldchain.shelf_life import evaluate_lot_condition
from common.dates import BUSINESS_TIME_ZONE
from delivery.models import DeliveryOrder, DeliveryOrderStatus, ShopPrice
from delivery.services.orders import place_order
from delivery.services.stock import receive_from_trade
from delivery.services.transitions import move_order
from farms.choices import Certification, Grade, PesticideTestResult
from farms.models import HarvestLot, Product
from farms.services.lots import record_harvest_lot
from marketplace.markets.models import Trade, Trader
from marketplace.markets.services import register_trader, settlement_account
from marketplace.markets.trades import settle_trade
from settlement.accounts import wallet_of
from settlement.funding import top_up

from ..choices import CertificateBasis
from ..models import Certificate
from ..services.certificates import issue_certificate
from ..services.gate import check_in_with_certificate

LOT_CODE = "DEMO-SG-TRACE-01"
PRODUCT = "VEG-SPINACH"
FARM = ("farmer", "东地大棚")
HARVEST_KG = Decimal("600")
TRADED_KG = Decimal("300")  # net, at 新发地's counter
ORDERED_KG = Decimal("1.5")
FARMER_CARD = "6210000000000001"  # 王秀英's seller card at 新发地 (markets demo)
WAREHOUSE_CARD = "6220000000000010"  # 望京's buyer card, added here
WANGJING = "wangjing"
NEIGHBOUR = "wangjing.customer03"  # 张阿姨, one of 望京's regular customers (delivery demo)
CONSUMER_HOME = ("北京市朝阳区望京西园三区 312 号楼 4 单元 602", 116.4671, 39.9991)


@dataclass(frozen=True)
class DemoTruck:
    plate: str
    name: str
    carrier: str
    device: str
    secret: str


FARM_TRUCK = DemoTruck("鲁V6F889", "4.2 米冷藏车", "寿光鲜丰冷链车队", "DEMO-TRACE-1",
                       "demo-trace-1-secret")  # fmt: skip
CITY_VAN = DemoTruck("京AD28170", "冷藏面包车", "新发地城配", "DEMO-TRACE-2",
                     "demo-trace-2-secret")  # fmt: skip


@dataclass(frozen=True)
class Timeline:
    """The lot's moments, laid backwards from now; the trade on today's business day."""

    harvested_on: date
    first_leaves: datetime
    first_arrives: datetime
    checked_in: datetime
    traded: datetime
    second_leaves: datetime
    second_arrives: datetime
    received: datetime
    ordered: datetime
    packed: datetime
    picked_up: datetime
    delivered: datetime


def timeline(now: datetime) -> Timeline:
    local = timezone.localtime(now, BUSINESS_TIME_ZONE)
    midnight = datetime.combine(local.date(), time(0), BUSINESS_TIME_ZONE)
    day_start = midnight + timedelta(minutes=5)
    # Never before midnight: yesterday's market day is closed, and a trade there is refused.
    traded = max(now - timedelta(hours=6), min(day_start, now - timedelta(minutes=20)), midnight)
    after = now - traded  # the city part shares what is left of the day

    def later(share: float) -> datetime:
        return (traded + after * share).replace(microsecond=0)

    first_arrives = traded - timedelta(hours=2)
    return Timeline(
        harvested_on=timezone.localtime(traded - timedelta(hours=22), BUSINESS_TIME_ZONE).date(),
        first_leaves=first_arrives - timedelta(hours=7, minutes=30),
        first_arrives=first_arrives,
        checked_in=first_arrives + timedelta(minutes=20),
        traded=traded,
        second_leaves=later(0.12),
        second_arrives=later(0.30),
        received=later(0.34),
        ordered=later(0.55),
        packed=later(0.62),
        picked_up=later(0.70),
        delivered=later(0.85),
    )


@transaction.atomic
def seed(context: dict) -> None:
    """The followed lot, once; context["journey_lot"] and ["journey_certificate"] hold it."""
    lot = HarvestLot.objects.filter(lot_code=LOT_CODE).first()
    if lot is None:
        lot = _follow_a_lot(context, timeline(timezone.now()))
    context["journey_lot"] = lot
    context["journey_certificate"] = (
        Certificate.objects.filter(lot=lot).select_related("trace_code").first()
    )


def _follow_a_lot(context: dict, when: Timeline) -> HarvestLot:
    people = context["people"]
    farmer, manager = people[FARM[0]], people["coop"]
    product = Product.objects.get(code=PRODUCT)
    lot = record_harvest_lot(
        recorded_by=farmer,
        farm=context["farms"][FARM],
        product=product,
        harvest_date=when.harvested_on,
        quantity_kg=HARVEST_KG,
        grade=Grade.FIRST if product.has_grade(Grade.FIRST) else product.grade_scale[0],
        certifications=(Certification.GREEN_FOOD,),
        pesticide_test_result=PesticideTestResult.PASSED,
        tested_on=when.harvested_on,
        lot_code=LOT_CODE,
    )
    certificate = _certify(lot, farmer)

    packhouse = Site.objects.get(name=XIANFENG)
    market_site = Site.objects.get(name=XINFADI)
    market = context["market"]
    operator = people["operator"]
    first = _carry(
        lot=lot,
        quantity_kg=HARVEST_KG,
        origin=packhouse,
        destination=market_site,
        truck=FARM_TRUCK,
        cooperative=context["cooperatives"]["Shouguang Xianfeng Vegetable Co-operative"],
        leaves=when.first_leaves,
        arrives=when.first_arrives,
        planner=manager,
        loader=manager,
        unloader=operator,
        controller=people["controller"],
        seed=1,
    )
    with time_machine.travel(when.checked_in, tick=False):
        check_in_with_certificate(
            market=market,
            by=operator,
            code=certificate.trace_code.code,
            vehicle_plate=FARM_TRUCK.plate,
            gross_weight_kg=HARVEST_KG + Decimal("35"),
            arrived_at=when.checked_in,
            idempotency_key=f"demo:journey:{first.code}",
        )

    warehouse = context["front_warehouses"][WANGJING]
    warehouse_manager = people["warehouse"]
    trade = _sell(market, operator, lot, warehouse_manager, product, when)
    _carry(
        lot=lot,
        quantity_kg=TRADED_KG,
        trade=trade,
        origin=market_site,
        destination=warehouse.site,
        truck=CITY_VAN,
        cooperative=None,
        leaves=when.second_leaves,
        arrives=when.second_arrives,
        planner=people["controller"],
        loader=operator,
        unloader=people["controller"],
        controller=people["controller"],
        seed=2,
    )
    with time_machine.travel(when.received, tick=False):
        receive_from_trade(
            warehouse=warehouse, trade=trade, quantity_kg=TRADED_KG, by=warehouse_manager
        )
    ShopPrice.objects.get_or_create(
        warehouse=warehouse, product=product, defaults={"price_per_kg": Money("12.80", "CNY")}
    )
    _deliver(_neighbour(people["admin"]), warehouse_manager, product, when)
    evaluate_lot_condition(lot=lot, now=timezone.now())
    return lot


def _certify(lot: HarvestLot, farmer) -> Certificate:
    """Her certificate for the whole lot, on her own rapid test."""
    cooperative = lot.farm.cooperative
    return issue_certificate(
        lot=lot,
        quantity_kg=lot.quantity_kg,
        by=farmer,
        product_name=lot.product.name_zh,
        origin=f"{cooperative.province}{cooperative.region}",
        producer_name=str(farmer),
        producer_contact=farmer.phone or "",
        issued_on=lot.harvest_date,
        no_banned_substances=True,
        residues_within_limits=True,
        truthful=True,
        basis=CertificateBasis.OWN_TEST,
        test_laboratory="寿光市鲜丰蔬菜专业合作社快检室",
        test_report_number=f"XF-KJ-{lot.harvest_date:%Y%m%d}-017",
        tested_on=lot.harvest_date,
    )


def _truck(spec: DemoTruck, controller, cooperative) -> tuple[Vehicle, DataLogger]:
    vehicle = Vehicle.objects.filter(plate=spec.plate).first() or create_vehicle(
        by=controller, plate=spec.plate, name=spec.name, carrier=spec.carrier,
        cooperative=cooperative,
    )  # fmt: skip
    logger = DataLogger.objects.filter(device_id=spec.device).first()
    if logger is None:
        logger, _secret = register_logger(
            device_id=spec.device, label=f"{spec.plate} 车厢记录仪", secret=spec.secret
        )
    return vehicle, logger


def _carry(*, lot, quantity_kg, origin, destination, truck, cooperative, leaves, arrives,
           planner, loader, unloader, controller, seed: int, trade=None) -> Shipment:  # fmt: skip
    """One cold leg: planned, loaded, watched by the truck's logger, unloaded and accepted."""
    vehicle, logger = _truck(truck, controller, cooperative)
    with time_machine.travel(leaves - timedelta(minutes=30), tick=False):
        shipment = plan_shipment(
            planned_by=planner,
            origin=origin,
            destination=destination,
            lots=[(lot, quantity_kg, None, trade)],
            planned_departure_at=leaves,
            planned_arrival_at=arrives,
            vehicle=vehicle,
            code=f"TRACE-{lot.lot_code}-{seed}",
            accept_warnings=True,
        )
    assign_logger(logger=logger, subject=shipment, starts_at=leaves)
    with time_machine.travel(leaves, tick=False):
        record_handover(
            shipment=shipment,
            kind=HandoverKind.LOADING,
            decision=HandoverDecision.ACCEPTED,
            probe_temperature_c=_middle(shipment),
            by=loader,
        )
    _readings(shipment, logger, leaves=leaves, arrives=arrives, seed=seed)
    with time_machine.travel(arrives, tick=False):
        record_handover(
            shipment=shipment,
            kind=HandoverKind.UNLOADING,
            decision=HandoverDecision.ACCEPTED,
            probe_temperature_c=_middle(shipment),
            by=unloader,
        )
    return shipment


def _middle(shipment) -> Decimal:
    return ((shipment.min_temperature_c + shipment.max_temperature_c) / 2).quantize(Decimal("0.1"))


def _readings(shipment, logger, *, leaves, arrives, seed: int) -> None:
    """A reading every five minutes (more often on a leg shorter than two hours: just after
    midnight the city part of the day is short) around the middle of the range; now and then
    a door opens for a minute or two (a short rise, never an excursion)."""
    rng = random.Random(seed)
    middle = float(_middle(shipment))
    readings = []
    step = min(timedelta(minutes=5), (arrives - leaves) / 24)
    at = leaves
    while at < arrives:
        value = middle + rng.uniform(-0.35, 0.35)
        if rng.random() < 0.04:
            value += 1.2  # a door opened
        readings.append(Reading(logger=logger, recorded_at=at, temperature_c=round(value, 1)))
        at += step
    Reading.objects.bulk_create(readings, ignore_conflicts=True)


def _sell(market, operator, lot, warehouse_manager, product, when: Timeline) -> Trade:
    """The warehouse's manager buys it at 新发地's counter with the warehouse's card."""
    buyer = Trader.objects.filter(card_number=WAREHOUSE_CARD).first()
    if buyer is None:
        buyer = register_trader(
            market=market,
            kind="buyer",
            name="鲜链望京前置仓",
            card_number=WAREHOUSE_CARD,
            user=warehouse_manager,
        )
    with time_machine.travel(when.traded - timedelta(minutes=10), tick=False):
        top_up(
            account=settlement_account(buyer),
            amount=Decimal("5000.00"),
            method="bank",
            by=operator,
            idempotency_key=f"demo-journey-card-{lot.lot_code}",
        )
    with time_machine.travel(when.traded, tick=False):
        return settle_trade(
            market=market,
            by=operator,
            buyer_card=WAREHOUSE_CARD,
            seller_card=FARMER_CARD,
            product=product,
            gross_kg=str(TRADED_KG + Decimal("4")),
            tare_kg="4.000",
            unit_price="6.40",
            idempotency_key=f"demo-journey-{lot.lot_code}",
            lot=lot,
        )


def _neighbour(admin):
    """One of 望京's regular customers (the delivery demo's), with money for her order: the
    demo consumer's own wallet and orders stay as the delivery demo left them."""
    consumer = User.objects.get(username=NEIGHBOUR)
    top_up(
        account=wallet_of(consumer),
        amount=Decimal("100.00"),
        method="bank",
        by=admin,
        idempotency_key="demo-journey-neighbour-wallet",
    )
    return consumer


def _deliver(consumer, warehouse_manager, product, when: Timeline) -> DeliveryOrder:
    """A neighbour orders spinach; the warehouse packs it and it reaches her door. The steps after
    packing are written as the delivery demo writes its past sales (status moves with their
    history), without sending a courier round the real dispatch."""
    address, longitude, latitude = CONSUMER_HOME
    with time_machine.travel(when.ordered, tick=False):
        order = place_order(
            consumer=consumer,
            longitude=longitude,
            latitude=latitude,
            address=address,
            lines=[(product.pk, ORDERED_KG)],
            idempotency_key="demo-journey-order",
        )
    for status, moment, stamp, by in (
        (DeliveryOrderStatus.PACKED, when.packed, "packed_at", warehouse_manager),
        (DeliveryOrderStatus.ASSIGNED, when.packed, "assigned_at", None),
        (DeliveryOrderStatus.PICKED_UP, when.picked_up, "picked_up_at", None),
        (DeliveryOrderStatus.DELIVERED, when.delivered, "delivered_at", None),
    ):
        with time_machine.travel(moment, tick=False):
            setattr(order, stamp, moment)
            move_order(order, status, by=by, why="demo", fields=[stamp])
    return order
