"""The chain the tower watches, in two regions: Beijing (the market `xinfadi` with its site, a
front warehouse, a shipment into the market with an open excursion, two trades today, a lot
held at the gate, an open recall) and Guangzhou (the market `jiangnan`, a warehouse and a
shipment, nothing else). A regulator for each region, and one for the whole country.

Every test runs at a fixed Asia/Shanghai noon, so "today" never depends on the hour the
suite runs.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.utils import timezone
from djmoney.money import Money

from accounts.choices import Role
from coldchain.choices import ExcursionKind, SiteKind
from coldchain.models import Excursion
from coldchain.services.registry import assign_logger, register_logger
from common.dates import BUSINESS_TIME_ZONE
from controltower.models import RegulatorArea
from delivery.models import DeliveryOrder, DeliveryOrderStatus
from farms.choices import HoldSource
from farms.models import LotHold
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ShipmentFactory, SiteFactory
from tests.delivery.factories import front_warehouse
from tests.farms.factories import HarvestLotFactory
from traceability.models import Recall

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=BUSINESS_TIME_ZONE)
BEIJING_BOX = (115.42, 39.44, 117.51, 41.06)
GUANGZHOU_BOX = (112.9, 22.5, 114.1, 23.9)


def area(box) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox(box), srid=4326)


@pytest.fixture(autouse=True)
def noon():
    with time_machine.travel(NOON, tick=True) as clock:
        yield clock


def regulator_of(box, name: str):
    user = UserFactory(role=Role.REGULATOR)
    RegulatorArea.objects.create(user=user, name=name, area=area(box))
    return user


@pytest.fixture
def regulator(db):
    """A regulator of the whole country (no area)."""
    return UserFactory(role=Role.REGULATOR)


@pytest.fixture
def beijing_regulator(db):
    return regulator_of(BEIJING_BOX, "北京市")


@pytest.fixture
def guangzhou_regulator(db):
    return regulator_of(GUANGZHOU_BOX, "广州市")


def delivered_order(warehouse, *, number: str, minutes_late: int):
    """A consumer order placed and delivered today, `minutes_late` after its promise (negative:
    early)."""
    now = timezone.now()
    promised_by = now - timedelta(minutes=30)
    return DeliveryOrder.objects.create(
        number=number,
        consumer=UserFactory(role=Role.CONSUMER),
        warehouse=warehouse,
        address="建国路 88 号",
        location=warehouse.site.location,
        status=DeliveryOrderStatus.DELIVERED,
        total=Money("36.00", "CNY"),
        placed_at=promised_by - timedelta(minutes=30),
        promised_by=promised_by,
        packed_at=promised_by - timedelta(minutes=25),
        delivered_at=promised_by + timedelta(minutes=minutes_late),
        delivery_code="2468",
    )


@pytest.fixture
def world(market, other_market, market_site, settle, commission, cooperative, coldchain_controller):
    """Both regions, as the module docstring says. Returns the rows by name."""
    guangzhou_site = SiteFactory(
        name="江南市场", kind=SiteKind.MARKET, market=other_market, location=Point(113.26, 23.13)
    )
    guangzhou_packhouse = SiteFactory(name="从化合作社", location=Point(113.58, 23.55))
    beijing_packhouse = SiteFactory(
        name="顺义合作社", kind=SiteKind.COOPERATIVE, location=Point(116.65, 40.13)
    )
    beijing_shipment = ShipmentFactory(
        origin=beijing_packhouse, destination=market_site, planned_by=coldchain_controller
    )
    guangzhou_shipment = ShipmentFactory(
        origin=guangzhou_packhouse, destination=guangzhou_site, planned_by=coldchain_controller
    )
    beijing_warehouse = front_warehouse("bj-chaoyang", 116.46, 39.92, half_side=0.05)
    guangzhou_warehouse = front_warehouse("gz-tianhe", 113.33, 23.13, half_side=0.05)

    settle("t1")  # 98 kg net at ¥1.20
    settle("t2", gross_kg="52.000", unit_price="1.50")  # 50 kg net

    delivered_order(beijing_warehouse, number="TOWER-1", minutes_late=-5)
    delivered_order(beijing_warehouse, number="TOWER-2", minutes_late=12)
    delivered_order(guangzhou_warehouse, number="TOWER-3", minutes_late=-1)

    logger, _secret = register_logger(device_id="TOWER-LOG-1")
    assignment = assign_logger(
        logger=logger, subject=beijing_shipment, starts_at=timezone.now() - timedelta(hours=3)
    )
    excursion = Excursion.objects.create(
        assignment=assignment,
        shipment=beijing_shipment,
        kind=ExcursionKind.TOO_WARM,
        limit_c=4.0,
        started_at=timezone.now() - timedelta(minutes=90),
        confirmed_at=timezone.now() - timedelta(minutes=85),
        peak_c=9.5,
    )

    held_lot = HarvestLotFactory()
    LotHold.objects.create(
        lot=held_lot,
        market=market,
        source=HoldSource.RAPID_TEST,
        reference="rapid_test:1",
        reason="农残速测阳性",
        placed_at=timezone.now() - timedelta(hours=1),
    )
    recalled_lot = HarvestLotFactory()
    recall = Recall.objects.create(
        lot=recalled_lot,
        cooperative=recalled_lot.farm.cooperative,
        market_ids=[market.pk],
        reason="农药残留超标",
        severity="class_ii",
        opened_by=UserFactory(role=Role.ADMIN),
        opened_at=timezone.now() - timedelta(hours=2),
    )
    return {
        "market": market,
        "other_market": other_market,
        "beijing_shipment": beijing_shipment,
        "guangzhou_shipment": guangzhou_shipment,
        "beijing_warehouse": beijing_warehouse,
        "guangzhou_warehouse": guangzhou_warehouse,
        "excursion": excursion,
        "recall": recall,
        "volume_kg": Decimal("148.000"),
    }


def at_noon_of(day) -> datetime:
    return datetime.combine(day, time(12), BUSINESS_TIME_ZONE)
