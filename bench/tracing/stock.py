"""bench/trace's cold trucks, warehouse stock and its receipts, and consumers' orders with the
picks naming the stock lot each line came from (INSERT … SELECT, COPY)."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection

from farms.models import HarvestLot

from .trades import copy_rows

SHOP_PRICE = Decimal("6.80")


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


def shipments(scale, cast, main_trades, bg_trades) -> None:
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


def stock(scale, cast: SimpleNamespace, lot: HarvestLot) -> dict[tuple[int, int], int]:
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


def receipts(scale, cast, lot, stock, main_trades, bg_trades) -> None:
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
        copy_rows(cursor, "delivery_stockreceipt (quantity_kg, received_at, order_line_id,"
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


def consumer_orders(scale, cast, lot, stock) -> None:
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


def stock_quantities(cast: SimpleNamespace) -> None:
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
