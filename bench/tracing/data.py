"""One lot's forward scope at scale, and a background of other lots, written fast but real.

The lot (TRACE-MAIN, 500 t of Chinese cabbage from one co-op farm) was listed on the
marketplace (listings and buyers' order lines), sold at the counters of a few wholesale markets
(trades, each settled by a balanced journal entry of three postings, buyers funded first
through the real top-up service, balance slots moved with their postings), carried on cold
trucks (shipments), received into front warehouses (stock receipts from those trades and order
lines, one stock lot per warehouse: a lot is held once per warehouse) and sold to consumers
(orders, lines, and the picks naming the stock lot each line came from).

The background is the same shape over other lots (TRACE-BG-…), so every index the trace walks
has rows that are not the lot's. Rows are written with INSERT … SELECT over generate_series or
COPY; every constraint and trigger stays on (the ledger's balance triggers check each entry at
commit; the entries carry their real content hashes and are sealed, so verify_ledger passes).
Nothing here is a benchmark's timing: build once, reuse on the next run.
"""

import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.gis.geos import Point, Polygon
from django.db import connection, transaction
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from coldchain.choices import SiteKind
from coldchain.models import Site
from delivery.models import FrontWarehouse, WarehouseStaff
from farms.catalogue import read_catalogue
from farms.models import Cooperative, Farm, HarvestLot, Membership, Product
from farms.services.catalogue import load_product_catalogue
from marketplace.markets import services as markets
from marketplace.markets.choices import TraderKind
from settlement.accounts import book_account
from settlement.chain import seal_entries
from settlement.choices import AccountKind
from settlement.funding import top_up

from .stock import consumer_orders, receipts, shipments, stock, stock_quantities
from .trades import write_trades

MAIN_LOT = "TRACE-MAIN"
BACKGROUND_LOT = "TRACE-BG-"  # + n
PRODUCT = "VEG-CHINESE-CABBAGE"
FUNDING = Decimal("1000000.00")


@dataclass(frozen=True)
class Scale:
    """How many of each record: the lot's own (its forward scope), then the background's."""

    listings: int = 20
    order_lines: int = 9_680
    trades: int = 20_000
    shipments: int = 100
    warehouses: int = 200  # the lot's stock lots: one per warehouse that received it
    consumer_lines: int = 70_000
    markets: int = 4
    buyers_per_market: int = 50
    marketplace_buyers: int = 300
    consumers: int = 20_000
    background_lots: int = 2_000
    background_stock_per_lot: int = 20
    background_order_lines: int = 20_000
    background_trades: int = 60_000
    background_shipments: int = 1_000
    background_consumer_lines: int = 100_000

    def expected(self) -> dict[str, int]:
        """The lot's downstream records by kind (traceability.choices.DownstreamKind)."""
        return {
            "listing": self.listings,
            "marketplace_order_line": self.order_lines,
            "market_trade": self.trades,
            "shipment": self.shipments,
            "stock_lot": self.warehouses,
            "consumer_order_line": self.consumer_lines,
        }

    @property
    def records(self) -> int:
        return sum(self.expected().values())


def main_lot() -> HarvestLot | None:
    return HarvestLot.objects.filter(lot_code=MAIN_LOT).first()


def build(scale: Scale, *, say=print) -> HarvestLot:
    """The lot and its world, all in one transaction; the lot already there means all is."""
    lot = main_lot()
    if lot is not None:
        return lot
    started = time.perf_counter()
    with transaction.atomic():
        cast = _cast(scale)
        say(f"  people, markets, warehouses: {time.perf_counter() - started:.1f} s", flush=True)
        lot = _lots(scale, cast)
        _listings_and_orders(scale, cast)
        say(f"  listings and orders: {time.perf_counter() - started:.1f} s", flush=True)
        main_trades = write_trades(scale, cast, lot_ids=[lot.pk], count=scale.trades, key="main")
        bg_trades = write_trades(
            scale, cast, lot_ids=cast.background_lots, count=scale.background_trades, key="bg"
        )
        say(f"  trades and their entries: {time.perf_counter() - started:.1f} s", flush=True)
        shipments(scale, cast, main_trades, bg_trades)
        held = stock(scale, cast, lot)
        receipts(scale, cast, lot, held, main_trades, bg_trades)
        consumer_orders(scale, cast, lot, held)
        stock_quantities(cast)
        with connection.cursor() as cursor:
            # The ledger's deferred balance triggers run now rather than at commit.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        say(f"  stock and consumer orders: {time.perf_counter() - started:.1f} s", flush=True)
    while seal_entries():
        pass
    if not connection.in_atomic_block:
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"VACUUM ANALYZE {table}")
    say(f"built the lot's world in {time.perf_counter() - started:.1f} s", flush=True)
    return lot


