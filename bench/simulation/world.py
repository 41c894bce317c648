"""A day's city, written into the database for one replay.

Every replay gets new rows (warehouses, their cold-chain sites, staff, couriers, consumers),
tagged with the replay's name, at a place of its own on the map (`slot`: half a degree of
longitude apart, round Hangzhou, far from bench/dispatch's Beijing): two replays never share
a courier, a zone or a candidate search. Once a replay is over, `retire` cancels the orders
nobody carries yet and takes its city off the map (warehouses inactive, couriers off shift):
the dispatch sweep is global (it offers every open task in the database again), and would
otherwise keep offering a finished replay's tasks in every later one.

Stock, prices and wallets are generous: the simulator measures dispatch, so an order is never
refused for want of kilograms or money. The wallets are funded through the ledger's own
top-up, as a cash payment at the counter.
"""

import math
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import Q
from djmoney.money import Money

from accounts.choices import Role
from accounts.models import User
from coldchain.choices import SiteKind
from coldchain.models import Site
from common import geo
from common.geo import LonLat
from delivery.demo import zone_around
from delivery.models import (
    Courier,
    CourierStatus,
    DeliveryOrder,
    DeliveryOrderStatus,
    FrontWarehouse,
    ShopPrice,
    VehicleType,
    WarehouseStaff,
)
from delivery.services.orders import cancel_order
from delivery.services.stock import receive_stock
from farms.choices import Grade, ProductCategory
from farms.models import Cooperative, Farm, HarvestLot, Product
from settlement.accounts import wallet_of
from settlement.choices import FundingMethod
from settlement.funding import top_up

from .days import Day

ORIGIN: LonLat = (120.10, 30.25)  # Hangzhou; slot n is n half-degrees east of it
SLOT_DEGREES = 0.5
PRODUCT = "SIM-BASKET"
ORDER_KG = Decimal("1.000")
PRICE = Decimal("30.00")  # CNY per kg
CONSUMERS = 6
ZONE_CORNERS = 24
PREFIX = "sim."  # every username and code the simulator writes starts with it
WAREHOUSE_NAME = "模拟前置仓 "


@dataclass
class World:
    """What a replay needs of its city, by the day's indexes."""

    tag: str
    centre: LonLat
    warehouses: list[FrontWarehouse]
    staff: list[User]
    couriers: list[Courier]
    consumers: list[User]
    product: Product

    def place(self, east_m: float, north_m: float) -> LonLat:
        """The point `east_m` east and `north_m` north of the city's centre."""
        distance = math.hypot(east_m, north_m)
        if distance == 0:
            return self.centre
        bearing = math.degrees(math.atan2(east_m, north_m)) % 360
        return geo.point_at(self.centre, metres=distance, bearing=bearing)


def _user(username: str, role: str, name: str) -> User:
    user = User(username=username, role=role, display_name=name)
    user.set_unusable_password()
    user.save()
    return user


def _produce(at: datetime, tag: str) -> tuple[Product, HarvestLot]:
    """The one product the simulated shops sell, and a lot of it harvested that day."""
    product, _created = Product.objects.get_or_create(
        code=PRODUCT,
        defaults={
            "name_zh": "模拟菜篮",
            "name_en": "Simulated basket",
            "category": ProductCategory.LEAFY_VEGETABLE,
            "grade_scale": [Grade.FIRST],
        },
    )
    farmer = User.objects.filter(username=f"{PREFIX}farmer").first() or _user(
        f"{PREFIX}farmer", Role.FARMER, "模拟农户"
    )
    cooperative, _created = Cooperative.objects.get_or_create(
        name="模拟合作社", defaults={"province": "浙江省"}
    )
    farm, _created = Farm.objects.get_or_create(
        farmer=farmer,
        name="模拟农场",
        defaults={"cooperative": cooperative, "location": Point(*ORIGIN, srid=4326)},
    )
    lot = HarvestLot.objects.create(
        lot_code=f"SIM-{tag}",
        product=product,
        farm=farm,
        harvest_date=at.date(),
        quantity_kg=Decimal("400000"),
        grade=Grade.FIRST,
        recorded_by=farmer,
    )
    return product, lot


