"""A lot followed all the way down, for the trail and recall tests: a listing and a buyer's
order line, a counter trade, a cold truck carrying the trade, a front warehouse receiving the
trade and the order line, and two consumers' order lines picked from its stock."""

import itertools
from dataclasses import dataclass
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
    DeliveryOrderPick,
    DeliveryOrderStatus,
    StockReceipt,
)
from delivery.services.stock import receive_stock
from marketplace.choices import OrderStatus
from marketplace.models import Order, OrderLine
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ShipmentFactory
from tests.delivery.factories import front_warehouse
from tests.delivery.warehouse_factories import manager_of
from tests.marketplace.factories import BuyerFactory, ListingFactory

_numbers = itertools.count(1)


@dataclass
class Journey:
    lot: object
    listing: object
    order_line: object
    trade: object
    shipment: object
    warehouse: object
    warehouse_manager: object
    stock: object
    consumer_lines: list
    consumers: list


def bought_on_marketplace(listing, *, buyer=None, kg="10", packed="9.800"):
    buyer = buyer or BuyerFactory()
    order = Order.objects.create(
        buyer=buyer,
        seller=listing.seller,
        status=OrderStatus.HANDED_OVER,
        total=Money("47.04", "CNY"),
        expires_at=timezone.now() + timedelta(days=1),
    )
    return OrderLine.objects.create(
        order=order,
        listing=listing,
        quantity_kg=Decimal(kg),
        packed_kg=Decimal(packed) if packed else None,
        unit_price=Money("4.80", "CNY"),
        amount=Money("47.04", "CNY"),
    )


def consumer_line(warehouse, stock, kg: str, *, status=DeliveryOrderStatus.DELIVERED):
    """A consumer's order at the warehouse with one line picked from `stock`."""
    number = next(_numbers)
    consumer = UserFactory(role=Role.CONSUMER)
    site = warehouse.site.location
    order = DeliveryOrder.objects.create(
        number=f"TR{number:08d}",
        consumer=consumer,
        warehouse=warehouse,
        address=f"{number} 号楼",
        location=Point(site.x, site.y + 0.01, srid=4326),
        status=status,
        total=Money("18.00", "CNY"),
        placed_at=timezone.now() - timedelta(minutes=30 - number % 20),
        promised_by=timezone.now() + timedelta(minutes=30),
        delivery_code="4321",
    )
    line = DeliveryOrderLine.objects.create(
        order=order,
        product=stock.product,
        quantity_kg=Decimal(kg),
        price_per_kg=Money("12.00", "CNY"),
        amount=Money("18.00", "CNY"),
    )
    DeliveryOrderPick.objects.create(line=line, stock_lot=stock, quantity_kg=Decimal(kg))
    return line


def follow_lot_downstream(lot, *, trade, warehouse_code="WJ") -> Journey:
    """Everything downstream of `lot` (whose counter trade `trade` the caller settled)."""
    listing = ListingFactory(lot=lot, available_kg=Decimal("40.000"))
    order_line = bought_on_marketplace(listing)
    shipment = ShipmentFactory()
    ShipmentLot.objects.create(shipment=shipment, lot=lot, quantity_kg=trade.net_kg, trade=trade)
    warehouse = front_warehouse(warehouse_code, 116.47, 39.99, half_side=0.05)
    manager = manager_of(warehouse)
    now = timezone.now()
    stock = receive_stock(warehouse=warehouse, lot=lot, quantity_kg="60", received_at=now)
    StockReceipt.objects.create(
        stock_lot=stock,
        quantity_kg=Decimal("50"),
        trade=trade,
        received_by=manager,
        received_at=now,
    )
    StockReceipt.objects.create(
        stock_lot=stock,
        quantity_kg=Decimal("9.800"),
        order_line=order_line,
        received_by=manager,
        received_at=now + timedelta(seconds=1),
    )
    lines = [consumer_line(warehouse, stock, "1.500"), consumer_line(warehouse, stock, "2.000")]
    return Journey(
        lot=lot,
        listing=listing,
        order_line=order_line,
        trade=trade,
        shipment=shipment,
        warehouse=warehouse,
        warehouse_manager=manager,
        stock=stock,
        consumer_lines=lines,
        consumers=[line.order.consumer for line in lines],
    )
