"""What is downstream of a lot: every record that took some of it, with quantities, who holds
it and whom a recall must tell.

A lot flows: listing → buyer's order line; counter trade; shipment (for an order or a trade);
warehouse stock (received from an order line or a trade) → consumer order line (picked from
the stock). Every such record has a row in the lot's trail (traceability.models.LotTrailEntry,
kept by triggers on the owning apps' tables), read from one index of the trail, index-only.

`downstream_of` answers in two parts, each read when first asked for. The totals: one
aggregate read gives each kind's count, kilograms and ids (and a consumer line's picks), a
few arrays where a big lot has a hundred thousand rows: what the journey needs, in tens of
ms. The records: two range scans (every kind, then the consumers' lines with only their
columns) as plain tuples, plus one small query per kind of name or staff looked up by id
(through the owning apps' selectors), and the records built (with the cycle collector
paused, common.bulk): what a recall needs. Loading a hundred thousand rows into Python, not
the SQL, is most of that.
"""

import sys
from array import array
from bisect import bisect_left, bisect_right
from decimal import Decimal

from django.db import connection

from coldchain.selectors.lot_trail import coldchain_controller_ids, site_names
from common.bulk import cyclic_gc_paused
from common.moments import load_moments_in_c
from delivery.models import DeliveryOrderStatus
from delivery.selectors.lot_trail import staff_user_ids_of_warehouses, warehouses_by_id
from farms.models import HarvestLot
from marketplace.markets.selectors.lot_trail import (
    market_names,
    staff_user_ids_of_markets,
    traders_by_id,
)
from marketplace.selectors.lot_trail import ORDER_STATUSES_WITHOUT_GOODS, names_of_users

from ..choices import DownstreamKind, TrailStep
from ..models import LotTrailEntry
from ..trail import Downstream, DownstreamRecord, KindTotal

LISTING = DownstreamKind.LISTING
ORDER_LINE = DownstreamKind.MARKETPLACE_ORDER_LINE
TRADE = DownstreamKind.MARKET_TRADE
SHIPMENT = DownstreamKind.SHIPMENT
STOCK = DownstreamKind.STOCK_LOT
CONSUMER_LINE = DownstreamKind.CONSUMER_ORDER_LINE
KIND_OF_STEP = {
    TrailStep.LISTING: LISTING,
    TrailStep.MARKETPLACE_ORDER_LINE: ORDER_LINE,
    TrailStep.MARKET_TRADE: TRADE,
    TrailStep.SHIPMENT: SHIPMENT,
    TrailStep.STOCK_LOT: STOCK,
    TrailStep.CONSUMER_ORDER_LINE: CONSUMER_LINE,
}

# The trail's rows of a lot in the order a trace lists them (the index lot_trail_walk, read
# index-only), in two reads: every step but the consumers' lines with all the trail's columns,
# then the consumers' lines (most of a big scope) with only theirs. Left out, as the apps say:
# orders that took no goods, cancelled consumer orders (the trail keeps them).
TRAIL_SQL = f"""
SELECT step, record_id, at, quantity_kg, remaining_kg, status, reference, user_id, holder_id,
       market_id, order_id, parent_step, parent_id
  FROM {LotTrailEntry._meta.db_table}
 WHERE lot_id = %(lot)s AND step < {TrailStep.CONSUMER_ORDER_LINE:d}
   AND NOT (step = {TrailStep.MARKETPLACE_ORDER_LINE:d} AND status = ANY(%(lines_without_goods)s))
 ORDER BY step, at, record_id, source_id
"""
CONSUMER_LINES_SQL = f"""
SELECT record_id, at, quantity_kg, status, reference, user_id, parent_id
  FROM {LotTrailEntry._meta.db_table}
 WHERE lot_id = %(lot)s AND step = {TrailStep.CONSUMER_ORDER_LINE:d}
   AND status <> ALL(%(consumer_cancelled)s)
 ORDER BY step, at, record_id, source_id
"""


# Each kind's count, kilograms and ids in one aggregate read of the same index: the ids (and a
# consumer line's pick, its trail row's source) as one bytea of big-endian int8s per kind,
# which Python reads as an array in microseconds where a hundred thousand rows take hundreds of
# ms. No ORDER BY in the aggregates: the ids are a set to their readers, and an ordered
# aggregate sorts each kind (on disk, past work_mem) for nothing. A stock lot's kilograms are
# what it received (its receipts, else its own quantity), as its record says.
TOTALS_SQL = f"""
SELECT step, count(*), sum(quantity_kg), string_agg(int8send(record_id), ''::bytea),
       string_agg(int8send(source_id), ''::bytea)
           FILTER (WHERE step = {TrailStep.CONSUMER_ORDER_LINE:d})
  FROM {LotTrailEntry._meta.db_table}
 WHERE lot_id = %(lot)s AND step <> {TrailStep.STOCK_RECEIPT:d}
   AND NOT (step = {TrailStep.MARKETPLACE_ORDER_LINE:d} AND status = ANY(%(lines_without_goods)s))
   AND NOT (step = {TrailStep.CONSUMER_ORDER_LINE:d} AND status = ANY(%(consumer_cancelled)s))
 GROUP BY step
 UNION ALL
SELECT {TrailStep.STOCK_RECEIPT:d}, 0, sum(coalesce(received.kg, stock.quantity_kg)), NULL, NULL
  FROM {LotTrailEntry._meta.db_table} stock
  LEFT JOIN (SELECT record_id, sum(quantity_kg) AS kg
               FROM {LotTrailEntry._meta.db_table}
              WHERE lot_id = %(lot)s AND step = {TrailStep.STOCK_RECEIPT:d}
              GROUP BY record_id) received USING (record_id)
 WHERE stock.lot_id = %(lot)s AND stock.step = {TrailStep.STOCK_LOT:d}
"""


