"""A lot's trail (traceability.models.LotTrailEntry), kept by triggers on the tables that own
the records downstream of a lot, and filled here from the rows already there.

Each kind of record has one SELECT (below) that reads its trail row from its own tables. A
trigger on a table rewrites the rows its change touches through that SELECT in the same
transaction (an upsert; a row that no longer qualifies is deleted): a record's own row on
insert, update of a column the trail shows, and delete; the rows of a record's children when
the parent changes what they show (an order's status, a shipment's departure, a stock lot's
lot). A child's rewrite first takes a FOR SHARE lock on its parent row, so a child written
while its parent's status is being changed by another transaction waits for it and reads the
status it committed, and the parent's own rewrite then sees the committed child: the trail
never keeps a status its source rows no longer have.

A trace's rules (which statuses took no goods) stay in Python: the trail keeps every record.
"""

from django.db import migrations, models

COLUMNS = (
    "lot_id, step, source_id, record_id, at, quantity_kg, remaining_kg, status, reference, "
    "user_id, holder_id, market_id, order_id, parent_step, parent_id"
)
TYPES = (
    "bigint", "smallint", "bigint", "bigint", "timestamptz", "numeric", "numeric", "varchar",
    "varchar", "bigint", "bigint", "bigint", "bigint", "smallint", "bigint",
)  # fmt: skip
# The rows of a CTE, typed (a bare NULL in a CTE is text).
TYPED = ", ".join(
    f"{c.strip()}::{t}" for c, t in zip(COLUMNS.split(","), TYPES, strict=True)
)
# Everything but the key (step, source_id) is rewritten, the lot too (a stock lot moved to
# another lot takes its receipts and picks along); a row that did not change is left alone.
SHOWN = [c.strip() for c in COLUMNS.split(",") if c.strip() not in ("step", "source_id")]
UPDATED = ", ".join(f"{c} = EXCLUDED.{c}" for c in SHOWN)
CHANGED = (
    "(" + ", ".join(f"t.{c}" for c in SHOWN) + ") IS DISTINCT FROM ("
    + ", ".join(f"EXCLUDED.{c}" for c in SHOWN) + ")"
)

# Per kind: (step, name, the SELECT of its rows (columns in COLUMNS' order), the source row's
# id column, the condition a row must meet to be on the trail, the parent rows locked first).
KINDS = (
    (
        1, "listings",
        """SELECT l.lot_id, 1, l.id, l.id, l.created_at, l.available_kg, l.available_kg,
                  l.status, '#' || l.id, l.seller_id, NULL, NULL, NULL, NULL, NULL
             FROM marketplace_listing l""",
        "l.id", "TRUE", None,
    ),
    (
        2, "order_lines",
        """SELECT ls.lot_id, 2, ol.id, ol.id, o.created_at, coalesce(ol.packed_kg, ol.quantity_kg),
                  NULL, o.status, '#' || o.id, o.buyer_id, NULL, NULL, o.id, 1, ol.listing_id
             FROM marketplace_orderline ol
             JOIN marketplace_listing ls ON ls.id = ol.listing_id
             JOIN marketplace_order o ON o.id = ol.order_id""",
        "ol.id", "TRUE",
        """SELECT 1 FROM marketplace_order WHERE id IN (
               SELECT order_id FROM marketplace_orderline WHERE id = ANY(ids))
            ORDER BY id FOR SHARE""",
    ),
    (
        3, "trades",
        """SELECT t.lot_id, 3, t.id, t.id, t.recorded_at, t.net_kg, NULL, '', '', NULL,
                  t.buyer_id, t.market_id, NULL, NULL, NULL
             FROM marketplace_trade t""",
        "t.id", "t.lot_id IS NOT NULL AND t.reversal_id IS NULL", None,
    ),
    (
        4, "shipment_lots",
        """SELECT sl.lot_id, 4, sl.id, s.id, coalesce(s.departed_at, s.planned_departure_at),
                  sl.quantity_kg, NULL, s.status, s.code, s.planned_by_id, s.destination_id,
                  NULL, sl.order_id, CASE WHEN sl.trade_id IS NOT NULL THEN 3 END, sl.trade_id
             FROM coldchain_shipmentlot sl
             JOIN coldchain_shipment s ON s.id = sl.shipment_id""",
        "sl.id", "TRUE",
        """SELECT 1 FROM coldchain_shipment WHERE id IN (
               SELECT shipment_id FROM coldchain_shipmentlot WHERE id = ANY(ids))
            ORDER BY id FOR SHARE""",
    ),
    (
        5, "stock_lots",
        """SELECT s.lot_id, 5, s.id, s.id, s.received_at, s.quantity_kg, s.quantity_kg, '', '',
                  NULL, s.warehouse_id, NULL, NULL, NULL, NULL
             FROM delivery_stocklot s""",
        "s.id", "TRUE", None,
    ),
    (
        6, "stock_receipts",
        """SELECT s.lot_id, 6, r.id, r.stock_lot_id, r.received_at, r.quantity_kg, NULL, '', '',
                  NULL, NULL, NULL, NULL,
                  CASE WHEN r.order_line_id IS NOT NULL THEN 2 WHEN r.trade_id IS NOT NULL THEN 3
                  END,
                  coalesce(r.order_line_id, r.trade_id)
             FROM delivery_stockreceipt r
             JOIN delivery_stocklot s ON s.id = r.stock_lot_id""",
        "r.id", "TRUE", None,
    ),
    (
        7, "picks",
        """SELECT s.lot_id, 7, p.id, p.line_id, o.placed_at, p.quantity_kg, NULL, o.status,
                  o.number, o.consumer_id, NULL, NULL, NULL, 5, p.stock_lot_id
             FROM delivery_deliveryorderpick p
             JOIN delivery_stocklot s ON s.id = p.stock_lot_id
             JOIN delivery_deliveryorderline line ON line.id = p.line_id
             JOIN delivery_deliveryorder o ON o.id = line.order_id""",
        "p.id", "TRUE",
        """SELECT 1 FROM delivery_deliveryorder WHERE id IN (
               SELECT line.order_id FROM delivery_deliveryorderpick p
                 JOIN delivery_deliveryorderline line ON line.id = p.line_id
                WHERE p.id = ANY(ids))
            ORDER BY id FOR SHARE""",
    ),
)


