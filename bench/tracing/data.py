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

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
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
from settlement.chain import content_hash, seal_entries
from settlement.choices import AccountKind
from settlement.funding import top_up

MAIN_LOT = "TRACE-MAIN"
BACKGROUND_LOT = "TRACE-BG-"  # + n
PRODUCT = "VEG-CHINESE-CABBAGE"
CENT = Decimal("0.01")
SHOP_PRICE = Decimal("6.80")
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
        main_trades = _trades(scale, cast, lot_ids=[lot.pk], count=scale.trades, key="main")
        bg_trades = _trades(
            scale, cast, lot_ids=cast.background_lots, count=scale.background_trades, key="bg"
        )
        say(f"  trades and their entries: {time.perf_counter() - started:.1f} s", flush=True)
        _shipments(scale, cast, lot.pk, main_trades, bg_trades)
        stock = _stock(scale, cast, lot)
        _receipts(scale, cast, lot, stock, main_trades, bg_trades)
        _consumer_orders(scale, cast, lot, stock)
        _stock_quantities(cast)
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


# --- Counter trades and their settlement entries (COPY, hashes computed here) ---------------


def _reserve_ids(cursor, table: str, count: int) -> list[int]:
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, count],
    )
    return [row[0] for row in cursor.fetchall()]


def _fee(amount: Decimal, pct: str) -> Decimal:
    return max((amount * Decimal(pct) / 100).quantize(CENT, ROUND_HALF_UP), Decimal("1.00"))