def downstream_params(lot_id: int) -> dict[str, int | list[str]]:
    return {
        "lot": lot_id,
        "lines_without_goods": [str(s) for s in ORDER_STATUSES_WITHOUT_GOODS],
        "consumer_cancelled": [str(DeliveryOrderStatus.CANCELLED)],
    }


def trail_rows(lot_id: int) -> tuple[list[tuple], list[tuple]]:
    """The lot's trail as a trace shows it, in its order: (step, record id, at, kilograms,
    kilograms left, status, reference, user id, holder id, market id, order id, parent step,
    parent id) of every row but the consumers' lines; (line id, at, kilograms, order status,
    order number, consumer id, stock lot id) of the consumers' lines."""
    params = downstream_params(lot_id)
    with connection.cursor() as cursor:
        load_moments_in_c(cursor.cursor)  # on psycopg's own cursor: see common.moments
        cursor.execute(TRAIL_SQL, params)
        rows = cursor.fetchall()
        cursor.execute(CONSUMER_LINES_SQL, params)
        return rows, cursor.fetchall()


def kind_totals(lot_id: int) -> dict[DownstreamKind, KindTotal]:
    """Each kind's count, kilograms and ids (TOTALS_SQL), kinds with no record left out."""
    with connection.cursor() as cursor:
        cursor.execute(TOTALS_SQL, downstream_params(lot_id))
        return totals_from_rows(cursor.fetchall())


def totals_from_rows(rows) -> dict[DownstreamKind, KindTotal]:
    """TOTALS_SQL's rows (step, count, kilograms, packed ids, packed picks) as each kind's
    total, from the trail or as a recall froze them."""
    stock_kg = next(
        (kg for step, _n, kg, _ids, _s in rows if step == TrailStep.STOCK_RECEIPT), None
    )
    return {
        KIND_OF_STEP[step]: KindTotal(
            count,
            stock_kg if step == TrailStep.STOCK_LOT and stock_kg is not None else kg,
            _int8s(ids),
            None if sources is None else _int8s(sources),
        )
        for step, count, kg, ids, sources in rows
        if step != TrailStep.STOCK_RECEIPT
    }


def _int8s(packed: bytes) -> list[int]:
    """PostgreSQL's int8send values, end to end, as ints."""
    numbers = array("q", packed)
    if sys.byteorder == "little":
        numbers.byteswap()  # int8send is big-endian
    return numbers.tolist()


def downstream_of(lot: HarvestLot | int) -> Downstream:
    """Every record downstream of the lot, in the order the lot reached them kind by kind
    (listings, marketplace order lines, trades, shipments, stock, consumer order lines), each
    kind oldest first (a shipment by its departure, else its planned departure).

    Read when first asked for (see Downstream): each kind's count, kilograms and ids, and a
    consumer line's picks (`Downstream.total`), in one aggregate read; the records, with who
    holds them and whom to tell (`Downstream.records`), in one more.

    Who is told: a listing's seller; an order line's buyer; a trade's buyer (if the trader has
    an account) and the market's staff; a shipment's planner and the cold-chain controllers; a
    stock lot's warehouse managers; a consumer order line's consumer (by id: a consumer's
    name is never a holder). A parent links a record to the one it came from.
    """
    lot_id = lot if isinstance(lot, int) else lot.pk
    return Downstream(
        lot_id, load=lambda: records_of(lot_id), load_totals=lambda: kind_totals(lot_id)
    )


def downstream_within(lot_id: int, totals: dict[DownstreamKind, KindTotal]) -> Downstream:
    """What is downstream of the lot, limited to the records counted in `totals` (a recall's
    frozen scope): its totals as given; its records read now, and kept where their ids are
    in the totals (a record written since, or since left out, is not)."""

    def load() -> list[DownstreamRecord]:
        kept = {kind: set(total.ids) for kind, total in totals.items()}
        return [record for record in records_of(lot_id) if record.id in kept.get(record.kind, ())]

    return Downstream(lot_id, load=load, load_totals=lambda: totals)


