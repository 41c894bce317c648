"""The raw limit of a forward trace: one recursive statement over the same tables.

From the lot it walks, one level at a time: lot → listings → their marketplace order lines;
lot → counter trades; lot → shipments carrying it; trades and order lines → the stock receipts
they became → stock lots; stock lots → picks → consumer order lines. Each node is (kind, id),
deduplicated by UNION (a stock lot is received from many trades and walked once). The last
step reads what a recall's scope shows of each record: when it reached it, how much, and who
holds it (the holder's name and the user to tell).
"""

RAW_DOWNSTREAM_SQL = """
WITH RECURSIVE walk(kind, id) AS (
    SELECT 'lot'::text, %(lot)s::bigint
    UNION
    (
        WITH here AS (SELECT kind, id FROM walk)
        SELECT 'listing', l.id
          FROM here JOIN marketplace_listing l ON here.kind = 'lot' AND l.lot_id = here.id
        UNION ALL
        SELECT 'market_trade', t.id
          FROM here JOIN marketplace_trade t ON here.kind = 'lot' AND t.lot_id = here.id
        UNION ALL
        SELECT 'shipment', sl.shipment_id
          FROM here JOIN coldchain_shipmentlot sl ON here.kind = 'lot' AND sl.lot_id = here.id
        UNION ALL
        SELECT 'marketplace_order_line', ol.id
          FROM here JOIN marketplace_orderline ol
            ON here.kind = 'listing' AND ol.listing_id = here.id
        UNION ALL
        SELECT 'stock_lot', r.stock_lot_id
          FROM here JOIN delivery_stockreceipt r
            ON here.kind = 'market_trade' AND r.trade_id = here.id
        UNION ALL
        SELECT 'stock_lot', r.stock_lot_id
          FROM here JOIN delivery_stockreceipt r
            ON here.kind = 'marketplace_order_line' AND r.order_line_id = here.id
        UNION ALL
        SELECT 'consumer_order_line', p.line_id
          FROM here JOIN delivery_deliveryorderpick p
            ON here.kind = 'stock_lot' AND p.stock_lot_id = here.id
    )
)
SELECT w.kind, w.id, t.recorded_at AS at, t.net_kg AS quantity_kg, buyer.name AS holder,
       buyer.user_id
  FROM walk w JOIN marketplace_trade t ON w.kind = 'market_trade' AND t.id = w.id
  JOIN marketplace_trader buyer ON buyer.id = t.buyer_id
UNION ALL
SELECT w.kind, w.id, l.created_at, l.available_kg, u.display_name, l.seller_id
  FROM walk w JOIN marketplace_listing l ON w.kind = 'listing' AND l.id = w.id
  JOIN accounts_user u ON u.id = l.seller_id
UNION ALL
SELECT w.kind, w.id, o.created_at, coalesce(ol.packed_kg, ol.quantity_kg), u.display_name,
       o.buyer_id
  FROM walk w JOIN marketplace_orderline ol ON w.kind = 'marketplace_order_line' AND ol.id = w.id
  JOIN marketplace_order o ON o.id = ol.order_id
  JOIN accounts_user u ON u.id = o.buyer_id
UNION ALL
SELECT w.kind, w.id, s.departed_at, sl.quantity_kg, site.name, s.planned_by_id
  FROM walk w JOIN coldchain_shipment s ON w.kind = 'shipment' AND s.id = w.id
  JOIN coldchain_shipmentlot sl ON sl.shipment_id = s.id AND sl.lot_id = %(lot)s
  JOIN coldchain_site site ON site.id = s.destination_id
UNION ALL
SELECT w.kind, w.id, s.received_at, s.quantity_kg, wh.name, staff.user_id
  FROM walk w JOIN delivery_stocklot s ON w.kind = 'stock_lot' AND s.id = w.id
  JOIN delivery_frontwarehouse wh ON wh.id = s.warehouse_id
  LEFT JOIN delivery_warehousestaff staff ON staff.warehouse_id = wh.id
UNION ALL
SELECT w.kind, w.id, o.placed_at, line.quantity_kg, wh.name, o.consumer_id
  FROM walk w JOIN delivery_deliveryorderline line
    ON w.kind = 'consumer_order_line' AND line.id = w.id
  JOIN delivery_deliveryorder o ON o.id = line.order_id
  JOIN delivery_frontwarehouse wh ON wh.id = o.warehouse_id
"""


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
