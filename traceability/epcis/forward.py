"""The forward half of a lot's journey as EPCIS events, from the lot's trail (the one index
traceability keeps of every record downstream of a lot, traceability.models.LotTrailEntry),
read as plain tuples, with times and the order already made by PostgreSQL: a big lot has a
hundred thousand records and each becomes one event. The query reads the same rows a batch at
a time from its keyset (trail_rows), so a page costs a page, not the lot.

- a marketplace order line and a counter trade: ObjectEvent OBSERVE, `accepting` (the goods
  change hands), with the order (`po`) or the trade (`inv`) as business transaction;
- each cold-chain leg (a shipment's share of the lot): `shipping` at departure from the origin
  site (`in_transit`), `receiving` at arrival at the destination with the leg's temperature as
  sensorElementList: min, max and mean over the leg (CEL), and one ALARM_CONDITION element per
  excursion that stands (its start, end and peak), as GS1's sensor examples do;
- each warehouse receipt: `receiving` at the warehouse (`sellable_accessible`), naming the
  trade or order it came from;
- each consumer order's pick from the warehouse's stock: `retail_selling`, `retail_sold`, at
  the warehouse; the consumer is never named.
Left out as the trace leaves them out: orders that took no goods, cancelled consumer orders.
"""

from datetime import datetime

from django.db import connection

from coldchain.models import Shipment
from coldchain.selectors.lots import leg_record
from common.bulk import cyclic_gc_paused
from delivery.models import DeliveryOrder, DeliveryOrderLine, DeliveryOrderStatus
from farms.models import HarvestLot
from marketplace.selectors.lot_trail import ORDER_STATUSES_WITHOUT_GOODS

from ..choices import TrailStep
from ..models import LotTrailEntry
from . import identifiers as ids
from .events import OFFSET, Event, event_time, time_key

# A consumer order's packing and delivery, per pick (the order's packed_at and delivered_at):
# kinds of rows of their own beside the trail's steps.
PACKING, DELIVERY = 8, 9
TRAIL = LotTrailEntry._meta.db_table
# The rows that are one event each: the trail's order lines, trades, receipts and picks, and
# each pick's packing and delivery, with their event's time and ID computed here, so the
# query's keyset (time, eventID), its time window and its kinds are applied by PostgreSQL.
# Each row carries the warehouse of its stock lot (a receipt's, a pick's) and the order of a
# receipt's order line, read from the same trail by its primary key.
ROWS_SQL = f"""
SELECT e.lot_id, e.kind, e.source_id,
       to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       e.kg, e.market_id, e.order_id, e.parent_step, e.parent_id, e.warehouse_id,
       e.parent_order_id
  FROM (
    SELECT t.lot_id, t.step AS kind, t.source_id, t.at, t.quantity_kg::float8 AS kg,
           t.market_id, t.order_id, t.parent_step, t.parent_id, stock.holder_id AS warehouse_id,
           line.order_id AS parent_order_id,
           %(prefix)s || CASE t.step WHEN {TrailStep.MARKETPLACE_ORDER_LINE:d} THEN 'order_line/'
                                     WHEN {TrailStep.MARKET_TRADE:d} THEN 'trade/'
                                     WHEN {TrailStep.STOCK_RECEIPT:d} THEN 'receipt/'
                                     ELSE 'consumer_sale/' END || t.source_id AS event_id
      FROM {TRAIL} t
      LEFT JOIN {TRAIL} stock
             ON stock.step = {TrailStep.STOCK_LOT:d}
            AND stock.source_id = CASE t.step WHEN {TrailStep.STOCK_RECEIPT:d} THEN t.record_id
                                              WHEN {TrailStep.CONSUMER_ORDER_LINE:d}
                                              THEN t.parent_id END
      LEFT JOIN {TRAIL} line
             ON t.step = {TrailStep.STOCK_RECEIPT:d}
            AND t.parent_step = {TrailStep.MARKETPLACE_ORDER_LINE:d}
            AND line.step = {TrailStep.MARKETPLACE_ORDER_LINE:d} AND line.source_id = t.parent_id
     WHERE t.lot_id = ANY(%(lots)s) AND t.step = ANY(%(kinds)s)
       AND NOT (t.step = {TrailStep.MARKETPLACE_ORDER_LINE:d}
                AND t.status = ANY(%(lines_without_goods)s))
       AND NOT (t.step = {TrailStep.CONSUMER_ORDER_LINE:d}
                AND t.status = ANY(%(consumer_cancelled)s))
    UNION ALL
    SELECT t.lot_id, k.kind, t.source_id,
           CASE k.kind WHEN {PACKING:d} THEN o.packed_at ELSE o.delivered_at END,
           t.quantity_kg::float8, NULL, o.id, NULL, NULL, stock.holder_id, NULL,
           %(prefix)s || CASE k.kind WHEN {PACKING:d} THEN 'packing/'
                                     ELSE 'consumer_delivery/' END || t.source_id
      FROM {TRAIL} t
      JOIN unnest(%(kinds)s::smallint[]) AS k(kind) ON k.kind IN ({PACKING:d}, {DELIVERY:d})
      JOIN {DeliveryOrderLine._meta.db_table} l ON l.id = t.record_id
      JOIN {DeliveryOrder._meta.db_table} o ON o.id = l.order_id
      LEFT JOIN {TRAIL} stock
             ON stock.step = {TrailStep.STOCK_LOT:d} AND stock.source_id = t.parent_id
     WHERE t.lot_id = ANY(%(lots)s) AND t.step = {TrailStep.CONSUMER_ORDER_LINE:d}
       AND t.status <> ALL(%(consumer_cancelled)s)
       AND CASE k.kind WHEN {PACKING:d} THEN o.packed_at ELSE o.delivered_at END IS NOT NULL
  ) e
 WHERE TRUE {{where}}
 ORDER BY e.at, e.event_id COLLATE "C"
 {{limit}}
"""
AFTER = """AND (e.at > %(after_at)s
        OR (e.at = %(after_at)s AND e.event_id COLLATE "C" > %(after_id)s))"""
