"""Replenishment's test set-up: a warehouse's manager, past sales day by day, lots on the shelves
with a chosen expiry, and marketplace listings to buy from."""

import itertools
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.gis.geos import Point
from django.utils import timezone
from djmoney.money import Money

from accounts.choices import Role
from common.dates import BUSINESS_TIME_ZONE, business_today
from delivery.models import (
    DeliveryOrder,
    DeliveryOrderLine,
    DeliveryOrderStatus,
    StockLot,
    WarehouseStaff,
)
from tests.accounts.factories import UserFactory
from tests.farms.factories import FarmFactory, HarvestLotFactory
from tests.marketplace.factories import ListingFactory, fund_wallet

_order_numbers = itertools.count(1)


def manager_of(warehouse, *, wallet="100000.00", **extra):
    """A warehouse manager posted at the warehouse, with money in her platform wallet (None:
    an empty one): the marketplace orders her approved plans place are held from it."""
    user = UserFactory(role=Role.WAREHOUSE_MANAGER, **extra)
    WarehouseStaff.objects.create(warehouse=warehouse, user=user)
    if wallet is not None:
        fund_wallet(user, wallet)
    return user


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=BUSINESS_TIME_ZONE)


def sales_history(
    warehouse,
    product,
    kg_per_day: Sequence,
    *,
    last_day: date | None = None,
    status: str = DeliveryOrderStatus.DELIVERED,
    consumer=None,
) -> None:
    """One consumer order a day at noon (Asia/Shanghai), the last on `last_day` (yesterday
    unless given); a day of zero kg has no order."""
    last_day = last_day or business_today() - timedelta(days=1)
    first_day = last_day - timedelta(days=len(kg_per_day) - 1)
    consumer = consumer or UserFactory(role=Role.CONSUMER)
    location = warehouse.site.location
    for offset, kg in enumerate(kg_per_day):
        quantity = Decimal(str(kg)).quantize(Decimal("0.001"))
        if quantity <= 0:
            continue
        placed_at = at_noon(first_day + timedelta(days=offset))
        order = DeliveryOrder.objects.create(
            number=f"T{next(_order_numbers):08d}",
            consumer=consumer,
            warehouse=warehouse,
            address="测试路 1 号",
            location=Point(location.x, location.y, srid=4326),
            status=status,
            total=Money(quantity * 10, "CNY"),
            placed_at=placed_at,
            promised_by=placed_at + timedelta(minutes=30),
            delivery_code="1234",
        )
        DeliveryOrderLine.objects.create(
            order=order,
            product=product,
            quantity_kg=quantity,
            price_per_kg=Money("10.00", "CNY"),
            amount=Money(quantity * 10, "CNY"),
        )


def on_shelf(warehouse, product, kg, *, expires_at: datetime) -> StockLot:
    """A lot of the product on the warehouse's shelves, expected to expire at `expires_at`."""
    lot = HarvestLotFactory(product=product, quantity_kg=Decimal("500"))
    return StockLot.objects.create(
        warehouse=warehouse,
        lot=lot,
        product=product,
        quantity_kg=Decimal(str(kg)),
        received_at=timezone.now() - timedelta(hours=1),
        expires_at=expires_at,
    )


def listing_of(product, *, price: str, kg: str = "200", farm=None, **extra):
    """An active listing of a fresh lot of the product, on sale from an hour ago for 3 days;
    give the same `farm` for listings of one seller."""
    lot = HarvestLotFactory(product=product, farm=farm or FarmFactory(), quantity_kg=Decimal("900"))
    return ListingFactory(
        lot=lot,
        price_per_kg=Money(price, "CNY"),
        available_kg=Decimal(kg),
        **extra,
    )
