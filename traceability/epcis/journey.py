"""A lot's whole journey as EPCIS events, and a shipment's share of it."""

from farms.models import HarvestLot

from ..models import CapturedEvent
from .events import Event, backward_events, captured_events, lot_epc_class
from .forward import forward_events


def _order(event: Event) -> tuple[str, str]:
    return event[0], event[1]


def events_of_lot(lot: HarvestLot, *, with_captured: bool = True) -> list[Event]:
    """Every event of the lot's journey, ordered by (time, eventID): derived backward and
    forward, and the partners' (traceability.models.CapturedEvent) unless left out."""
    events = backward_events(lot) + forward_events(lot, lot_epc_class(lot))
    if with_captured:
        events += captured_events(CapturedEvent.objects.filter(lot=lot))
    events.sort(key=_order)
    return events


def events_of_shipment(shipment_id: int, lots: list[HarvestLot]) -> list[Event]:
    """The shipping and receiving events of the shipment's legs for each of these lots."""
    events: list[Event] = []
    for lot in lots:
        events += forward_events(lot, lot_epc_class(lot), shipment_ids={shipment_id})
    events.sort(key=_order)
    return events
