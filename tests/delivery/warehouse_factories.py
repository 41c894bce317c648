"""Builders of the warehouse manager's tests: stock received, consumer orders, tasks, lines bought."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.contrib.gis.geos import Point
from django.utils import timezone
from djmoney.money import Money

from accounts.choices import Role
from coldchain.models import ShipmentLot
from delivery.models import (
    DeliveryOrder,
    DeliveryOrderLine,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    WarehouseStaff,
)
from delivery.services import stock as stock_services
from marketplace.choices import OrderStatus
from marketplace.models import Order, OrderLine
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ShipmentFactory
from tests.farms.factories import HarvestLotFactory
from tests.marketplace.factories import ListingFactory

HOME = (116.48, 39.92)  # the warehouse's site


OTHER = (116.30, 39.98)


KM_NORTH = 0.00899  # degrees of latitude in a kilometre (999.6 m)


_numbers = itertools.count(1)


def manager_of(warehouse):
    user = UserFactory(role=Role.WAREHOUSE_MANAGER)
    WarehouseStaff.objects.create(warehouse=warehouse, user=user)
    return user


def shipped_to(warehouse, lot=None):
    """A lot (a new one unless given) on a cold-chain shipment on its way to the warehouse's
    site: a lot the warehouse may receive without a source."""
    lot = lot if lot is not None else HarvestLotFactory()
    ShipmentLot.objects.create(
        shipment=ShipmentFactory(destination=warehouse.site), lot=lot, quantity_kg=Decimal("1")
    )
    return lot


def receive(warehouse, product, kg: str, *, by, harvested_days_ago: int = 1):
    """A lot of the product brought by a cold-chain shipment and received into the warehouse
    (a receipt with no source); its stock lot."""
    lot = shipped_to(
        warehouse,
        HarvestLotFactory(
            product=product,
            quantity_kg=Decimal("500"),
            harvest_date=timezone.localdate() - timedelta(days=harvested_days_ago),
        ),
    )
    receipt = stock_services.receive_lot(warehouse=warehouse, lot=lot, quantity_kg=kg, by=by)
    return receipt.stock_lot


def delivery_order(
    warehouse,
    *,
    status=DeliveryOrderStatus.PLACED,
    now=None,
    minutes_left: float = 25,
    north_km: float = 1,
    delivered_at=None,
    task=None,
    product=None,
    kg="1.5",
):
    """A consumer's order of the warehouse promised `minutes_left` after `now`, for a home
    `north_km` north of the warehouse."""
    now = now or timezone.now()
    site = warehouse.site.location
    number = next(_numbers)
    order = DeliveryOrder.objects.create(
        number=f"T{number:08d}",
        consumer=UserFactory(role=Role.CONSUMER),
        warehouse=warehouse,
        address=f"{number} 号楼",
        location=Point(site.x, site.y + north_km * KM_NORTH, srid=4326),
        status=status,
        total=Money("18.00", "CNY"),
        placed_at=now - timedelta(minutes=5),
        promised_by=now + timedelta(minutes=minutes_left),
        delivered_at=delivered_at,
        delivery_code="4321",
        task=task,
    )
    if product is not None:
        DeliveryOrderLine.objects.create(
            order=order,
            product=product,
            quantity_kg=Decimal(kg),
            price_per_kg=Money("12.00", "CNY"),
            amount=Money("18.00", "CNY"),
        )
    return order


def delivered(warehouse, *, promised_by, delivered_at):
    order = delivery_order(warehouse, status=DeliveryOrderStatus.DELIVERED)
    DeliveryOrder.objects.filter(pk=order.pk).update(
        promised_by=promised_by, delivered_at=delivered_at
    )
    return order


def task_of(warehouse, *, status=DeliveryTaskStatus.UNASSIGNED, courier=None):
    return DeliveryTask.objects.create(warehouse=warehouse, status=status, courier=courier)


def bought_line(
    buyer, *, status=OrderStatus.HANDED_OVER, ordered="10", packed: str | None = "9.8", lot=None
):
    """A marketplace order line `buyer` bought (handed over with its packed weight)."""
    listing = ListingFactory(lot=lot) if lot is not None else ListingFactory()
    order = Order.objects.create(
        buyer=buyer,
        seller=listing.seller,
        status=status,
        total=Money("47.04", "CNY"),
        expires_at=timezone.now() + timedelta(days=1),
    )
    return OrderLine.objects.create(
        order=order,
        listing=listing,
        quantity_kg=Decimal(ordered),
        unit_price=listing.price_per_kg,
        packed_kg=Decimal(packed) if packed is not None else None,
        amount=Money("47.04", "CNY"),
    )