def _trades(
    scale: Scale, cast: SimpleNamespace, *, lot_ids: list[int], count: int, key: str
) -> list[tuple[int, int, Decimal, object]]:
    """`count` trades of the lots (round robin) at the markets (round robin), each with its
    entry (buyer debited amount + fee, seller credited amount − fee, the market's commission
    revenue credited both fees); returns (trade id, lot id, net kg, recorded at)."""
    now = timezone.now()
    names = dict(Product.objects.values_list("pk", "name_zh"))
    with connection.cursor() as cursor:
        entry_ids = _reserve_ids(cursor, "marketplace_journalentry", count)
        trade_ids = _reserve_ids(cursor, "marketplace_trade", count)
        entries, postings, trades, deltas, made = [], [], [], {}, []
        for n in range(count):
            m = n % scale.markets
            per_market = scale.buyers_per_market
            buyer, buyer_account = cast.buyers[m * per_market + (n // scale.markets) % per_market]
            seller, seller_account = (cast.sellers if key == "main" else cast.bg_sellers)[m]
            commission, slots = cast.commission[m]
            lot_id = lot_ids[n % len(lot_ids)]
            product_id = cast.lot_products[lot_id]
            net = Decimal(5 + n % 20) + Decimal("0.500")
            tare = Decimal("1.500")
            price = Decimal("1.20") + Decimal(n % 30) / 100
            amount = (net * price).quantize(CENT, ROUND_HALF_UP)
            buyer_fee, seller_fee = _fee(amount, "1.00"), _fee(amount, "1.50")
            at = now - timedelta(minutes=(n * 11) % 20160, seconds=n % 60)
            legs = [
                (buyer_account, 0, amount + buyer_fee),
                (seller_account, 0, -(amount - seller_fee)),
                (commission, n % slots, -(buyer_fee + seller_fee)),
            ]
            entry = SimpleNamespace(
                book_id=cast.books[m], kind="trade", memo=f"{names[product_id]} {net} kg × {price}",
                business_date=timezone.localdate(at), created_at=at, created_by_id=cast.operator.pk,
                reference="", reverses_id=None,
                idempotency_key=f"trade:{cast.market_ids[m]}:trace-{key}-{n}",
            )  # fmt: skip
            entry.request_hash = hashlib.sha256(
                json.dumps([entry.idempotency_key, str(net), str(price)]).encode()
            ).hexdigest()
            entry_id, trade_id = entry_ids[n], trade_ids[n]
            entries.append((
                entry_id, entry.book_id, entry.kind, entry.memo, entry.business_date, at,
                entry.created_by_id, "", None, entry.idempotency_key, entry.request_hash,
                content_hash(entry, legs), "",
            ))  # fmt: skip
            for account, slot, value in legs:
                postings.append((entry_id, account, slot, value, "CNY"))
                deltas[(account, slot)] = deltas.get((account, slot), Decimal("0")) + value
            trades.append((
                trade_id, cast.market_ids[m], entry.business_date, seller, buyer, product_id,
                lot_id, net + tare, tare, net, price, "CNY", amount, "CNY", buyer_fee, "CNY",
                seller_fee, "CNY", entry_id, cast.operator.pk, at, None, "",
            ))  # fmt: skip
            made.append((trade_id, lot_id, net, at))
        _copy(cursor, "marketplace_journalentry (id, book_id, kind, memo, business_date,"
              " created_at, created_by_id, reference, reverses_id, idempotency_key,"
              " request_hash, content_hash, chain_hash)", entries)  # fmt: skip
        _copy(cursor, "marketplace_posting (entry_id, account_id, slot, amount,"
              " amount_currency)", postings)  # fmt: skip
        _copy(cursor, "marketplace_trade (id, market_id, business_date, seller_id, buyer_id,"
              " product_id, lot_id, gross_kg, tare_kg, net_kg, unit_price, unit_price_currency,"
              " amount, amount_currency, buyer_fee, buyer_fee_currency, seller_fee,"
              " seller_fee_currency, entry_id, recorded_by_id, recorded_at, reversal_id,"
              " reversal_reason)", trades)  # fmt: skip
        keys = sorted(deltas)  # slots in a fixed order, as the ledger locks them
        cursor.execute(
            "UPDATE marketplace_balanceslot AS b SET amount = b.amount + d.delta"
            " FROM unnest(%s::bigint[], %s::int[], %s::numeric[]) AS d(account_id, slot, delta)"
            " WHERE b.account_id = d.account_id AND b.slot = d.slot",
            [[k[0] for k in keys], [k[1] for k in keys], [deltas[k] for k in keys]],
        )
    return made


def _copy(cursor, target: str, rows: list[tuple]) -> None:
    with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# --- Cold trucks, warehouse stock and its receipts ------------------------------------------

SHIPMENTS_SQL = """
WITH s AS (
    SELECT n, (%(trades)s::bigint[])[1 + n] AS trade_id, (%(lots)s::bigint[])[1 + n] AS lot_id,
           (%(kgs)s::numeric[])[1 + n] AS kg,
           (%(origins)s::bigint[])[1 + n %% cardinality(%(origins)s::bigint[])] AS origin,
           (%(ends)s::bigint[])[1 + n %% cardinality(%(ends)s::bigint[])] AS destination,
           (%(ats)s::timestamptz[])[1 + n] + interval '1 hour' AS at
      FROM generate_series(0, cardinality(%(trades)s::bigint[]) - 1) AS n
), shipment AS (
    INSERT INTO coldchain_shipment
        (created_at, updated_at, min_temperature_c, max_temperature_c, excursion_delay_minutes,
         recovery_minutes, recovery_margin_c, signal_timeout_minutes, code, status,
         planned_departure_at, planned_arrival_at, departed_at, arrived_at,
         compatibility_warnings, planned_by_id, destination_id, origin_id, vehicle_id)
    SELECT at, at, 0.0, 8.0, 30, 15, 0.5, 60, %(key)s || n, 'delivered', at,
           at + interval '3 hours', at, at + interval '3 hours', '[]', %(by)s, destination,
           origin, NULL
      FROM s
    RETURNING id, code
)
INSERT INTO coldchain_shipmentlot (quantity_kg, lot_id, order_id, shipment_id, trade_id)
SELECT s.kg, s.lot_id, NULL, shipment.id, s.trade_id
  FROM shipment JOIN s ON shipment.code = %(key)s || s.n
"""


def _shipments(scale, cast, lot_id, main_trades, bg_trades) -> None:
    """A cold truck from a market to a warehouse carries one trade of a lot."""
    with connection.cursor() as cursor:
        for trades, key in (
            (main_trades[: scale.shipments], "TRACE-S-"),
            (bg_trades[: scale.background_shipments], "TRACE-BGS-"),
        ):
            cursor.execute(
                SHIPMENTS_SQL,
                {
                    "trades": [t[0] for t in trades], "lots": [t[1] for t in trades],
                    "kgs": [t[2] for t in trades], "ats": [t[3] for t in trades],
                    "origins": cast.market_sites, "ends": cast.warehouse_sites,
                    "key": key, "by": cast.operator.pk,
                },
            )  # fmt: skip


def _stock(scale: Scale, cast: SimpleNamespace, lot: HarvestLot) -> dict[tuple[int, int], int]:
    """The lot in every warehouse; each background lot in a few. {(lot, warehouse): stock}."""
    pairs = [(lot.pk, w) for w in cast.warehouses]
    per_lot = min(scale.background_stock_per_lot, len(cast.warehouses))
    for b, bg_lot in enumerate(cast.background_lots):
        pairs += [
            (bg_lot, cast.warehouses[(b * 7 + k) % len(cast.warehouses)]) for k in range(per_lot)
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO delivery_stocklot
                (created_at, updated_at, quantity_kg, received_at, expires_at, lot_id,
                 product_id, warehouse_id)
            SELECT now(), now(), 0, now() - interval '10 days', now() + interval '5 days',
                   p.lot_id, l.product_id, p.warehouse_id
              FROM unnest(%s::bigint[], %s::bigint[]) AS p(lot_id, warehouse_id)
              JOIN farms_harvestlot l ON l.id = p.lot_id
            RETURNING id, lot_id, warehouse_id
            """,
            [[p[0] for p in pairs], [p[1] for p in pairs]],
        )
        return {(lot_id, warehouse): stock for stock, lot_id, warehouse in cursor.fetchall()}


def _received(n: int) -> int | None:
    """Three in five deliveries go to a front warehouse; their running number, else None."""
    return (n // 5) * 3 + n % 5 if n % 5 < 3 else None


def _receipts(scale, cast, lot, stock, main_trades, bg_trades) -> None:
    warehouses, managers = cast.warehouses, dict(zip(cast.warehouses, cast.managers, strict=True))
    per_lot = min(scale.background_stock_per_lot, len(warehouses))
    bg_index = {bg_lot: b for b, bg_lot in enumerate(cast.background_lots)}

    def warehouse_for(lot_id: int, k: int) -> int:
        if lot_id == lot.pk:
            return warehouses[k % len(warehouses)]
        return warehouses[(bg_index[lot_id] * 7 + k % per_lot) % len(warehouses)]

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ol.id, ls.lot_id, ol.packed_kg, o.created_at FROM marketplace_orderline ol"
            " JOIN marketplace_listing ls ON ls.id = ol.listing_id"
            " JOIN marketplace_order o ON o.id = ol.order_id"
            " WHERE ls.lot_id = ANY(%s) ORDER BY ol.id",
            [[lot.pk, *cast.background_lots]],
        )
        order_lines = cursor.fetchall()
        rows = []
        for source, column in ((main_trades + bg_trades, "trade"), (order_lines, "order_line")):
            counters: dict[int, int] = {}
            for source_id, lot_id, kg, at in source:
                n = counters[lot_id] = counters.get(lot_id, -1) + 1
                k = _received(n)
                if k is None:
                    continue
                warehouse = warehouse_for(lot_id, k)
                trade, line = (source_id, None) if column == "trade" else (None, source_id)
                rows.append((
                    kg, at + timedelta(hours=6), line, managers[warehouse],
                    stock[(lot_id, warehouse)], trade,
                ))  # fmt: skip
        _copy(cursor, "delivery_stockreceipt (quantity_kg, received_at, order_line_id,"
              " received_by_id, stock_lot_id, trade_id)", rows)  # fmt: skip


# --- Consumers' orders, their lines and picks ----------------------------------------------

CONSUMER_ORDERS_SQL = """
WITH s AS (
    SELECT n, (%(stock)s::bigint[])[1 + n %% cardinality(%(stock)s::bigint[])] AS stock_id,
           (%(warehouses)s::bigint[])[1 + n %% cardinality(%(stock)s::bigint[])] AS warehouse_id,
           (%(products)s::bigint[])[1 + n %% cardinality(%(stock)s::bigint[])] AS product_id,
           (%(consumers)s::bigint[])[1 + (n * 7) %% cardinality(%(consumers)s::bigint[])]
               AS consumer_id,
           (0.5 + (n %% 4) * 0.5)::numeric(12, 3) AS kg,
           now() - make_interval(mins => (n * 13) %% 10080) AS at
      FROM generate_series(0, %(count)s - 1) AS n
), o AS (
    INSERT INTO delivery_deliveryorder
        (created_at, updated_at, number, address, location, status, total_currency, total,
         placed_at, promised_by, packed_at, assigned_at, picked_up_at, delivered_at,
         cancelled_at, delivery_code, code_attempts, proof_photo, idempotency_key, consumer_id,
         payment_entry_id, warehouse_id, task_id)
    SELECT at, at, %(key)s || n, '北京市朝阳区 测试路 ' || (n %% 500) || ' 号',
           ST_SetSRID(ST_MakePoint(116.3 + (n %% 997) / 5000.0, 39.85 + (n %% 991) / 5000.0),
                      4326),
           'delivered', 'CNY', round(kg * %(price)s, 2), at, at + interval '30 minutes',
           at + interval '5 minutes', at + interval '8 minutes', at + interval '12 minutes',
           at + interval '26 minutes', NULL, lpad((n %% 10000)::text, 4, '0'), 0, '', '',
           consumer_id, NULL, warehouse_id, NULL
      FROM s
    RETURNING id, number
), line AS (
    INSERT INTO delivery_deliveryorderline
        (quantity_kg, price_per_kg_currency, price_per_kg, amount_currency, amount, order_id,
         product_id)
    SELECT s.kg, 'CNY', %(price)s, 'CNY', round(s.kg * %(price)s, 2), o.id, s.product_id
      FROM o JOIN s ON o.number = %(key)s || s.n
    RETURNING id, order_id
)
INSERT INTO delivery_deliveryorderpick (quantity_kg, line_id, stock_lot_id)
SELECT s.kg, line.id, s.stock_id
  FROM line JOIN o ON o.id = line.order_id JOIN s ON o.number = %(key)s || s.n
"""


def _consumer_orders(scale, cast, lot, stock) -> None:
    """One line an order, picked from one stock lot (the lot's, round robin over warehouses)."""
    main = [(s, w) for (lot_id, w), s in stock.items() if lot_id == lot.pk]
    background = [(s, w, lot_id) for (lot_id, w), s in stock.items() if lot_id != lot.pk]
    with connection.cursor() as cursor:
        for picked, count, key in (
            ([(s, w, lot.pk) for s, w in main], scale.consumer_lines, "TRM-"),
            (background, scale.background_consumer_lines, "TRB-"),
        ):
            cursor.execute(
                CONSUMER_ORDERS_SQL,
                {
                    "stock": [p[0] for p in picked], "warehouses": [p[1] for p in picked],
                    "products": [cast.lot_products[p[2]] for p in picked],
                    "consumers": cast.consumers, "count": count, "key": key,
                    "price": SHOP_PRICE,
                },
            )  # fmt: skip


def _stock_quantities(cast: SimpleNamespace) -> None:
    """What each stock lot still holds: received less picked (never below zero)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE delivery_stocklot AS s
               SET quantity_kg = greatest(0,
                       (SELECT coalesce(sum(quantity_kg), 0) FROM delivery_stockreceipt
                         WHERE stock_lot_id = s.id)
                     - (SELECT coalesce(sum(quantity_kg), 0) FROM delivery_deliveryorderpick
                         WHERE stock_lot_id = s.id))
             WHERE s.lot_id = ANY(%s)
            """,
            [[cast.main_lot, *cast.background_lots]],
        )
