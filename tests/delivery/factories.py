"""Front warehouses for tests (a square delivery zone around the warehouse's site), stock on
their shelves, couriers with a position, consumers with money in their wallet."""

from datetime import time, timedelta
from decimal import Decimal

from django.contrib.gis.geos import Point, Polygon
from django.utils import timezone
from djmoney.money import Money

from accounts.choices import Role
from coldchain.choices import SiteKind
from delivery.models import Courier, FrontWarehouse, ShopPrice
from delivery.services.stock import receive_stock
from settlement.accounts import wallet_of
from settlement.choices import FundingMethod
from settlement.funding import top_up
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import SiteFactory
from tests.farms.factories import HarvestLotFactory


def front_warehouse(code: str, longitude: float, latitude: float, *, half_side: float, **extra):
    site = SiteFactory(
        name=f"{code} 前置仓",
        kind=SiteKind.FRONT_WAREHOUSE,
        location=Point(longitude, latitude, srid=4326),
    )
    zone = Polygon.from_bbox(
        (longitude - half_side, latitude - half_side, longitude + half_side, latitude + half_side)
    )
    zone.srid = 4326
    return FrontWarehouse.objects.create(
        code=code,
        name=f"{code} 前置仓",
        site=site,
        delivery_zone=zone,
        # Open round the clock unless a test says otherwise: a test must pass at any hour.
        **{"opens_at": time(0), "closes_at": time(0), **extra},
    )


def stocked(warehouse, product, *, kg="20", price="12.00", harvested_days_ago: int = 1):
    """A product on the warehouse's shelves: one received lot and a shop price."""
    lot = HarvestLotFactory(
        product=product,
        quantity_kg=Decimal("500"),
        harvest_date=timezone.localdate() - timedelta(days=harvested_days_ago),
    )
    stock = receive_stock(warehouse=warehouse, lot=lot, quantity_kg=kg, received_at=timezone.now())
    ShopPrice.objects.update_or_create(
        warehouse=warehouse, product=product, defaults={"price_per_kg": Money(price, "CNY")}
    )
    return stock


def courier_at(
    longitude: float,
    latitude: float,
    *,
    user=None,
    on_shift: bool = True,
    capacity: int = 3,
    **extra,
) -> Courier:
    """A courier with a fresh position (a new courier user unless one is given)."""
    return Courier.objects.create(
        user=user or UserFactory(role=Role.COURIER),
        is_on_shift=on_shift,
        capacity=capacity,
        position=Point(longitude, latitude, srid=4326),
        position_at=timezone.now(),
        shift_started_at=timezone.now() if on_shift else None,
        **extra,
    )


def fund_wallet(user, amount="500.00"):
    """Money in the user's prepaid platform wallet (a cash top-up)."""
    return top_up(
        account=wallet_of(user),
        amount=Decimal(amount),
        method=FundingMethod.CASH,
        by=user,
        idempotency_key=f"test-top-up:{user.pk}:{amount}:{timezone.now().timestamp()}",
    )