def _rewrite_function(step, name, select, key, condition, lock) -> str:
    return f"""
CREATE FUNCTION traceability_trail_{name}(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    {f"PERFORM * FROM ({lock}) AS parents;" if lock else ""}
    WITH fresh ({COLUMNS}) AS ({select} WHERE {key} = ANY(ids) AND {condition}),
         gone AS (
             DELETE FROM traceability_lottrail
              WHERE step = {step} AND source_id = ANY(ids)
                AND source_id NOT IN (SELECT source_id FROM fresh))
    INSERT INTO traceability_lottrail AS t ({COLUMNS})
    SELECT {TYPED} FROM fresh
    ON CONFLICT (step, source_id) DO UPDATE SET {UPDATED} WHERE {CHANGED};
END $$;
"""


# Per table: (table, its own rows' rewrite or None, the columns the trail shows, the rewrites
# of children when one of those columns changes: (the change, the function, their ids)).
TABLES = (
    ("marketplace_listing", "listings",
     ("lot_id", "created_at", "available_kg", "status", "seller_id"),
     (("NEW.lot_id IS DISTINCT FROM OLD.lot_id", "order_lines",
       "SELECT id FROM marketplace_orderline WHERE listing_id = NEW.id"),)),
    ("marketplace_orderline", "order_lines",
     ("listing_id", "order_id", "quantity_kg", "packed_kg"), ()),
    ("marketplace_order", None, ("status", "created_at", "buyer_id"),
     (("TRUE", "order_lines", "SELECT id FROM marketplace_orderline WHERE order_id = NEW.id"),)),
    ("marketplace_trade", "trades",
     ("lot_id", "recorded_at", "net_kg", "buyer_id", "market_id", "reversal_id"), ()),
    ("coldchain_shipmentlot", "shipment_lots",
     ("shipment_id", "lot_id", "quantity_kg", "order_id", "trade_id"), ()),
    ("coldchain_shipment", None,
     ("departed_at", "planned_departure_at", "status", "code", "planned_by_id", "destination_id"),
     (("TRUE", "shipment_lots", "SELECT id FROM coldchain_shipmentlot WHERE shipment_id = NEW.id"),)),
    ("delivery_stocklot", "stock_lots", ("lot_id", "received_at", "quantity_kg", "warehouse_id"),
     (("NEW.lot_id IS DISTINCT FROM OLD.lot_id", "stock_receipts",
       "SELECT id FROM delivery_stockreceipt WHERE stock_lot_id = NEW.id"),
      ("NEW.lot_id IS DISTINCT FROM OLD.lot_id", "picks",
       "SELECT id FROM delivery_deliveryorderpick WHERE stock_lot_id = NEW.id"))),
    ("delivery_stockreceipt", "stock_receipts",
     ("stock_lot_id", "quantity_kg", "order_line_id", "trade_id", "received_at"), ()),
    ("delivery_deliveryorderpick", "picks", ("line_id", "stock_lot_id", "quantity_kg"), ()),
    ("delivery_deliveryorderline", None, ("order_id",),
     (("TRUE", "picks", "SELECT id FROM delivery_deliveryorderpick WHERE line_id = NEW.id"),)),
    ("delivery_deliveryorder", None, ("status", "placed_at", "number", "consumer_id"),
     (("TRUE", "picks",
       "SELECT p.id FROM delivery_deliveryorderpick p"
       " JOIN delivery_deliveryorderline line ON line.id = p.line_id"
       " WHERE line.order_id = NEW.id"),)),
)  # fmt: skip