TABLES = (
    "farms_harvestlot",
    "marketplace_listing",
    "marketplace_order",
    "marketplace_orderline",
    "marketplace_trade",
    "marketplace_journalentry",
    "marketplace_posting",
    "coldchain_shipment",
    "coldchain_shipmentlot",
    "delivery_stocklot",
    "delivery_stockreceipt",
    "delivery_deliveryorder",
    "delivery_deliveryorderline",
    "delivery_deliveryorderpick",
    "traceability_lottrail",  # written by the triggers as the rows above were
)


# --- People, markets, warehouses (few rows: the ORM and the real services) ------------------


def _users(prefix: str, count: int, role: str) -> list[User]:
    return User.objects.bulk_create(
        (User(username=f"{prefix}{n}", role=role, password="!") for n in range(count)),
        batch_size=5000,
    )


def _cast(scale: Scale) -> SimpleNamespace:
    load_product_catalogue(entries=read_catalogue())
    product = Product.objects.get(code=PRODUCT)
    products = list(Product.objects.filter(is_active=True).exclude(code__startswith="BENCH-"))
    operator = User.objects.create(
        username="trace.operator", role=Role.MARKET_OPERATOR, password="!"
    )
    farmer = User.objects.create(username="trace.farmer", role=Role.FARMER, password="!")
    coop = Cooperative.objects.create(name="TRACE 寿光蔬菜合作社", province="山东", region="寿光")
    Membership.objects.create(user=farmer, cooperative=coop)
    farm = Farm.objects.create(
        name="TRACE 大棚", farmer=farmer, cooperative=coop, location=Point(118.79, 36.86)
    )
    bg_farmers = _users("trace.bgfarmer.", 10, Role.FARMER)
    bg_coop = Cooperative.objects.create(name="TRACE 其他合作社", province="河北")
    bg_farms = [
        Farm.objects.create(
            name=f"TRACE 农场 {n}", farmer=f, cooperative=bg_coop, location=Point(115.4, 38.9)
        )
        for n, f in enumerate(bg_farmers)
    ]

    cast = SimpleNamespace(
        product=product, products=products, operator=operator, farmer=farmer, farm=farm,
        bg_farms=bg_farms, books=[], market_ids=[], market_sites=[], sellers=[], bg_sellers=[],
        buyers=[], commission=[],
    )  # fmt: skip
    for m in range(scale.markets):
        market = markets.create_market(code=f"trace-{m}", name=f"TRACE 批发市场 {m}", city="北京")
        markets.add_staff(market=market, user=operator, is_supervisor=True)
        cast.books.append(market.book_id)
        cast.market_ids.append(market.pk)
        cast.market_sites.append(
            Site.objects.create(
                name=f"TRACE 市场 {m}", kind=SiteKind.MARKET, location=Point(116.3, 39.8),
                market=market,
            ).pk
        )  # fmt: skip
        commission = book_account(market.book, AccountKind.COMMISSION)
        cast.commission.append((commission.pk, commission.slots))
        for kind, user, coop_of, into in (
            (TraderKind.SELLER, farmer, coop, cast.sellers),
            (TraderKind.SELLER, None, bg_coop, cast.bg_sellers),
        ):
            trader = markets.register_trader(
                market=market, kind=kind, name=f"TRACE 卖家 {m}-{len(into)}", user=user,
                card_number=f"6297{m:02d}{len(cast.sellers) + len(cast.bg_sellers):010d}",
                cooperative=coop_of,
            )  # fmt: skip
            into.append((trader.pk, markets.settlement_account(trader).pk))
        for k, user in enumerate(_users(f"trace.buyer.{m}.", scale.buyers_per_market, Role.BUYER)):
            trader = markets.register_trader(
                market=market, kind=TraderKind.BUYER, name=f"TRACE 买家 {m}-{k}", user=user,
                card_number=f"6296{m:02d}{k:010d}",
            )  # fmt: skip
            account = markets.settlement_account(trader)
            top_up(
                account=account, amount=FUNDING, method="bank", by=operator,
                idempotency_key=f"trace-funding-{trader.pk}",
            )  # fmt: skip
            cast.buyers.append((trader.pk, account.pk))

    managers = _users("trace.warehouse.", scale.warehouses, Role.WAREHOUSE_MANAGER)
    cast.warehouses, cast.warehouse_sites, cast.managers = [], [], []
    for n, manager in enumerate(managers):
        lon, lat = 116.2 + (n % 20) * 0.02, 39.8 + (n // 20) * 0.01
        site = Site.objects.create(
            name=f"TRACE 前置仓 {n}", kind=SiteKind.FRONT_WAREHOUSE, location=Point(lon, lat)
        )
        zone = Polygon.from_bbox((lon - 0.01, lat - 0.005, lon + 0.01, lat + 0.005))
        warehouse = FrontWarehouse.objects.create(
            code=f"trace-{n}", name=f"TRACE 前置仓 {n}", site=site, delivery_zone=zone,
            opens_at="07:00", closes_at="23:00",
        )  # fmt: skip
        WarehouseStaff.objects.create(warehouse=warehouse, user=manager)
        cast.warehouses.append(warehouse.pk)
        cast.warehouse_sites.append(site.pk)
        cast.managers.append(manager.pk)
    cast.marketplace_buyers = [
        u.pk for u in _users("trace.mbuyer.", scale.marketplace_buyers, Role.BUYER)
    ]
    cast.consumers = [u.pk for u in _users("trace.consumer.", scale.consumers, Role.CONSUMER)]
    return cast


def _lots(scale: Scale, cast: SimpleNamespace) -> HarvestLot:
    today = timezone.localdate()
    lot = HarvestLot.objects.create(
        lot_code=MAIN_LOT, product=cast.product, farm=cast.farm,
        harvest_date=today - timedelta(days=15), quantity_kg=Decimal("500000"),
        grade=cast.product.grade_scale[0], recorded_by=cast.farmer,
    )  # fmt: skip
    background = HarvestLot.objects.bulk_create(
        (
            HarvestLot(
                lot_code=f"{BACKGROUND_LOT}{n}",
                product=(product := cast.products[n % len(cast.products)]),
                farm=(farm := cast.bg_farms[n % len(cast.bg_farms)]),
                harvest_date=today - timedelta(days=15 + n % 30),
                quantity_kg=Decimal("50000"),
                grade=product.grade_scale[0],
                recorded_by_id=farm.farmer_id,
            )
            for n in range(scale.background_lots)
        ),
        batch_size=5000,
    )
    cast.main_lot = lot.pk
    cast.background_lots = [b.pk for b in background]
    cast.lot_products = {b.pk: b.product_id for b in [lot, *background]}
    return lot


# --- Marketplace: listings, orders and their lines (INSERT … SELECT) ------------------------

LISTINGS_SQL = """
INSERT INTO marketplace_listing
    (created_at, updated_at, grade, harvest_date, certifications, price_per_kg_currency,
     price_per_kg, available_kg, minimum_order_kg, available_from, available_until,
     pickup_point, status, notes, listed_by_id, lot_id, product_id, seller_id, product_initials)
SELECT now(), now(), l.grade, l.harvest_date, l.certifications, 'CNY',
       2.40 + (k %% 10) / 10.0, 0, 1, l.harvest_date::timestamptz,
       l.harvest_date::timestamptz + interval '10 days', f.location, 'closed', 'trace bench',
       f.farmer_id, l.id, l.product_id, f.farmer_id, ''
  FROM farms_harvestlot l
  JOIN farms_farm f ON f.id = l.farm_id
 CROSS JOIN generate_series(0, %(per_lot)s - 1) AS k
 WHERE l.id = ANY(%(lots)s)
"""

ORDERS_SQL = """
WITH listing AS (
    SELECT id, seller_id, price_per_kg, row_number() OVER (ORDER BY id) - 1 AS k
      FROM marketplace_listing WHERE lot_id = ANY(%(lots)s)
), s AS (
    SELECT n, listing.id AS listing_id, listing.seller_id, listing.price_per_kg AS price,
           (%(buyers)s::bigint[])[1 + n %% cardinality(%(buyers)s::bigint[])] AS buyer_id,
           (5 + n %% 20)::numeric(12, 3) AS kg,
           now() - make_interval(mins => (n * 7) %% 20160) - interval '1 day' AS at
      FROM generate_series(0, %(count)s - 1) AS n
      JOIN listing ON listing.k = n %% (SELECT count(*) FROM listing)
), o AS (
    INSERT INTO marketplace_order
        (created_at, updated_at, status, weight_tolerance_pct, total_currency, total,
         buyer_note, expires_at, idempotency_key, buyer_id, seller_id)
    SELECT at, at, 'completed', 5.0, 'CNY', round(kg * price, 2), '', at + interval '1 day',
           %(key)s || n, buyer_id, seller_id
      FROM s
    RETURNING id, idempotency_key
)
INSERT INTO marketplace_orderline
    (quantity_kg, unit_price_currency, unit_price, packed_kg, amount_currency, amount,
     listing_id, order_id)
SELECT s.kg, 'CNY', s.price, s.kg, 'CNY', round(s.kg * s.price, 2), s.listing_id, o.id
  FROM o JOIN s ON o.idempotency_key = %(key)s || s.n
"""


def _listings_and_orders(scale: Scale, cast: SimpleNamespace) -> None:
    with connection.cursor() as cursor:
        for lots, per_lot, count, key in (
            ([cast.main_lot], scale.listings, scale.order_lines, "trace-main-"),
            (cast.background_lots, 1, scale.background_order_lines, "trace-bg-"),
        ):
            cursor.execute(LISTINGS_SQL, {"lots": lots, "per_lot": per_lot})
            cursor.execute(
                ORDERS_SQL,
                {"lots": lots, "buyers": cast.marketplace_buyers, "count": count, "key": key},
            )
