"""The raw limit of a forward trace: one recursive statement over the same tables.

From the lot it walks, one level at a time: lot → listings → their marketplace order lines;
lot → counter trades; lot → shipments carrying it; trades and order lines → the stock receipts
they became → stock lots; stock lots → picks → consumer order lines. Each step reads what a
recall's scope shows of a record (when the lot reached it, how much, who holds it and the user
to tell) and leaves out what the selector leaves out (reversed trades, orders that took no
goods, cancelled consumer orders). UNION deduplicates: a stock lot received from many trades
is walked once.

RAW_TRAIL_SQL is the other limit, the work with our shape: the index-only range scan of the
lot's trail (traceability.models.LotTrailEntry, kept by triggers) that the selector starts
from, every row a trace shows, fetched as tuples and nothing built from them.
"""

RAW_DOWNSTREAM_SQL = """
WITH RECURSIVE walk(kind, id, at, quantity_kg, holder, user_id) AS (
    SELECT 'lot'::text, %(lot)s::bigint, NULL::timestamptz, NULL::numeric, NULL::text,
           NULL::bigint
    UNION
    (
        WITH here AS (SELECT kind, id FROM walk)
        SELECT 'listing', l.id, l.created_at, l.available_kg, u.display_name::text, u.id
          FROM here
          JOIN marketplace_listing l ON here.kind = 'lot' AND l.lot_id = here.id
          JOIN accounts_user u ON u.id = l.seller_id
        UNION ALL
        SELECT 'market_trade', t.id, t.recorded_at, t.net_kg, b.name::text, b.user_id
          FROM here
          JOIN marketplace_trade t
            ON here.kind = 'lot' AND t.lot_id = here.id AND t.reversal_id IS NULL
          JOIN marketplace_trader b ON b.id = t.buyer_id
        UNION ALL
        SELECT 'shipment', s.id, coalesce(s.departed_at, s.planned_departure_at), sl.quantity_kg,
               site.name::text, s.planned_by_id
          FROM here
          JOIN coldchain_shipmentlot sl ON here.kind = 'lot' AND sl.lot_id = here.id
          JOIN coldchain_shipment s ON s.id = sl.shipment_id
          JOIN coldchain_site site ON site.id = s.destination_id
        UNION ALL
        SELECT 'marketplace_order_line', ol.id, o.created_at,
               coalesce(ol.packed_kg, ol.quantity_kg), u.display_name::text, u.id
          FROM here
          JOIN marketplace_orderline ol ON here.kind = 'listing' AND ol.listing_id = here.id
          JOIN marketplace_order o
            ON o.id = ol.order_id AND o.status NOT IN ('rejected', 'cancelled', 'expired')
          JOIN accounts_user u ON u.id = o.buyer_id
        UNION ALL
        SELECT 'stock_lot', s.id, s.received_at, s.quantity_kg, wh.name::text, staff.user_id
          FROM (SELECT DISTINCT r.stock_lot_id
                  FROM here JOIN delivery_stockreceipt r
                    ON (here.kind = 'market_trade' AND r.trade_id = here.id)
                    OR (here.kind = 'marketplace_order_line' AND r.order_line_id = here.id)
               ) AS received
          JOIN delivery_stocklot s ON s.id = received.stock_lot_id
          JOIN delivery_frontwarehouse wh ON wh.id = s.warehouse_id
          LEFT JOIN delivery_warehousestaff staff ON staff.warehouse_id = wh.id
        UNION ALL
        SELECT 'consumer_order_line', p.line_id, o.placed_at, p.quantity_kg, o.number::text,
               o.consumer_id
          FROM here
          JOIN delivery_deliveryorderpick p ON here.kind = 'stock_lot' AND p.stock_lot_id = here.id
          JOIN delivery_deliveryorderline line ON line.id = p.line_id
          JOIN delivery_deliveryorder o ON o.id = line.order_id AND o.status <> 'cancelled'
    )
)
SELECT kind, id, at, quantity_kg, holder, user_id FROM walk WHERE kind <> 'lot'
"""


RAW_TRAIL_SQL = """
SELECT step, record_id, at, quantity_kg, remaining_kg, status, reference, user_id, holder_id,
       market_id, order_id, parent_step, parent_id
  FROM traceability_lottrail
 WHERE lot_id = %(lot)s
   AND NOT (step = 2 AND status IN ('rejected', 'cancelled', 'expired'))
   AND NOT (step = 7 AND status = 'cancelled')
 ORDER BY step, at, record_id, source_id
"""
# The trail's steps that are records of a trace (6, a stock receipt, is where a stock lot came
# from), by the kind a trace names them.
TRAIL_KINDS = {
    1: "listing", 2: "marketplace_order_line", 3: "market_trade", 4: "shipment", 5: "stock_lot",
    7: "consumer_order_line",
}  # fmt: skip


def raw_trail(cursor, lot_id: int) -> list[tuple]:
    """The lot's trail rows, with a plain DB-API cursor."""
    cursor.execute(RAW_TRAIL_SQL, {"lot": lot_id})
    return cursor.fetchall()


def trail_records(rows) -> list[tuple[str, int]]:
    """(kind, id) of each record in rows of raw_trail."""
    return [(TRAIL_KINDS[row[0]], row[1]) for row in rows if row[0] in TRAIL_KINDS]


def raw_downstream(cursor, lot_id: int) -> list[tuple]:
    """(kind, id, at, quantity_kg, holder, user id) of every record downstream of the lot,
    with a plain DB-API cursor (no ORM, no model objects)."""
    cursor.execute(RAW_DOWNSTREAM_SQL, {"lot": lot_id})
    return cursor.fetchall()


def count_by_kind(rows) -> dict[str, int]:
    """Distinct records by kind (a stock lot with two managers is one record)."""
    seen: dict[str, set[int]] = {}
    for row in rows:
        seen.setdefault(row[0], set()).add(row[1])
    return {kind: len(ids) for kind, ids in sorted(seen.items())}