LEGS_SQL = f"""
SELECT lot_id, source_id, record_id, quantity_kg::float8, parent_step, parent_id
  FROM {LotTrailEntry._meta.db_table}
 WHERE lot_id = ANY(%(lots)s) AND step = {TrailStep.SHIPMENT:d}
 ORDER BY lot_id, source_id
"""
# The business step and event type of each kind of row (for EQ_bizStep and eventType).
KINDS = {
    int(TrailStep.MARKETPLACE_ORDER_LINE): ("accepting", "ObjectEvent"),
    int(TrailStep.MARKET_TRADE): ("accepting", "ObjectEvent"),
    int(TrailStep.STOCK_RECEIPT): ("receiving", "ObjectEvent"),
    int(TrailStep.CONSUMER_ORDER_LINE): ("retail_selling", "ObjectEvent"),
    PACKING: ("packing", "AggregationEvent"),
    DELIVERY: ("arriving", "ObjectEvent"),
}


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def trail_rows(
    lot_ids: list[int],
    *,
    biz_steps: list[str] | None = None,
    event_types: list[str] | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int | None = None,
    source: tuple[int, int] | None = None,
) -> list[tuple]:
    """The rows of these lots that are one event each, in (time, eventID) order: those of
    the business steps and event types given (all without), in the time window, after the
    keyset; only the row (kind, source id) when `source` is given."""
    kinds = [
        kind
        for kind, (biz, event_type) in KINDS.items()
        if (not biz_steps or biz in biz_steps) and (not event_types or event_type in event_types)
    ]
    where = []
    params: dict = {
        "lots": lot_ids,
        "kinds": kinds,
        "prefix": ids.event_prefix(),
        "lines_without_goods": [str(s) for s in ORDER_STATUSES_WITHOUT_GOODS],
        "consumer_cancelled": [str(DeliveryOrderStatus.CANCELLED)],
    }
    if since is not None:
        where.append("AND e.at >= %(since)s")
        params["since"] = since
    if before is not None:
        where.append("AND e.at < %(before)s")
        params["before"] = before
    if source is not None:
        where.append("AND e.kind = %(source_step)s AND e.source_id = %(source_id)s")
        params["source_step"], params["source_id"] = source
    if after is not None:
        where.append(AFTER)
        params["after_at"], params["after_id"] = after
    sql = ROWS_SQL.format(
        where="\n   ".join(where), limit=f"LIMIT {int(limit)}" if limit is not None else ""
    )
    return _fetch(sql, params)


