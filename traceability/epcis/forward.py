"""The forward half of a lot's journey as EPCIS events, from the lot's trail (the one index
traceability keeps of every record downstream of a lot, traceability.models.LotTrailEntry),
read as plain tuples, with times already formatted by PostgreSQL: a big lot has a hundred
thousand records and each becomes one event.

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

from coldchain.models import Shipment
from coldchain.selectors.lots import leg_record
from common.bulk import cyclic_gc_paused
from delivery.models import DeliveryOrderStatus
from farms.models import HarvestLot
from marketplace.selectors.lot_trail import ORDER_STATUSES_WITHOUT_GOODS

from ..choices import TrailStep
from ..models import LotTrailEntry
from . import identifiers as ids
from .events import OFFSET, Event, event_time, time_key

KEY = """to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
FORWARD_SQL = f"""
SELECT step, source_id, record_id, {KEY}, quantity_kg::float8, holder_id, market_id, order_id,
       parent_step, parent_id
  FROM {LotTrailEntry._meta.db_table}
 WHERE lot_id = %(lot)s AND step > {TrailStep.LISTING:d}
   AND NOT (step = {TrailStep.MARKETPLACE_ORDER_LINE:d} AND status = ANY(%(lines_without_goods)s))
   AND NOT (step = {TrailStep.CONSUMER_ORDER_LINE:d} AND status = ANY(%(consumer_cancelled)s))
 ORDER BY step, at, source_id
"""


def trail_of(lot_id: int) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            FORWARD_SQL,
            {
                "lot": lot_id,
                "lines_without_goods": [str(s) for s in ORDER_STATUSES_WITHOUT_GOODS],
                "consumer_cancelled": [str(DeliveryOrderStatus.CANCELLED)],
            },
        )
        return cursor.fetchall()


def forward_events(
    lot: HarvestLot, epc_class: str, *, shipment_ids: set[int] | None = None
) -> list[Event]:
    """The lot's forward events (see the module), each kind in time order; only the legs of
    the given shipments when `shipment_ids` is given (a shipment's export). Built with the
    cycle collector paused (common.bulk): a hundred thousand events are half a million
    small dicts and lists, none in a cycle."""
    with cyclic_gc_paused():
        return _forward_events(lot, epc_class, shipment_ids)


def _forward_events(lot: HarvestLot, epc_class: str, shipment_ids: set[int] | None) -> list[Event]:
    rows = trail_of(lot.pk)
    if shipment_ids is not None:
        rows = [row for row in rows if row[0] == TrailStep.SHIPMENT and row[2] in shipment_ids]
    base = ids.site_url()
    prefix = base + "/epcis/events/"
    market_at = base + "/epcis/locations/market/"
    warehouse_at = base + "/epcis/locations/warehouse/"
    transaction_of = base + "/epcis/transactions/"
    events: list[Event] = []
    append = events.append

    # The steps as plain ints (an enum member's lookup costs more than the comparison), and
    # one location object per place, shared by its events.
    trade_step, consumer_step = int(TrailStep.MARKET_TRADE), int(TrailStep.CONSUMER_ORDER_LINE)
    line_step, stock_step = int(TrailStep.MARKETPLACE_ORDER_LINE), int(TrailStep.STOCK_LOT)
    receipt_step, shipment_step = int(TrailStep.STOCK_RECEIPT), int(TrailStep.SHIPMENT)
    places: dict[str, dict] = {}

    def place_of(uri: str) -> dict:
        place = places.get(uri)
        if place is None:
            place = places[uri] = {"id": uri}
        return place

    order_of_line: dict[int, int] = {}
    warehouse_of_stock: dict[int, int] = {}
    legs: list[tuple] = []
    for step, source, record, key, kg, holder, market, order, parent_step, parent in rows:
        if step == trade_step:
            place = place_of(market_at + str(market))
            event_id = prefix + "trade/" + str(source)
            append(
                (
                    key,
                    event_id,
                    {
                        "type": "ObjectEvent",
                        "eventTime": key[:23] + "Z",
                        "eventTimeZoneOffset": OFFSET,
                        "eventID": event_id,
                        "action": "OBSERVE",
                        "bizStep": "accepting",
                        "disposition": "sellable_accessible",
                        "epcList": [],
                        "quantityList": [{"epcClass": epc_class, "quantity": kg, "uom": "KGM"}],
                        "readPoint": place,
                        "bizLocation": place,
                        "bizTransactionList": [
                            {"type": "inv", "bizTransaction": f"{transaction_of}trade/{source}"}
                        ],
                    },
                )
            )
        elif step == consumer_step:
            place = place_of(warehouse_at + str(warehouse_of_stock.get(parent, "")))
            event_id = prefix + "consumer_sale/" + str(source)
            append(
                (
                    key,
                    event_id,
                    {
                        "type": "ObjectEvent",
                        "eventTime": key[:23] + "Z",
                        "eventTimeZoneOffset": OFFSET,
                        "eventID": event_id,
                        "action": "OBSERVE",
                        "bizStep": "retail_selling",
                        "disposition": "retail_sold",
                        "epcList": [],
                        "quantityList": [{"epcClass": epc_class, "quantity": kg, "uom": "KGM"}],
                        "readPoint": place,
                        "bizLocation": place,
                    },
                )
            )
        elif step == line_step:
            order_of_line[source] = order
            event_id = prefix + "order_line/" + str(source)
            append(
                (
                    key,
                    event_id,
                    {
                        "type": "ObjectEvent",
                        "eventTime": key[:23] + "Z",
                        "eventTimeZoneOffset": OFFSET,
                        "eventID": event_id,
                        "action": "OBSERVE",
                        "bizStep": "accepting",
                        "disposition": "sellable_accessible",
                        "epcList": [],
                        "quantityList": [{"epcClass": epc_class, "quantity": kg, "uom": "KGM"}],
                        "bizTransactionList": [
                            {"type": "po", "bizTransaction": f"{transaction_of}order/{order}"}
                        ],
                    },
                )
            )
        elif step == stock_step:
            warehouse_of_stock[record] = holder
        elif step == receipt_step:
            place = place_of(warehouse_at + str(warehouse_of_stock.get(record, "")))
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
                "quantityList": [{"epcClass": epc_class, "quantity": kg, "uom": "KGM"}],
                "readPoint": place,
                "bizLocation": place,
            }
            if parent_step == trade_step:
                event["bizTransactionList"] = [
                    {"type": "inv", "bizTransaction": f"{transaction_of}trade/{parent}"}
                ]
            elif parent_step == line_step and parent in order_of_line:
                event["bizTransactionList"] = [
                    {
                        "type": "po",
                        "bizTransaction": f"{transaction_of}order/{order_of_line[parent]}",
                    }
                ]
            append((key, event_id, event))
        elif step == shipment_step:
            legs.append((source, record, kg, parent_step, parent))
    if legs:
        events += leg_events(legs, epc_class)
    return events


def leg_events(legs: list[tuple], epc_class: str) -> list[Event]:
    """Shipping and receiving of each leg (shipment lot id, shipment id, kg, parent)."""
    shipments = {s.pk: s for s in Shipment.objects.filter(pk__in={leg[1] for leg in legs})}
    records = {pk: leg_record(shipment) for pk, shipment in shipments.items()}
    transaction_of = ids.site_url() + "/epcis/transactions/"
    events: list[Event] = []
    for source, shipment_id, kg, parent_step, parent in legs:
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
            sensors = sensor_elements(shipment, records[shipment_id])
            if sensors:
                event["sensorElementList"] = sensors
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
