"""Demo front warehouses: 望京 (Chaoyang, open round the clock) and 中关村 (Haidian, 07:00–23:00),
their delivery zones, shop prices and stock from the demo farms, the demo couriers and the
warehouse manager, the demo consumer's funded wallet, eight weeks of past sales for the
replenishment forecast, and one courier invited to 望京 who has not answered yet.

`manage.py seed_demo` calls seed(context) after coldchain.demo. Running it again the same day
changes nothing. On a later day it adds what the days between brought: the past days' sales
not yet in the history, a fresh harvest lot for a product whose usable stock ran low (the
simulator sells around the clock), and a top-up of a wallet the simulator has spent down.

Coordinates are WGS 84 (the platform's geometry); a Chinese map service shows them shifted by
GCJ-02, a few hundred metres in Beijing. `manage.py simulate_couriers` reads DROP_OFFS and
CONSUMER_HOME here for where the demo consumer's orders go.

The past sales are written in bulk, straight into the orders' tables (no stock movement, no
payment: that money was settled in days the ledger's demo does not play). Their numbers start
with HISTORY_PREFIX and they belong to the warehouses' regular customers (accounts without a
password, who cannot sign in), with now and then one of 林小姐's, so her own order list has a
past without being flooded by it.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.gis.geos import Point, Polygon
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from djmoney.models.fields import MoneyField
from djmoney.money import Money

from accounts.choices import Role
from accounts.models import User
from coldchain.choices import SiteKind
from coldchain.models import Site
from coldchain.services.registry import create_site
from common import geo
from common.dates import BUSINESS_TIME_ZONE, business_today
from common.money import round_money
from farms.choices import Grade
from farms.models import HarvestLot, Product
from farms.services.lots import record_harvest_lot
from settlement.accounts import wallet_of
from settlement.choices import FundingMethod
from settlement.funding import top_up
from settlement.selectors import balance_of

from .models import (
    Courier,
    DeliveryOrder,
    DeliveryOrderEvent,
    DeliveryOrderLine,
    DeliveryOrderStatus,
    FrontWarehouse,
    ShopPrice,
    StockLot,
    StockWriteOff,
    VehicleType,
    WarehouseStaff,
    WriteOffReason,
)
from .selectors.onboarding import pending_invitations_of
from .services.onboarding import invite_courier
from .services.stock import receive_stock, write_off_stock
from .services.transitions import Why

KG = Decimal("0.001")
HISTORY_WEEKS = 8
HISTORY_PREFIX = "HIS-"  # HIS-<warehouse tag>-<yymmdd>-<nnn>: past sales, written in bulk
RESTOCK_BELOW_KG = Decimal("40")  # usable for another day; less, and a fresh lot comes in
USABLE_FOR = timedelta(days=1)
WALLET_KEY = "demo-shop-wallet-{username}"
WALLET_TOP_UP = Decimal("20000.00")
WALLET_LOW = Decimal("2000.00")
CONSUMER = "consumer"  # 林小姐
# A courier the 望京 manager has invited and who has not answered yet: the SMS with his link is
# in var/sms/outbox.log (the development SMS backend).
INVITED_COURIER_PHONE = "+8615600000021"


@dataclass(frozen=True)
class Place:
    """An address and its point (WGS 84)."""

    address: str
    longitude: float
    latitude: float


@dataclass(frozen=True)
class DemoWarehouse:
    code: str
    tag: str  # in history order numbers
    name: str
    address: str
    longitude: float
    latitude: float
    # The zone's corners, clockwise from north-north-east: metres from the warehouse. Uneven,
    # as a zone drawn along the roads is.
    zone_radii_m: tuple[int, ...]
    opens_at: time
    closes_at: time
    promised_minutes: int
    manager: str  # demo username ("" or one accounts.demo does not have: nobody)
    couriers: tuple[tuple[str, float, float], ...]  # (username, longitude, latitude)
    orders_per_day: int  # an average day's sales, for the history
    price_markup: Decimal  # over the demo's base prices


# Open round the clock (opening and closing at the same time), so the simulator and the
# end-to-end journey can order at any hour.
ALL_DAY = (time(0, 0), time(0, 0))

WANGJING = DemoWarehouse(
    code="wangjing",
    tag="WJ",
    name="鲜链望京前置仓",
    address="北京市朝阳区望京街道阜通东大街 6 号院 B1",
    longitude=116.4705,
    latitude=39.9962,
    zone_radii_m=(3100, 2800, 3300, 2900, 3200, 2700, 3000, 3400),
    opens_at=ALL_DAY[0],
    closes_at=ALL_DAY[1],
    promised_minutes=30,
    manager="warehouse",  # 周敏
    couriers=(("courier", 116.4748, 39.9990), ("courier2", 116.4660, 39.9931)),  # 吴强, 郑磊
    orders_per_day=28,
    price_markup=Decimal("0.00"),
)
ZHONGGUANCUN = DemoWarehouse(
    code="zhongguancun",
    tag="ZGC",
    name="鲜链中关村前置仓",
    address="北京市海淀区中关村大街 27 号 B1",
    longitude=116.3108,
    latitude=39.9836,
    zone_radii_m=(2900, 3300, 2800, 3100, 2700, 3200, 3000, 2800),
    opens_at=time(7, 0),
    closes_at=time(23, 0),
    promised_minutes=30,
    manager="warehouse2",  # 高峰
    couriers=(("courier3", 116.3152, 39.9861),),  # 冯涛
    orders_per_day=22,
    price_markup=Decimal("0.40"),
)
WAREHOUSES = (WANGJING, ZHONGGUANCUN)

# 林小姐's home, in 望京 (a good 1 km from the warehouse).
CONSUMER_HOME = Place("望京花园东区 3 号楼 2 单元 501", 116.4835, 40.0028)

# Where the demo's orders go: homes and offices inside each zone, 0.6–2.5 km from the
# warehouse.
DROP_OFFS = {
    WANGJING.code: (
        CONSUMER_HOME,
        Place("望京西园四区 412 号楼 1 单元 1203", 116.4620, 39.9990),
        Place("南湖东园 122 号楼 3 单元 602", 116.4760, 40.0100),
        Place("花家地北里 9 号楼 4 单元 301", 116.4630, 39.9800),
        Place("大西洋新城 B 区 5 号楼 1102", 116.4900, 39.9880),
        Place("望京 SOHO T3 A 座 12 层", 116.4790, 39.9920),
    ),
    ZHONGGUANCUN.code: (
        Place("科学院南路 2 号院 3 号楼 508", 116.3230, 39.9810),
        Place("知春路甲 48 号盈都大厦 C 座 9 层", 116.3350, 39.9760),
        Place("苏州街 18 号院长远天地 A1 座 15 层", 116.3060, 39.9760),
        Place("双榆树东里 35 号楼 2 单元 401", 116.3290, 39.9690),
        Place("中关村南路 12 号院 7 号楼 603", 116.3180, 39.9720),
    ),
}


@dataclass(frozen=True)
class ShopProduct:
    code: str
    price_per_kg: str  # CNY, the base price
    farm: tuple[str, str]  # the demo farm it comes from: (farmer's username, farm name)
    harvested_days_ago: int  # of a lot when it reaches the warehouses
    lot_kg: dict  # warehouse code -> kg received per lot
    popularity: int  # weight in a basket
    portions_kg: tuple[str, ...]  # what one line of an order usually is


PRODUCTS = (
    ShopProduct("VEG-TOMATO", "9.80", ("farmer", "东地大棚"), 1,
                {"wangjing": "180", "zhongguancun": "140"}, 10, ("0.5", "1", "1", "1.5")),
    ShopProduct("VEG-CUCUMBER", "7.60", ("farmer", "河西黄瓜棚"), 0,
                {"wangjing": "150", "zhongguancun": "120"}, 8, ("0.5", "1", "1")),
    ShopProduct("VEG-EGGPLANT", "8.40", ("farmer2", "北洼茄子地"), 2,
                {"wangjing": "110", "zhongguancun": "90"}, 5, ("0.5", "1")),
    ShopProduct("VEG-SWEET-PEPPER", "12.80", ("farmer3", "红椒一号棚"), 1,
                {"wangjing": "90", "zhongguancun": "80"}, 5, ("0.5", "0.5", "1")),
    ShopProduct("FRT-APPLE", "14.90", ("apple.farmer", "塬上果园"), 12,
                {"wangjing": "260", "zhongguancun": "220"}, 9, ("1", "1.5", "2", "2.5")),
    ShopProduct("VEG-LETTUCE", "11.60", ("farmer", "东地大棚"), 0,
                {"wangjing": "90", "zhongguancun": "80"}, 6, ("0.5", "0.5", "1")),
    ShopProduct("VEG-BOK-CHOY", "6.80", ("farmer2", "北洼茄子地"), 1,
                {"wangjing": "100", "zhongguancun": "80"}, 6, ("0.5", "1")),
    ShopProduct("VEG-CELERY", "7.20", ("farmer3", "红椒一号棚"), 3,
                {"wangjing": "90", "zhongguancun": "70"}, 4, ("0.5", "1")),
)  # fmt: skip

# The first day only: an older tomato lot at 望京 (picked first, and near its end), and two
# losses the manager recorded, so the stock page and the loss rate have something to show.
OLD_TOMATOES = ("VEG-TOMATO", 4, "45")  # product, harvested days ago, kg
WRITE_OFFS = (
    # (warehouse, product, kg, reason, note); the note also marks it as the demo's
    (WANGJING.code, "VEG-TOMATO", "3.5", WriteOffReason.SPOILED, "番茄软烂，整箱挑出"),
    (WANGJING.code, "VEG-LETTUCE", "1.2", WriteOffReason.DAMAGED, "搬运时压伤外叶"),
)

# Regular customers of each warehouse, for the past sales.
NEIGHBOURS = ("王女士", "李先生", "张阿姨", "刘女士", "陈先生", "杨女士", "赵先生", "黄女士",
              "周先生", "吴女士", "徐先生", "孙女士")  # fmt: skip
WEEKDAY_FACTOR = (0.90, 0.85, 0.90, 0.95, 1.10, 1.35, 1.30)  # Monday first
# Orders by local hour: a lunch and a larger dinner peak, little at night.
HOUR_WEIGHTS = {7: 2, 8: 4, 9: 5, 10: 6, 11: 9, 12: 8, 13: 5, 14: 4, 15: 4, 16: 6, 17: 10,
                18: 12, 19: 10, 20: 7, 21: 5, 22: 3}  # fmt: skip


def zone_around(longitude: float, latitude: float, radii_m: tuple[int, ...]) -> Polygon:
    """A polygon with one corner per radius, evenly around the point, clockwise from just
    east of north."""
    corners = []
    count = len(radii_m)
    for index, radius in enumerate(radii_m):
        bearing = 360 / count * (index + 0.5)
        corner = geo.point_at((longitude, latitude), metres=radius, bearing=bearing)
        corners.append((round(corner[0], 6), round(corner[1], 6)))
    # Counter-clockwise is the GeoJSON convention for an outer ring.
    corners.reverse()
    return Polygon((*corners, corners[0]), srid=4326)


# --- Seeding -------------------------------------------------------------------------------


@transaction.atomic
def seed(context: dict) -> None:
    """The warehouses and their people, prices, stock, the consumer's wallet and the past
    sales; context["front_warehouses"] holds the warehouses by code."""
    people = context["people"]
    now = timezone.now()
    today = business_today()
    products = {p.code: p for p in Product.objects.filter(code__in=[x.code for x in PRODUCTS])}
    warehouses = {}
    for spec in WAREHOUSES:
        warehouse = _warehouse(spec, people["controller"])
        warehouses[spec.code] = warehouse
        manager = people.get(spec.manager)
        if manager is not None and manager.role == Role.WAREHOUSE_MANAGER:
            WarehouseStaff.objects.get_or_create(user=manager, defaults={"warehouse": warehouse})
        for username, longitude, latitude in spec.couriers:
            Courier.objects.get_or_create(
                user=people[username],
                defaults={
                    "home_warehouse": warehouse,
                    "capacity": 3,
                    "vehicle_type": VehicleType.E_BIKE,
                    "is_on_shift": False,
                    "position": Point(longitude, latitude, srid=4326),
                    "position_at": now,
                },
            )
        for product in PRODUCTS:
            price = Decimal(product.price_per_kg) + spec.price_markup
            ShopPrice.objects.get_or_create(
                warehouse=warehouse,
                product=products[product.code],
                defaults={"price_per_kg": Money(price, "CNY")},
            )

    first_day = not StockLot.objects.filter(warehouse__in=warehouses.values()).exists()
    _restock(warehouses, products, context, now=now, today=today)
    if first_day:
        _first_day_extras(warehouses, products, context, now=now, today=today)
    _write_offs(warehouses, products, people)
    # The consumer pays her orders from her wallet; the marketplace orders the managers'
    # approved replenishment places are held from theirs (no hold, no order).
    for holder in (CONSUMER, *(spec.manager for spec in WAREHOUSES)):
        _fund_wallet(people[holder], by=people["admin"], today=today)
    _history(warehouses, people, today=today)
    _courier_invitation(warehouses[WANGJING.code], people.get(WANGJING.manager), now=now)
    context["front_warehouses"] = warehouses


def _courier_invitation(warehouse: FrontWarehouse, manager: User | None, *, now) -> None:
    """One pending invitation at 望京 (a new one once the last has expired)."""
    if manager is None:
        return
    pending = pending_invitations_of(warehouse, now=now)
    if any(invitation.phone == INVITED_COURIER_PHONE for invitation in pending):
        return
    invite_courier(warehouse=warehouse, phone=INVITED_COURIER_PHONE, by=manager)


def _warehouse(spec: DemoWarehouse, controller: User) -> FrontWarehouse:
    warehouse = FrontWarehouse.objects.filter(code=spec.code).first()
    if warehouse is not None:
        return warehouse
    site = Site.objects.filter(name=spec.name).first() or create_site(
        by=controller,
        name=spec.name,
        kind=SiteKind.FRONT_WAREHOUSE,
        longitude=spec.longitude,
        latitude=spec.latitude,
    )
    return FrontWarehouse.objects.create(
        code=spec.code,
        name=spec.name,
        site=site,
        address=spec.address,
        delivery_zone=zone_around(spec.longitude, spec.latitude, spec.zone_radii_m),
        opens_at=spec.opens_at,
        closes_at=spec.closes_at,
        promised_minutes=spec.promised_minutes,
    )


def _lot(
    spec: ShopProduct, product: Product, context: dict, *, code: str, days_ago: int, kg, today
) -> HarvestLot:
    """A harvest lot of the demo farm the product comes from, recorded by its farmer."""
    existing = HarvestLot.objects.filter(lot_code=code).first()
    if existing is not None:
        return existing
    farmer = context["people"][spec.farm[0]]
    return record_harvest_lot(
        recorded_by=farmer,
        farm=context["farms"][spec.farm],
        product=product,
        harvest_date=today - timedelta(days=days_ago),
        quantity_kg=Decimal(kg),
        grade=Grade.FIRST if product.has_grade(Grade.FIRST) else product.grade_scale[0],
        lot_code=code,
    )


def _restock(warehouses: dict, products: dict, context: dict, *, now: datetime, today) -> None:
    """A fresh lot of each product whose stock at some warehouse will not last another day:
    harvested on the demo farm, one lot a day for all the warehouses that need it."""
    usable = {
        (row["warehouse_id"], row["product_id"]): row["kg"]
        for row in StockLot.objects.filter(
            warehouse__in=warehouses.values(), expires_at__gt=now + USABLE_FOR
        )
        .values("warehouse_id", "product_id")
        .annotate(kg=Sum("quantity_kg"))
    }
    for number, spec in enumerate(PRODUCTS, start=1):
        product = products[spec.code]
        short = [
            warehouse
            for code, warehouse in warehouses.items()
            if usable.get((warehouse.pk, product.pk), Decimal("0")) < RESTOCK_BELOW_KG
        ]
        if not short:
            continue
        code = f"DEMO-FW-{today:%y%m%d}-{number:02d}"
        if StockLot.objects.filter(lot__lot_code=code).exists():
            continue  # today's lot came in already; what is left of it is what there is
        total = sum(Decimal(spec.lot_kg[w.code]) for w in short)
        lot = _lot(spec, product, context, code=code, days_ago=spec.harvested_days_ago,
                   kg=total, today=today)  # fmt: skip
        for warehouse in short:
            receive_stock(
                warehouse=warehouse,
                lot=lot,
                quantity_kg=spec.lot_kg[warehouse.code],
                received_at=now - timedelta(hours=2),
            )


def _first_day_extras(warehouses: dict, products: dict, context: dict, *, now, today) -> None:
    code, days_ago, kg = OLD_TOMATOES
    spec = next(p for p in PRODUCTS if p.code == code)
    lot = _lot(spec, products[code], context, code=f"DEMO-FW-{today:%y%m%d}-90",
               days_ago=days_ago, kg=kg, today=today)  # fmt: skip
    receive_stock(
        warehouse=warehouses[WANGJING.code],
        lot=lot,
        quantity_kg=kg,
        received_at=now - timedelta(days=days_ago - 1),
    )


def _write_offs(warehouses: dict, products: dict, people: dict) -> None:
    for code, product_code, kg, reason, note in WRITE_OFFS:
        warehouse = warehouses[code]
        if StockWriteOff.objects.filter(stock_lot__warehouse=warehouse, note=note).exists():
            continue
        stock = (
            StockLot.objects.filter(
                warehouse=warehouse, product=products[product_code], quantity_kg__gte=kg
            )
            .order_by("expires_at", "pk")
            .first()
        )
        if stock is None:
            continue
        manager = next(spec.manager for spec in WAREHOUSES if spec.code == code)
        by = people.get(manager) or people["admin"]
        write_off_stock(stock_lot=stock, quantity_kg=kg, reason=reason, note=note, by=by)


def _fund_wallet(holder: User, *, by: User, today: date) -> None:
    """Funded once; topped up again on a later day when the simulator has spent it down."""
    wallet = wallet_of(holder)
    key = WALLET_KEY.format(username=holder.username)
    top_up(account=wallet, amount=WALLET_TOP_UP, method=FundingMethod.BANK, by=by,
           idempotency_key=key)  # fmt: skip
    if balance_of(wallet).amount < WALLET_LOW:
        top_up(account=wallet, amount=WALLET_TOP_UP, method=FundingMethod.BANK, by=by,
               idempotency_key=f"{key}-{today.isoformat()}")  # fmt: skip


# --- Past sales ------------------------------------------------------------------------------


def _neighbours(spec: DemoWarehouse) -> list[User]:
    """The warehouse's regular customers: consumer accounts without a password."""
    users = []
    for number, name in enumerate(NEIGHBOURS, start=1):
        user, created = User.objects.get_or_create(
            username=f"{spec.code}.customer{number:02d}",
            defaults={"display_name": name, "role": Role.CONSUMER},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users.append(user)
    return users


def _history(warehouses: dict, people: dict, *, today: date) -> None:
    """The last HISTORY_WEEKS weeks of delivered orders, each past day written once, with
    their steps: placed by the consumer, packed by the manager, carried by a courier of the
    warehouse."""
    consumer = people[CONSUMER]
    first = today - timedelta(weeks=HISTORY_WEEKS)
    prices = {
        (row.warehouse_id, row.product.code): (row.product_id, row.price_per_kg.amount)
        for row in ShopPrice.objects.filter(warehouse__in=warehouses.values()).select_related(
            "product"
        )
    }
    now = timezone.now()
    orders, lines, hands = [], {}, {}
    for spec in WAREHOUSES:
        warehouse = warehouses[spec.code]
        prefix = f"{HISTORY_PREFIX}{spec.tag}-"
        done = {
            number[len(prefix) : len(prefix) + 6]
            for number in DeliveryOrder.objects.filter(
                warehouse=warehouse, number__startswith=prefix
            ).values_list("number", flat=True)
        }
        days = [first + timedelta(days=n) for n in range((today - first).days)]
        days = [day for day in days if f"{day:%y%m%d}" not in done]
        if not days:
            continue
        regulars = [user.pk for user in _neighbours(spec)]
        own = consumer.pk if spec is WANGJING else None
        manager = people[spec.manager].pk
        couriers = [people[username].pk for username, _lon, _lat in spec.couriers]
        for day in days:
            for order, order_lines in _day_of_sales(spec, warehouse, day, regulars, own, prices):
                orders.append({**order, "created_at": now, "updated_at": now})
                lines[order["number"]] = order_lines
                hands[order["number"]] = (manager, couriers[len(hands) % len(couriers)])
    if not orders:
        return
    _copy(DeliveryOrder, orders)
    ids = dict(DeliveryOrder.objects.filter(number__in=list(lines)).values_list("number", "id"))
    _copy(
        DeliveryOrderLine,
        [{**line, "order": ids[number]} for number, rows in lines.items() for line in rows],
    )
    _copy(DeliveryOrderEvent, [step for order in orders for step in _steps(order, ids, hands)])


def _steps(order: dict, ids: dict, hands: dict) -> list[dict]:
    """A delivered history order's moves, as the services would have recorded them."""
    manager, courier = hands[order["number"]]
    moves = [
        ("", "placed", order["consumer"], order["placed_at"], ""),
        ("placed", "packed", manager, order["packed_at"], ""),
        ("packed", "assigned", courier, order["assigned_at"], ""),
        ("assigned", "picked_up", courier, order["picked_up_at"], ""),
        ("picked_up", "delivered", courier, order["delivered_at"], Why.BY_CODE),
    ]
    return [
        {
            "order": ids[order["number"]],
            "from_status": before,
            "to_status": after,
            "actor": actor,
            "reason": why,
            "at": at,
        }
        for before, after, actor, at, why in moves
    ]


def _copy(model, rows: list[dict]) -> None:
    """Write rows with COPY: the past sales are thousands of rows, which the ORM's
    bulk_create takes seconds to build. Keys are field names (a foreign key takes the id,
    a money field its amount in CNY, a point EWKT)."""
    names = list(rows[0])
    columns, money = [], []
    for name in names:
        field = model._meta.get_field(name)
        columns.append(connection.ops.quote_name(field.column))
        if isinstance(field, MoneyField):
            money.append(name)
    columns += [
        connection.ops.quote_name(model._meta.get_field(f"{name}_currency").column)
        for name in money
    ]
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([*(row[name] for name in names), *("CNY" for _ in money)])


def _day_of_sales(spec: DemoWarehouse, warehouse, day: date, regulars, consumer, prices):
    """One past day's orders at a warehouse: (order, lines) as field values, the same for
    the same day on every run. Most arrive well within the promise, a few late."""
    rng = random.Random(f"{spec.code}:{day.isoformat()}")
    count = max(
        1, round(spec.orders_per_day * WEEKDAY_FACTOR[day.weekday()] * rng.uniform(0.85, 1.15))
    )
    hours = [h for h in HOUR_WEIGHTS if warehouse.is_open_at(time(h))]
    weights = [HOUR_WEIGHTS[h] for h in hours]
    others = [place for place in DROP_OFFS[spec.code] if place != CONSUMER_HOME]
    moments = sorted(
        datetime.combine(day, time(rng.choices(hours, weights)[0], rng.randrange(60),
                                   rng.randrange(60)), tzinfo=BUSINESS_TIME_ZONE)
        for _ in range(count)
    )  # fmt: skip
    for sequence, placed in enumerate(moments, start=1):
        # 林小姐 orders about once a week (from home); the regulars the rest.
        if consumer is not None and rng.random() < 1 / (7 * count):
            customer, place = consumer, CONSUMER_HOME
        else:
            customer, place = rng.choice(regulars), rng.choice(others)
        order_lines, total = [], Decimal("0.00")
        for code, kg in _basket(rng):
            product_id, price = prices[(warehouse.pk, code)]
            amount = round_money(Money(price * kg, "CNY")).amount
            total += amount
            order_lines.append(
                {"product": product_id, "quantity_kg": kg, "price_per_kg": price, "amount": amount}
            )
        packed = placed + timedelta(minutes=rng.uniform(2, 7))
        assigned = packed + timedelta(minutes=rng.uniform(0.5, 3))
        picked_up = assigned + timedelta(minutes=rng.uniform(3, 7))
        late = rng.random() < 0.06
        delivered = picked_up + timedelta(
            minutes=rng.uniform(16, 24) if late else rng.uniform(5, 14)
        )
        longitude = place.longitude + rng.uniform(-3e-4, 3e-4)
        latitude = place.latitude + rng.uniform(-3e-4, 3e-4)
        order = {
            "number": f"{HISTORY_PREFIX}{spec.tag}-{day:%y%m%d}-{sequence:03d}",
            "consumer": customer,
            "warehouse": warehouse.pk,
            "address": place.address,
            "location": f"SRID=4326;POINT({longitude:.6f} {latitude:.6f})",
            "status": DeliveryOrderStatus.DELIVERED.value,
            "total": total,
            "placed_at": placed,
            "promised_by": placed + timedelta(minutes=spec.promised_minutes),
            "packed_at": packed,
            "assigned_at": assigned,
            "picked_up_at": picked_up,
            "delivered_at": delivered,
            "delivery_code": f"{rng.randrange(10_000):04d}",
            "code_attempts": 0,
            "proof_photo": "",
            "idempotency_key": "",
        }
        yield order, order_lines


def _basket(rng: random.Random) -> list[tuple[str, Decimal]]:
    """One to three different products, in the portions people buy."""
    size = rng.choices((1, 2, 3), (3, 4, 3))[0]
    chosen: list[ShopProduct] = []
    while len(chosen) < size:
        spec = rng.choices(PRODUCTS, [p.popularity for p in PRODUCTS])[0]
        if spec not in chosen:
            chosen.append(spec)
    return [(spec.code, Decimal(rng.choice(spec.portions_kg)).quantize(KG)) for spec in chosen]