def forward_events(
    lot: HarvestLot, epc_class: str, *, shipment_ids: set[int] | None = None
) -> list[Event]:
    """The lot's forward events (see the module); only the legs of the given shipments when
    `shipment_ids` is given (a shipment's export). Built with the cycle collector paused
    (common.bulk): a hundred thousand events are half a million small dicts and lists, none
    in a cycle."""
    with cyclic_gc_paused():
        legs = legs_of(lot_ids=[lot.pk], classes={lot.pk: epc_class}, shipment_ids=shipment_ids)
        if shipment_ids is not None:
            return legs
        return events_from_rows(trail_rows([lot.pk]), {lot.pk: epc_class}) + legs


def events_from_rows(rows: list[tuple], classes: dict[int, str]) -> list[Event]:
    """trail_rows' rows as events, in their order; `classes` gives each lot's EPC class."""
    base = ids.site_url()
    prefix = base + "/epcis/events/"
    market_at = base + "/epcis/locations/market/"
    warehouse_at = base + "/epcis/locations/warehouse/"
    transaction_of = base + "/epcis/transactions/"
    parcel_of = base + "/epcis/parcels/consumer_order/"
    # The steps as plain ints (an enum member's lookup costs more than the comparison), and
    # one location object per place, shared by its events.
    trade_step, consumer_step = int(TrailStep.MARKET_TRADE), int(TrailStep.CONSUMER_ORDER_LINE)
    line_step, receipt_step = int(TrailStep.MARKETPLACE_ORDER_LINE), int(TrailStep.STOCK_RECEIPT)
    places: dict[str, dict] = {}

    def place_of(uri: str) -> dict:
        place = places.get(uri)
        if place is None:
            place = places[uri] = {"id": uri}
        return place

    events: list[Event] = []
    append = events.append
    for (
        lot_id,
        step,
        source,
        key,
        kg,
        market,
        order,
        parent_step,
        parent,
        warehouse,
        parent_order,
    ) in rows:
        quantities = [{"epcClass": classes[lot_id], "quantity": kg, "uom": "KGM"}]
        if step == consumer_step:
            place = place_of(warehouse_at + str(warehouse))
            event_id = prefix + "consumer_sale/" + str(source)
            event = {
                "type": "ObjectEvent",
                "eventTime": key[:23] + "Z",
                "eventTimeZoneOffset": OFFSET,
                "eventID": event_id,
                "action": "OBSERVE",
                "bizStep": "retail_selling",
                "disposition": "retail_sold",
                "epcList": [],
                "quantityList": quantities,
                "readPoint": place,
                "bizLocation": place,
            }
        elif step == trade_step:
            place = place_of(market_at + str(market))
            event_id = prefix + "trade/" + str(source)
            event = {
                "type": "ObjectEvent",
                "eventTime": key[:23] + "Z",
                "eventTimeZoneOffset": OFFSET,
                "eventID": event_id,
                "action": "OBSERVE",
                "bizStep": "accepting",
                "disposition": "sellable_accessible",
                "epcList": [],
                "quantityList": quantities,
                "readPoint": place,
                "bizLocation": place,
                "bizTransactionList": [
                    {"type": "inv", "bizTransaction": f"{transaction_of}trade/{source}"}
                ],
            }
        elif step == receipt_step:
            place = place_of(warehouse_at + str(warehouse))
            event_id = prefix + "receipt/" + str(source)
            event = {
                "type": "ObjectEvent",
                "eventTime": key[:23] + "Z",
                "eventTimeZoneOffset": OFFSET,
                "eventID": event_id,
                "action": "OBSERVE",
                "bizStep": "receiving",
                "disposition": "sellable_accessible",
                "epcList": [],
                "quantityList": quantities,
                "readPoint": place,
                "bizLocation": place,
            }
            if parent_step == trade_step:
                event["bizTransactionList"] = [
                    {"type": "inv", "bizTransaction": f"{transaction_of}trade/{parent}"}
                ]
            elif parent_step == line_step and parent_order is not None:
                event["bizTransactionList"] = [
                    {"type": "po", "bizTransaction": f"{transaction_of}order/{parent_order}"}
                ]
        elif step == PACKING:
            place = place_of(warehouse_at + str(warehouse))
            event_id = prefix + "packing/" + str(source)
            event = {
                "type": "AggregationEvent",
                "eventTime": key[:23] + "Z",
                "eventTimeZoneOffset": OFFSET,
                "eventID": event_id,
                "parentID": parcel_of + str(order),
                "childEPCs": [],
                "childQuantityList": quantities,
                "action": "ADD",
                "bizStep": "packing",
                "disposition": "in_progress",
                "readPoint": place,
                "bizLocation": place,
            }
        elif step == DELIVERY:
            event_id = prefix + "consumer_delivery/" + str(source)
            event = {  # at the consumer's door: no place is named
                "type": "ObjectEvent",
                "eventTime": key[:23] + "Z",
                "eventTimeZoneOffset": OFFSET,
                "eventID": event_id,
                "action": "OBSERVE",
                "bizStep": "arriving",
                "disposition": "retail_sold",
                "epcList": [parcel_of + str(order)],
                "quantityList": quantities,
            }
        else:  # a marketplace order line
            event_id = prefix + "order_line/" + str(source)
            event = {
                "type": "ObjectEvent",
                "eventTime": key[:23] + "Z",
                "eventTimeZoneOffset": OFFSET,
                "eventID": event_id,
                "action": "OBSERVE",
                "bizStep": "accepting",
                "disposition": "sellable_accessible",
                "epcList": [],
                "quantityList": quantities,
                "bizTransactionList": [
                    {"type": "po", "bizTransaction": f"{transaction_of}order/{order}"}
                ],
            }
        append((key, event_id, event))
    return events