def _trigger(table, own, watched, children) -> str:
    cascade = "\n".join(
        f"    IF TG_OP = 'UPDATE' AND {change} THEN\n"
        f"        PERFORM traceability_trail_{function}(ARRAY({ids}));\n"
        f"    END IF;"
        for change, function, ids in children
    )
    own_rows = (
        f"""    IF TG_OP = 'DELETE' THEN
        PERFORM traceability_trail_{own}(ARRAY[OLD.id]);
        RETURN NULL;
    END IF;
    PERFORM traceability_trail_{own}(ARRAY[NEW.id]);
"""
        if own
        else ""
    )
    old = ", ".join(f"OLD.{c}" for c in watched)
    new = ", ".join(f"NEW.{c}" for c in watched)
    insert_delete = (
        f"""CREATE TRIGGER traceability_trail AFTER INSERT OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION traceability_trail_of_{table}();
"""
        if own
        else ""
    )
    return f"""
CREATE FUNCTION traceability_trail_of_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{own_rows}{cascade}
    RETURN NULL;
END $$;
{insert_delete}CREATE TRIGGER traceability_trail_update AFTER UPDATE ON {table}
    FOR EACH ROW WHEN (({old}) IS DISTINCT FROM ({new}))
    EXECUTE FUNCTION traceability_trail_of_{table}();
"""


# The rows already there when the triggers are created (in the same transaction: the triggers'
# locks keep other writers out until it commits).
BACKFILL = [
    f"INSERT INTO traceability_lottrail ({COLUMNS}) {select} WHERE {condition}"
    for _step, _name, select, _key, condition, _lock in KINDS
]
FORWARD = "\n".join(
    [_rewrite_function(*kind) for kind in KINDS]
    + [_trigger(*table) for table in TABLES]
    + [f"{statement};" for statement in BACKFILL]
    + ["ANALYZE traceability_lottrail;"]
)
BACKWARD = "\n".join(
    [
        f"DROP TRIGGER IF EXISTS traceability_trail ON {table};\n"
        f"DROP TRIGGER traceability_trail_update ON {table};\n"
        f"DROP FUNCTION traceability_trail_of_{table}();"
        for table, *_rest in TABLES
    ]
    + [f"DROP FUNCTION traceability_trail_{name}(bigint[]);" for _s, name, *_rest in KINDS]
)


class Migration(migrations.Migration):
    dependencies = [
        ("traceability", "0005_recalls"),
        ("marketplace", "0010_market_entry_check_setting"),
        ("coldchain", "0007_shipment_events"),
        ("delivery", "0006_status_history"),
    ]

    operations = [
        migrations.CreateModel(
            name="LotTrailEntry",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "step", "source_id", blank=True, editable=False, primary_key=True,
                        serialize=False,
                    ),
                ),
                ("lot_id", models.BigIntegerField()),
                (
                    "step",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (1, "Listing"), (2, "Marketplace Order Line"), (3, "Market Trade"),
                            (4, "Shipment"), (5, "Stock Lot"), (6, "Stock Receipt"),
                            (7, "Consumer Order Line"),
                        ]
                    ),
                ),
                ("source_id", models.BigIntegerField()),
                ("record_id", models.BigIntegerField()),
                ("at", models.DateTimeField()),
                ("quantity_kg", models.DecimalField(decimal_places=3, max_digits=12)),
                ("remaining_kg", models.DecimalField(decimal_places=3, max_digits=12, null=True)),
                ("status", models.CharField(blank=True, max_length=24)),
                ("reference", models.CharField(blank=True, max_length=120)),
                ("user_id", models.BigIntegerField(null=True)),
                ("holder_id", models.BigIntegerField(null=True)),
                ("market_id", models.BigIntegerField(null=True)),
                ("order_id", models.BigIntegerField(null=True)),
                (
                    "parent_step",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (1, "Listing"), (2, "Marketplace Order Line"), (3, "Market Trade"),
                            (4, "Shipment"), (5, "Stock Lot"), (6, "Stock Receipt"),
                            (7, "Consumer Order Line"),
                        ],
                        null=True,
                    ),
                ),
                ("parent_id", models.BigIntegerField(null=True)),
            ],
            options={
                "db_table": "traceability_lottrail",
                "indexes": [
                    models.Index(
                        fields=["lot_id", "step", "at", "record_id", "source_id"],
                        include=[
                            "quantity_kg", "remaining_kg", "status", "reference", "user_id",
                            "holder_id", "market_id", "order_id", "parent_step", "parent_id",
                        ],
                        name="lot_trail_walk",
                    )
                ],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