@transaction.atomic
def build(day: Day, *, tag: str, slot: int, now: datetime) -> World:
    """The day's city for one replay, written at `now` (the simulated start of the day)."""
    params = day.params
    centre = (ORIGIN[0] + slot * SLOT_DEGREES, ORIGIN[1])
    product, lot = _produce(now, tag)
    world = World(tag, centre, [], [], [], [], product)
    per_warehouse_kg = Decimal(len(day.orders) + 10) * ORDER_KG * 2
    for index, (east, north) in enumerate(day.warehouses):
        longitude, latitude = world.place(east, north)
        name = f"{WAREHOUSE_NAME}{tag} #{index}"
        site = Site.objects.create(
            name=name, kind=SiteKind.FRONT_WAREHOUSE, location=Point(longitude, latitude, srid=4326)
        )
        radius = int(params.zone_radius_m)
        warehouse = FrontWarehouse.objects.create(
            code=f"{tag}-{index}".replace(".", "-")[:40],
            name=name,
            site=site,
            delivery_zone=zone_around(longitude, latitude, (radius,) * ZONE_CORNERS),
            # Round the clock (opening and closing at the same time): the day's order hours
            # are the generated orders' business.
            opens_at=time(0),
            closes_at=time(0),
            promised_minutes=params.promised_minutes,
        )
        receive_stock(warehouse=warehouse, lot=lot, quantity_kg=per_warehouse_kg, received_at=now)
        ShopPrice.objects.create(
            warehouse=warehouse, product=product, price_per_kg=Money(PRICE, "CNY")
        )
        staff = _user(f"{PREFIX}{tag}.staff{index}", Role.WAREHOUSE_MANAGER, f"仓管 {index}")
        WarehouseStaff.objects.create(warehouse=warehouse, user=staff)
        world.warehouses.append(warehouse)
        world.staff.append(staff)
    for spec in day.couriers:
        user = _user(f"{PREFIX}{tag}.courier{spec.index}", Role.COURIER, f"骑手 {spec.index}")
        home = world.warehouses[spec.warehouse]
        world.couriers.append(
            Courier.objects.create(
                user=user,
                home_warehouse=home,
                status=CourierStatus.ACTIVE,
                capacity=params.capacity,
                vehicle_type=VehicleType.E_BIKE,
                is_on_shift=False,
                position=home.site.location,
                position_at=now,
            )
        )
    # Each consumer pays for her share of the day's orders, and a margin.
    budget = (PRICE * ORDER_KG * (len(day.orders) // CONSUMERS + 5)).quantize(Decimal("0.01"))
    for number in range(CONSUMERS):
        consumer = _user(f"{PREFIX}{tag}.consumer{number}", Role.CONSUMER, f"顾客 {number}")
        top_up(
            account=wallet_of(consumer),
            amount=budget,
            method=FundingMethod.CASH,
            by=consumer,
            idempotency_key=f"{PREFIX}{tag}.top-up.{number}",
        )
        world.consumers.append(consumer)
    return world


# Orders nobody carries yet: their tasks (open ones) are what the dispatch sweep offers again.
_NOT_CARRIED = Q(status=DeliveryOrderStatus.PLACED) | Q(
    status=DeliveryOrderStatus.PACKED, task__courier__isnull=True
)


def _cancel_left_over(warehouses) -> int:
    """Orders of these warehouses nobody carries yet are cancelled by their staff (the real
    `cancel_order`: stock and money go back, an open task is cancelled and its offer
    withdrawn), so no later sweep keeps offering them. Orders a courier has accepted stay as
    they are: the sweep does not look at them."""
    cancelled = 0
    for order_id, warehouse_id in (
        DeliveryOrder.objects.filter(_NOT_CARRIED, warehouse__in=warehouses)
        .order_by("pk")
        .values_list("pk", "warehouse_id")
    ):
        staff = WarehouseStaff.objects.select_related("user").get(warehouse_id=warehouse_id).user
        cancel_order(by=staff, order_id=order_id, reason="The simulated day is over.")
        cancelled += 1
    return cancelled


def retire(world: World) -> int:
    """The replay is over: the orders nobody carries are cancelled, its warehouses take no
    more orders and its couriers are off shift, so the next replay's dispatch and sweep never
    meet them. (Rows are kept: the ledger's entries point at the orders.) Returns how many
    orders were cancelled."""
    cancelled = _cancel_left_over(world.warehouses)
    FrontWarehouse.objects.filter(pk__in=[w.pk for w in world.warehouses]).update(is_active=False)
    Courier.objects.filter(pk__in=[c.pk for c in world.couriers]).update(
        is_on_shift=False, shift_started_at=None
    )
    return cancelled


def retire_all() -> int:
    """Earlier runs' cities, left behind by an interrupted run: their open orders cancelled,
    taken off the map. Returns how many warehouses were still on it."""
    ours = FrontWarehouse.objects.filter(name__startswith=WAREHOUSE_NAME)
    _cancel_left_over(ours)
    count = ours.filter(is_active=True).update(is_active=False)
    Courier.objects.filter(user__username__startswith=PREFIX, is_on_shift=True).update(
        is_on_shift=False, shift_started_at=None
    )
    return count