def legs_of(
    *,
    lot_ids: list[int],
    classes: dict[int, str],
    shipment_ids: set[int] | None = None,
    sensors: bool = True,
) -> list[Event]:
    """The shipping and receiving events of these lots' cold-chain legs (of the given
    shipments only, when given), unordered; without their sensor data when `sensors` is
    False (the query adds it to the receiving events of its page only: add_sensor_data)."""
    legs = [
        (source, shipment, kg, parent_step, parent, classes[lot_id])
        for lot_id, source, shipment, kg, parent_step, parent in _fetch(LEGS_SQL, {"lots": lot_ids})
        if shipment_ids is None or shipment in shipment_ids
    ]
    return leg_events(legs, sensors=sensors) if legs else []


def add_sensor_data(events: list[Event]) -> None:
    """The leg's temperature on each of these receiving events that lacks it (legs_of
    without sensors), read for their shipments only."""
    prefix = ids.event_prefix() + "receiving/"
    waiting = {
        int(event_id[len(prefix) :]): event
        for _key, event_id, event in events
        if event_id.startswith(prefix) and "sensorElementList" not in event
    }
    if not waiting:
        return
    shipment_of = dict(
        LotTrailEntry.objects.filter(step=TrailStep.SHIPMENT, source_id__in=waiting).values_list(
            "source_id", "record_id"
        )
    )
    shipments = Shipment.objects.filter(pk__in=set(shipment_of.values()))
    found = {shipment.pk: sensor_elements(shipment, leg_record(shipment)) for shipment in shipments}
    for source, event in waiting.items():
        elements = found.get(shipment_of.get(source, 0))
        if elements:
            event["sensorElementList"] = elements


