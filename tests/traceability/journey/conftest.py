"""One tomato lot's whole journey, built through the apps' services where they exist: harvested
on a Shouguang farm, certified, carried cold to the market, sold at the counter to a front
warehouse's manager, carried cold again, received into stock and picked for a consumer's
order. Each leg has a logger's readings; the second leg one closed excursion."""

from dataclasses import dataclass
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone, translation
from djmoney.money import Money

from accounts.choices import Role
from coldchain.choices import ExcursionKind, ShipmentStatus, SiteKind
from coldchain.models import Excursion, LoggerAssignment, Reading, ShipmentLot
from coldchain.services.registry import assign_logger, register_logger
from delivery.models import DeliveryOrder, ShopPrice, StockLot, WarehouseStaff
from delivery.services.orders import place_order
from delivery.services.stock import receive_from_trade
from farms.models import Farm, HarvestLot
from marketplace.markets import services as markets
from marketplace.markets import trades as counter_trades
from marketplace.markets.models import Trade
from settlement.funding import top_up
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ShipmentFactory, SiteFactory
from tests.delivery.factories import front_warehouse, fund_wallet
from tests.farms.factories import HarvestLotFactory
from traceability.choices import CertificateBasis, TraceCodeKind
from traceability.models import Certificate, TraceCode
from traceability.services.codes import issue_trace_code

from .factories import BUYER_CARD, FARM_AT, HOME_ADDRESS, HOME_AT, PRODUCER_PHONE, WAREHOUSE_AT


@dataclass
class World:
    lot: HarvestLot
    certificate: Certificate
    first_leg: object
    second_leg: object
    trade: Trade
    stock: StockLot
    order: DeliveryOrder
    warehouse: object
    warehouse_manager: object
    consumer: object


def _readings(shipment, device: str, temperatures: list[float], *, every_minutes: int = 30):
    logger, _secret = register_logger(device_id=device, secret=f"{device}-secret-000000")
    assign_logger(logger=logger, subject=shipment, starts_at=shipment.departed_at)
    LoggerAssignment.objects.filter(logger=logger).update(ends_at=shipment.arrived_at)
    Reading.objects.bulk_create(
        Reading(
            logger=logger,
            recorded_at=shipment.departed_at + timedelta(minutes=every_minutes * n),
            temperature_c=value,
        )
        for n, value in enumerate(temperatures)
    )
    return LoggerAssignment.objects.get(logger=logger)


