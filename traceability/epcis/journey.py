"""A lot's whole journey as EPCIS events, and a shipment's share of it."""

from operator import itemgetter

from common.bulk import cyclic_gc_paused
from farms.models import HarvestLot

from ..models import CapturedEvent
from .events import Event, backward_events, captured_events, lot_epc_class
from .forward import forward_events

# (time key, eventID): the events' order (C-level, no Python call per event).
event_order = itemgetter(0, 1)


def events_of_lot(lot: HarvestLot, *, with_captured: bool = True) -> list[Event]:
    """Every event of the lot's journey, ordered by (time, eventID): derived backward and
    forward, and the partners' (traceability.models.CapturedEvent) unless left out. The cycle
    collector is paused while they are built and sorted (common.bulk): for a big lot it would
    otherwise walk half a million fresh dicts and tuples again and again."""
    with cyclic_gc_paused():
        events = backward_events(lot) + forward_events(lot, lot_epc_class(lot))
        if with_captured:
            events += captured_events(CapturedEvent.objects.filter(lot=lot))
        events.sort(key=event_order)
    return events


def events_of_shipment(shipment_id: int, lots: list[HarvestLot]) -> list[Event]:
    """The shipping and receiving events of the shipment's legs for each of these lots."""
    events: list[Event] = []
    for lot in lots:
        events += forward_events(lot, lot_epc_class(lot), shipment_ids={shipment_id})
    events.sort(key=event_order)
    return events