def leg_events(legs: list[tuple], *, sensors: bool = True) -> list[Event]:
    """Shipping and receiving of each leg (shipment lot id, shipment id, kg, parent, the
    lot's EPC class)."""
    shipments = {s.pk: s for s in Shipment.objects.filter(pk__in={leg[1] for leg in legs})}
    records = {pk: leg_record(shipment) for pk, shipment in shipments.items()} if sensors else {}
    transaction_of = ids.site_url() + "/epcis/transactions/"
    events: list[Event] = []
    for source, shipment_id, kg, parent_step, parent, epc_class in legs:
        shipment = shipments[shipment_id]
        origin = {"id": ids.location("site", shipment.origin_id)}
        destination = {"id": ids.location("site", shipment.destination_id)}
        what = {
            "epcList": [],
            "quantityList": [{"epcClass": epc_class, "quantity": kg, "uom": "KGM"}],
        }
        why = {}
        if parent_step == TrailStep.MARKET_TRADE:
            why["bizTransactionList"] = [
                {"type": "inv", "bizTransaction": f"{transaction_of}trade/{parent}"}
            ]
        if shipment.departed_at is not None:
            key = time_key(shipment.departed_at)
            event_id = ids.event_id("shipping", source)
            events.append(
                (
                    key,
                    event_id,
                    {
                        "type": "ObjectEvent",
                        "eventTime": event_time(key),
                        "eventTimeZoneOffset": OFFSET,
                        "eventID": event_id,
                        "action": "OBSERVE",
                        "bizStep": "shipping",
                        "disposition": "in_transit",
                        **what,
                        "readPoint": origin,
                        "bizLocation": origin,
                        **why,
                        "destinationList": [{"type": "location", "destination": destination["id"]}],
                    },
                )
            )
        if shipment.arrived_at is not None:
            key = time_key(shipment.arrived_at)
            event_id = ids.event_id("receiving", source)
            event = {
                "type": "ObjectEvent",
                "eventTime": event_time(key),
                "eventTimeZoneOffset": OFFSET,
                "eventID": event_id,
                "action": "OBSERVE",
                "bizStep": "receiving",
                "disposition": "in_progress",
                **what,
                "readPoint": destination,
                "bizLocation": destination,
                **why,
                "sourceList": [{"type": "location", "source": origin["id"]}],
            }
            if sensors:
                elements = sensor_elements(shipment, records[shipment_id])
                if elements:
                    event["sensorElementList"] = elements
            events.append((key, event_id, event))
    return events


def sensor_elements(shipment: Shipment, record) -> list[dict]:
    """The leg's temperature: min, max and mean over the leg; an alarm per excursion."""
    elements = []
    summary = record.summary
    start = shipment.departed_at
    if summary.readings:
        metadata = {"startTime": event_time(time_key(start))} if start else {}
        if shipment.arrived_at is not None:
            metadata["endTime"] = event_time(time_key(shipment.arrived_at))
        elements.append(
            {
                "sensorMetadata": metadata,
                "sensorReport": [
                    {
                        "type": "Temperature",
                        "minValue": summary.min_c,
                        "maxValue": summary.max_c,
                        "meanValue": summary.mean_c,
                        "uom": "CEL",
                    }
                ],
            }
        )
    for excursion in record.excursions:
        metadata = {"startTime": event_time(time_key(excursion.started_at))}
        if excursion.ended_at is not None:
            metadata["endTime"] = event_time(time_key(excursion.ended_at))
        report: dict[str, object] = {
            "type": "Temperature",
            "exception": "ALARM_CONDITION",
            "uom": "CEL",
        }
        report["maxValue" if excursion.peak_c >= excursion.limit_c else "minValue"] = float(
            excursion.peak_c
        )
        elements.append({"sensorMetadata": metadata, "sensorReport": [report]})
    return elements