@pytest.fixture
def journey_world(
    catalogue, farm, member, manager, market, operator, seller_trader, coldchain_controller
) -> World:
    tomato = catalogue["VEG-TOMATO"]
    Farm.objects.filter(pk=farm.pk).update(location=Point(*FARM_AT, srid=4326))
    farm.refresh_from_db()
    member.phone = PRODUCER_PHONE
    member.save(update_fields=["phone"])
    now = timezone.now()
    lot = HarvestLotFactory(
        farm=farm,
        product=tomato,
        quantity_kg=Decimal("100"),
        harvest_date=timezone.localdate() - timedelta(days=2),
        lot_code="SG-TOM-0001",
        pesticide_test_result="passed",
        tested_on=timezone.localdate() - timedelta(days=2),
    )
    certificate = Certificate.objects.create(
        trace_code=issue_trace_code(lot=lot, kind=TraceCodeKind.CERTIFICATE),
        lot=lot,
        cooperative=farm.cooperative,
        quantity_kg=Decimal("100"),
        product_name="番茄",
        origin="山东省潍坊市寿光市",
        producer_name="王大姐",
        producer_contact=PRODUCER_PHONE,
        issued_on=timezone.localdate() - timedelta(days=2),
        no_banned_substances=True,
        residues_within_limits=True,
        truthful=True,
        basis=CertificateBasis.SELF_COMMITMENT,
        issued_by=member,
    )

    packhouse = SiteFactory(
        name="鲜丰包装场", kind=SiteKind.COOPERATIVE, cooperative=farm.cooperative
    )
    market_site = SiteFactory(
        name="新发地市场", kind=SiteKind.MARKET, market=market, location=Point(116.3655, 39.7838)
    )
    first_leg = ShipmentFactory(
        origin=packhouse,
        destination=market_site,
        status=ShipmentStatus.DELIVERED,
        planned_departure_at=now - timedelta(hours=40),
        planned_arrival_at=now - timedelta(hours=34),
        departed_at=now - timedelta(hours=40),
        arrived_at=now - timedelta(hours=34),
        min_temperature_c=Decimal("8"),
        max_temperature_c=Decimal("13"),
        planned_by=coldchain_controller,
    )
    ShipmentLot.objects.create(shipment=first_leg, lot=lot, quantity_kg=Decimal("100"))
    _readings(first_leg, "JOURNEY-LOG-1", [10.0, 10.4, 11.0, 11.2, 10.8, 10.5, 10.2, 10.1, 10.0,
                                           10.3, 10.6, 10.9])  # fmt: skip

    warehouse = front_warehouse("WJ", *WAREHOUSE_AT, half_side=0.03, address="朝阳区望京")
    type(warehouse).objects.filter(pk=warehouse.pk).update(opens_at=time(0), closes_at=time(0))
    warehouse.refresh_from_db()
    warehouse_manager = UserFactory(role=Role.WAREHOUSE_MANAGER)
    WarehouseStaff.objects.create(warehouse=warehouse, user=warehouse_manager)
    buyer = markets.register_trader(
        market=market,
        kind="buyer",
        name="望京前置仓",
        card_number=BUYER_CARD,
        user=warehouse_manager,
    )
    top_up(
        account=markets.settlement_account(buyer),
        amount=Decimal("1000.00"),
        method="cash",
        by=operator,
        idempotency_key="journey-card",
    )
    trade = counter_trades.settle_trade(
        market=market,
        by=operator,
        buyer_card=BUYER_CARD,
        seller_card=seller_trader.card_number,
        product=tomato,
        gross_kg="61.000",
        tare_kg="1.000",
        unit_price="4.00",
        idempotency_key="journey-trade",
        lot=lot,
    )
    second_leg = ShipmentFactory(
        origin=market_site,
        destination=warehouse.site,
        status=ShipmentStatus.DELIVERED,
        planned_departure_at=now - timedelta(hours=20),
        planned_arrival_at=now - timedelta(hours=18),
        departed_at=now - timedelta(hours=20),
        arrived_at=now - timedelta(hours=17),
        min_temperature_c=Decimal("8"),
        max_temperature_c=Decimal("13"),
        planned_by=coldchain_controller,
    )
    ShipmentLot.objects.create(shipment=second_leg, lot=lot, quantity_kg=Decimal("60"), trade=trade)
    assignment = _readings(second_leg, "JOURNEY-LOG-2", [10.0, 12.0, 14.5, 15.0, 12.5, 11.0, 10.5])
    Excursion.objects.create(
        assignment=assignment,
        shipment=second_leg,
        kind=ExcursionKind.TOO_WARM,
        limit_c=13.0,
        started_at=second_leg.departed_at + timedelta(minutes=60),
        confirmed_at=second_leg.departed_at + timedelta(minutes=75),
        ended_at=second_leg.departed_at + timedelta(minutes=120),
        peak_c=15.0,
    )
    receipt = receive_from_trade(
        warehouse=warehouse, trade=trade, quantity_kg="60", by=warehouse_manager
    )
    ShopPrice.objects.create(warehouse=warehouse, product=tomato, price_per_kg=Money("9.80", "CNY"))
    consumer = UserFactory(role=Role.CONSUMER, display_name="林小姐")
    fund_wallet(consumer)
    order = place_order(
        consumer=consumer,
        longitude=HOME_AT[0],
        latitude=HOME_AT[1],
        address=HOME_ADDRESS,
        lines=[(tomato.pk, Decimal("2.5"))],
    )
    return World(
        lot=lot,
        certificate=certificate,
        first_leg=first_leg,
        second_leg=second_leg,
        trade=trade,
        stock=receipt.stock_lot,
        order=order,
        warehouse=warehouse,
        warehouse_manager=warehouse_manager,
        consumer=consumer,
    )


@pytest.fixture
def certificate_code(journey_world) -> TraceCode:
    return journey_world.certificate.trace_code


@pytest.fixture
def other_lot(other_farm, catalogue) -> HarvestLot:
    """A lot of another co-operative, which nobody in the journey may open."""
    return HarvestLotFactory(farm=other_farm, product=catalogue["VEG-CUCUMBER"])


@pytest.fixture(autouse=True)
def in_english():
    """Selectors speak the active language: these tests read the English source strings."""
    with translation.override("en"):
        yield
