"""The source-table reference for the lot trail: what was traceability.selectors.downstream's
downstream_of before the trail (migration 0006), kept here so tests can check that the trail
(kept by triggers) shows exactly what the owning apps' own rows say.

What is downstream of a lot: every record that took some of it, with quantities, who holds
it and whom a recall must tell.

A lot flows: listing → buyer's order line; counter trade; shipment (for an order or a trade);
warehouse stock (received from an order line or a trade) → consumer order line (picked from
the stock). Each kind is one query over its own app's rows (through that app's selectors),
plus one per kind of staff told, whatever the size of the scope: a recall of a lot with a
hundred thousand downstream records answers in a fixed number of queries.
"""

from collections import defaultdict

from coldchain.selectors.lot_trail import coldchain_controller_ids, shipment_lots_of_lot
from delivery.selectors.lot_trail import (
    consumer_picks_of_lot,
    staff_user_ids_of_warehouses,
    stock_lots_of_lot,
    stock_receipt_sources_of_lot,
)
from farms.models import HarvestLot
from marketplace.markets.selectors.lot_trail import staff_user_ids_of_markets, trades_of_lot
from marketplace.selectors.lot_trail import listings_of_lot, order_lines_of_lot
from traceability.choices import DownstreamKind
from traceability.trail import Downstream, DownstreamRecord

LISTING = DownstreamKind.LISTING
ORDER_LINE = DownstreamKind.MARKETPLACE_ORDER_LINE
TRADE = DownstreamKind.MARKET_TRADE
SHIPMENT = DownstreamKind.SHIPMENT
STOCK = DownstreamKind.STOCK_LOT
CONSUMER_LINE = DownstreamKind.CONSUMER_ORDER_LINE


def downstream_from_sources(lot: HarvestLot | int) -> Downstream:
    """Every record downstream of the lot, in the order the lot reached them kind by kind
    (listings, marketplace order lines, trades, shipments, stock, consumer order lines).

    Who is told: a listing's seller; an order line's buyer; a trade's buyer (if the trader has
    an account) and the market's staff; a shipment's planner and the cold-chain controllers; a
    stock lot's warehouse managers; a consumer order line's consumer (by id: a consumer's
    name is never a holder). A parent links a record to the one it came from.
    """
    lot_id = lot if isinstance(lot, int) else lot.pk
    records: list[DownstreamRecord] = []
    Record = DownstreamRecord

    records.extend(
        Record(
            LISTING,
            id_,
            at,
            left,
            name or username,
            (seller,),
            None,
            f"#{id_}",
            status,
            left,
            party_id=seller,
        )
        for id_, at, left, status, seller, name, username in listings_of_lot(lot_id)
    )

    lines = order_lines_of_lot(lot_id)
    line_of_order: dict[int, int] = {}
    for id_, _at, _kg, _status, _listing, order_id, *_rest in lines:
        line_of_order.setdefault(order_id, id_)
    records.extend(
        Record(
            ORDER_LINE,
            id_,
            at,
            kg,
            name or username,
            (buyer,),
            (LISTING, listing_id),
            f"#{order_id}",
            status,
            party_id=buyer,
        )
        for id_, at, kg, status, listing_id, order_id, buyer, name, username in lines
    )

    trades = trades_of_lot(lot_id)
    market_staff = staff_user_ids_of_markets(row[3] for row in trades)
    records.extend(
        Record(
            TRADE,
            id_,
            at,
            kg,
            buyer_name,
            _users(buyer_user, *market_staff.get(market_id, ())),
            None,
            market_name,
            party_id=buyer_user,
        )
        for id_, at, kg, market_id, market_name, buyer_name, buyer_user in trades
    )

    shipments = shipment_lots_of_lot(lot_id)
    if shipments:
        controllers = coldchain_controller_ids()
        records.extend(
            Record(
                SHIPMENT,
                id_,
                at,
                kg,
                destination,
                _users(planner, *controllers),
                _shipment_parent(order_id, trade_id, line_of_order),
                code,
                status,
            )
            for id_, at, kg, code, status, destination, planner, order_id, trade_id in shipments
        )

    stock = stock_lots_of_lot(lot_id)
    if stock:
        sources: defaultdict[int, list[tuple[DownstreamKind, int]]] = defaultdict(list)
        for stock_id, order_line_id, trade_id in stock_receipt_sources_of_lot(lot_id):
            if order_line_id is not None:
                sources[stock_id].append((ORDER_LINE, order_line_id))
            elif trade_id is not None:
                sources[stock_id].append((TRADE, trade_id))
        managers = staff_user_ids_of_warehouses(row[4] for row in stock)
        for id_, at, received, left, warehouse_id, name, code in stock:
            parents = sources.get(id_, ())
            records.append(
                Record(
                    STOCK,
                    id_,
                    at,
                    received,
                    name,
                    managers.get(warehouse_id, ()),
                    parents[0] if parents else None,
                    code,
                    "",
                    left,
                    tuple(parents[1:]),
                )
            )
        records.extend(
            Record(
                CONSUMER_LINE,
                id_,
                at,
                kg,
                "",  # a consumer's name is never shown
                (consumer,),
                (STOCK, stock_id),
                number,
                status,
                party_id=consumer,
            )
            for id_, at, kg, status, stock_id, number, consumer in consumer_picks_of_lot(lot_id)
        )
    return Downstream(lot_id=lot_id, records=records)


def _users(*user_ids: int | None) -> tuple[int, ...]:
    """The ids given, without None or repeats, in their order."""
    return tuple(dict.fromkeys(user_id for user_id in user_ids if user_id is not None))


def _shipment_parent(
    order_id: int | None, trade_id: int | None, line_of_order: dict[int, int]
) -> tuple[DownstreamKind, int] | None:
    if trade_id is not None:
        return (TRADE, trade_id)
    if order_id is not None and order_id in line_of_order:
        return (ORDER_LINE, line_of_order[order_id])
    return None