def records_of(lot_id: int) -> list[DownstreamRecord]:
    """The records downstream of the lot (see downstream_of), read from its trail and built."""
    with cyclic_gc_paused():
        return _records(*trail_rows(lot_id))


def _records(rows: list[tuple], consumer_lines: list[tuple]) -> list[DownstreamRecord]:
    steps = [row[0] for row in rows]

    def of_step(step: int) -> list[tuple]:
        return rows[bisect_left(steps, step) : bisect_right(steps, step)]

    records: list[DownstreamRecord] = []
    Record = DownstreamRecord

    listings, lines = of_step(TrailStep.LISTING), of_step(TrailStep.MARKETPLACE_ORDER_LINE)
    names = names_of_users({row[7] for row in listings} | {row[7] for row in lines})
    records.extend(
        Record(
            LISTING,
            id_,
            at,
            left,
            names.get(seller, ""),
            (seller,),
            None,
            reference,
            status,
            left,
            (),
            seller,
        )
        for _s, id_, at, _kg, left, status, reference, seller, _h, _m, _o, _ps, _p in listings
    )
    line_of_order: dict[int, int] = {}
    for row in lines:
        line_of_order.setdefault(row[10], row[1])
    records.extend(
        Record(
            ORDER_LINE,
            id_,
            at,
            kg,
            names.get(buyer, ""),
            (buyer,),
            (LISTING, listing_id),
            reference,
            status,
            None,
            (),
            buyer,
        )
        for _s, id_, at, kg, _l, status, reference, buyer, _h, _m, _o, _ps, listing_id in lines
    )

    trades = of_step(TrailStep.MARKET_TRADE)
    if trades:
        traders = traders_by_id({row[8] for row in trades})
        market_ids = {row[9] for row in trades}
        markets, market_staff = market_names(market_ids), staff_user_ids_of_markets(market_ids)
        told_of_trade = {
            (buyer, market): _users(traders[buyer][1], *market_staff.get(market, ()))
            for buyer, market in {(row[8], row[9]) for row in trades}
        }
        records.extend(
            Record(
                TRADE,
                id_,
                at,
                kg,
                traders[buyer][0],
                told_of_trade[buyer, market],
                None,
                markets[market],
                "",
                None,
                (),
                traders[buyer][1],
            )
            for _s, id_, at, kg, _l, _st, _r, _u, buyer, market, _o, _ps, _p in trades
        )

    shipments = of_step(TrailStep.SHIPMENT)
    if shipments:
        controllers = coldchain_controller_ids()
        destinations = site_names({row[8] for row in shipments})
        records.extend(
            Record(
                SHIPMENT,
                id_,
                at,
                kg,
                destinations.get(site, ""),
                _users(planner, *controllers),
                (TRADE, trade_id)
                if trade_id is not None
                else ((ORDER_LINE, line_of_order[order]) if order in line_of_order else None),
                code,
                status,
            )
            for _s, id_, at, kg, _l, status, code, planner, site, _m, order, _p, trade_id in shipments
        )

    stock = of_step(TrailStep.STOCK_LOT)
    if stock:
        received: dict[int, Decimal] = {}
        sources: dict[int, list[tuple[DownstreamKind, int]]] = {}
        for _s, stock_id, _at, kg, _l, _st, _r, _u, _h, _m, _o, parent_step, parent_id in of_step(
            TrailStep.STOCK_RECEIPT
        ):
            received[stock_id] = received.get(stock_id, 0) + kg
            if parent_step is not None:
                sources.setdefault(stock_id, []).append((KIND_OF_STEP[parent_step], parent_id))
        warehouse_ids = {row[8] for row in stock}
        warehouses = warehouses_by_id(warehouse_ids)
        managers = staff_user_ids_of_warehouses(warehouse_ids)
        for _s, id_, at, kg, left, _st, _r, _u, warehouse_id, _m, _o, _ps, _p in stock:
            parents = sources.get(id_, ())
            name, code = warehouses[warehouse_id]
            records.append(
                Record(
                    STOCK,
                    id_,
                    at,
                    received.get(id_, kg),
                    name,
                    managers.get(warehouse_id, ()),
                    parents[0] if parents else None,
                    code,
                    "",
                    left,
                    tuple(parents[1:]),
                )
            )
        stock_parent = {row[1]: (STOCK, row[1]) for row in stock}
        records += [
            Record(
                CONSUMER_LINE,
                id_,
                at,
                kg,
                "",  # a consumer's name is never shown
                (consumer,),
                stock_parent.get(stock_id) or (STOCK, stock_id),
                number,
                status,
                None,
                (),
                consumer,
            )
            for id_, at, kg, status, number, consumer, stock_id in consumer_lines
        ]
    return records


def _users(*user_ids: int | None) -> tuple[int, ...]:
    """The ids given, without None or repeats, in their order."""
    return tuple(dict.fromkeys(user_id for user_id in user_ids if user_id is not None))
