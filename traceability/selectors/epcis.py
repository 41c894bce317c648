"""Which EPCIS events a caller may read, and the reads the query interface and the exports
make. A person sees the events of the lots whose journey she may open
(journey.lots_with_journey_visible_to); a partner system's key those of its co-operative's or
its market's lots (every lot when it is limited to neither), and only if it may query.

Derived events are read lot by lot (traceability.epcis.journey); the partners' own
(CapturedEvent) straight from their table in the query's order, in batches, so a page of a
query over ten thousand of them reads about a page of rows.
"""

import heapq
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import unquote

from django.db.models import Q, QuerySet
from django.db.models.functions import Collate

from accounts.models import User
from farms.models import HarvestLot
from farms.selectors import lots_admitted_at
from marketplace.markets.selectors.lots import lots_traded_at

from ..choices import TrailStep
from ..epcis import identifiers as ids
from ..epcis.events import KEY_FORMAT, Event, backward_events, lot_epc_class, time_key
from ..epcis.forward import (
    DELIVERY,
    PACKING,
    add_sensor_data,
    events_from_rows,
    legs_of,
    trail_rows,
)
from ..epcis.journey import event_order, events_of_shipment
from ..epcis.query import EventQuery, one_page
from ..models import (
    CapturedEvent,
    Certificate,
    LaboratoryResult,
    LotTrailEntry,
    MarketEntry,
    PartnerSystem,
    RapidTest,
)
from .journey import lots_with_journey_visible_to

BATCH = 500
TRAIL_STEP_OF_KIND = {
    "order_line": TrailStep.MARKETPLACE_ORDER_LINE,
    "trade": TrailStep.MARKET_TRADE,
    "shipping": TrailStep.SHIPMENT,
    "receiving": TrailStep.SHIPMENT,
    "receipt": TrailStep.STOCK_RECEIPT,
    "consumer_sale": TrailStep.CONSUMER_ORDER_LINE,
    "packing": TrailStep.CONSUMER_ORDER_LINE,
    "consumer_delivery": TrailStep.CONSUMER_ORDER_LINE,
}
ROW_KIND = {**TRAIL_STEP_OF_KIND, "packing": PACKING, "consumer_delivery": DELIVERY}


def lots_for_partner(partner: PartnerSystem) -> QuerySet[HarvestLot]:
    lots = HarvestLot.objects.select_related("product", "farm__cooperative")
    if not partner.may_query or partner.revoked_at is not None:
        return lots.none()
    if partner.cooperative_id is not None:
        lots = lots.filter(farm__cooperative_id=partner.cooperative_id)
    if partner.market_id is not None:
        markets = [partner.market_id]
        lots = lots.filter(Q(pk__in=lots_traded_at(markets)) | Q(pk__in=lots_admitted_at(markets)))
    return lots


def lots_with_events_visible_to(
    user: User, partner: PartnerSystem | None = None
) -> QuerySet[HarvestLot]:
    """The lots whose EPCIS events the caller may read (a partner system's key, else the
    person)."""
    if partner is not None:
        return lots_for_partner(partner)
    return lots_with_journey_visible_to(user)


def _lot_codes_named(identifiers: list[str]) -> set[str] | None:
    """The lot codes the identifiers name when every one names one of our lots (by LGTIN or
    our URI), else None (no narrowing)."""
    codes = set()
    base = ids.site_url() + "/epcis/lots/"
    for identifier in identifiers:
        if identifier.startswith(base):
            code = identifier[len(base) :]
        elif identifier.startswith(ids.GS1_RESOLVER + "/01/") and "/10/" in identifier:
            code = identifier.split("/10/", 1)[1].split("/", 1)[0]
        else:
            return None
        if code.endswith("*"):
            return None
        codes.add(unquote(code))
    return codes or None


def _captured(lots: QuerySet[HarvestLot], query: EventQuery) -> Iterator[Event]:
    """The partners' events about these lots in (time, eventID) order, after the query's
    keyset, in its time window and of its types, read a batch at a time."""
    rows = CapturedEvent.objects.filter(lot__in=lots.values("pk")).annotate(
        ordered_id=Collate("event_id", "C")
    )
    if query.event_types:
        rows = rows.filter(event_type__in=query.event_types)
    if query.since is not None:
        rows = rows.filter(event_time__gte=_moment(query.since))
    if query.before is not None:
        rows = rows.filter(event_time__lt=_moment(query.before))
    rows = rows.order_by("event_time", "ordered_id")
    after = query.after
    while True:
        batch = rows
        if after is not None:
            moment = _moment(after[0])
            batch = batch.filter(
                Q(event_time__gt=moment) | Q(event_time=moment, ordered_id__gt=after[1])
            )
        found = list(batch.only("event_id", "event_time", "event")[:BATCH])
        for row in found:
            yield time_key(row.event_time), row.event_id, row.event
        if len(found) < BATCH:
            return
        after = time_key(found[-1].event_time), found[-1].event_id


def _moment(key: str) -> datetime:
    return datetime.strptime(key, KEY_FORMAT).replace(tzinfo=UTC)


def _forward(lot_ids: list[int], classes: dict[int, str], query: EventQuery) -> Iterator[Event]:
    """The lots' one-row events (orders, trades, receipts, consumer sales) in (time, eventID)
    order, after the query's keyset, in its window and of its steps, a batch at a time."""
    after = None if query.after is None else (_moment(query.after[0]), query.after[1])
    since = None if query.since is None else _moment(query.since)
    before = None if query.before is None else _moment(query.before)
    while True:
        rows = trail_rows(
            lot_ids,
            biz_steps=query.biz_steps,
            event_types=query.event_types,
            since=since,
            before=before,
            after=after,
            limit=BATCH,
        )
        events = events_from_rows(rows, classes)
        yield from events
        if len(rows) < BATCH:
            return
        after = _moment(events[-1][0]), events[-1][1]


def query_events(lots: QuerySet[HarvestLot], query: EventQuery) -> tuple[list[Event], str | None]:
    """One page of the events of these lots the query keeps, and the next page's token: the
    few events of each lot read by record (harvest, certificates, gate checks, cold legs),
    merged in order with the trail's and the partners', which are read from their tables a
    batch at a time from the query's keyset on."""
    # Our own events name only their lot, so a query naming lots reads only those; a
    # partner's event may name other lots than the one it is kept under: all are read.
    codes = _lot_codes_named(query.named_identifiers())
    named = lots.filter(lot_code__in=codes) if codes is not None else lots
    chosen = list(named.order_by("pk"))
    classes = {lot.pk: lot_epc_class(lot) for lot in chosen}
    lot_ids = list(classes)
    few: list[Event] = legs_of(lot_ids=lot_ids, classes=classes, sensors=False) if lot_ids else []
    for lot in chosen:
        few += backward_events(lot)
    few = [event for event in few if query.keeps(event)]
    few.sort(key=event_order)
    merged = heapq.merge(
        few,
        _forward(lot_ids, classes, query) if lot_ids else iter(()),
        _captured(lots, query),
        key=event_order,
    )
    page, token = one_page(query, merged)
    add_sensor_data(page)
    return page, token


def lot_of_event(event_id: str) -> int | None:
    """The lot one of our own event IDs is about (None for an ID that is not ours)."""
    parsed = ids.parse_event_id(event_id)
    if parsed is None:
        return None
    kind, pk = parsed
    if kind == "harvest":
        return pk
    if kind == "certificate":
        return Certificate.objects.filter(pk=pk).values_list("lot_id", flat=True).first()
    if kind == "market_entry":
        return MarketEntry.objects.filter(pk=pk).values_list("lot_id", flat=True).first()
    if kind == "rapid_test":
        return RapidTest.objects.filter(pk=pk).values_list("entry__lot_id", flat=True).first()
    if kind == "laboratory":
        return (
            LaboratoryResult.objects.filter(pk=pk).values_list("entry__lot_id", flat=True).first()
        )
    step = TRAIL_STEP_OF_KIND.get(kind)
    if step is None:
        return None
    return (
        LotTrailEntry.objects.filter(step=step, source_id=pk)
        .values_list("lot_id", flat=True)
        .first()
    )


def event_named(lots: QuerySet[HarvestLot], event_id: str) -> Event | None:
    """The event with this ID about one of these lots, or None. One of ours is derived
    again from its own record alone."""
    captured = CapturedEvent.objects.filter(event_id=event_id, lot__in=lots.values("pk")).first()
    if captured is not None:
        return time_key(captured.event_time), captured.event_id, captured.event
    lot_id = lot_of_event(event_id)
    lot = lots.filter(pk=lot_id).first() if lot_id is not None else None
    parsed = ids.parse_event_id(event_id)
    if lot is None or parsed is None:
        return None
    kind, pk = parsed
    classes = {lot.pk: lot_epc_class(lot)}
    if kind in ("shipping", "receiving"):
        on_board = LotTrailEntry.objects.filter(step=TrailStep.SHIPMENT, source_id=pk)
        shipments = set(on_board.values_list("record_id", flat=True))
        found = legs_of(lot_ids=[lot.pk], classes=classes, shipment_ids=shipments)
    elif kind in TRAIL_STEP_OF_KIND:
        rows = trail_rows([lot.pk], source=(ROW_KIND[kind], pk))
        found = events_from_rows(rows, classes)
    else:
        found = backward_events(lot)
    return next((event for event in found if event[1] == event_id), None)


def shipment_events_visible(lots: QuerySet[HarvestLot], shipment_id: int) -> list[Event] | None:
    """The shipment's shipping and receiving events for the lots it carried that the caller
    may see; None when it carried none of them."""
    on_board = LotTrailEntry.objects.filter(step=TrailStep.SHIPMENT, record_id=shipment_id)
    carried = list(lots.filter(pk__in=on_board.values("lot_id")).order_by("pk"))
    if not carried:
        return None
    return events_of_shipment(shipment_id, carried)


def shipment_code(shipment_id: int) -> str:
    """The shipment's code as its trail rows carry it (its id when it carried nothing)."""
    code = (
        LotTrailEntry.objects.filter(step=TrailStep.SHIPMENT, record_id=shipment_id)
        .values_list("reference", flat=True)
        .first()
    )
    return code or str(shipment_id)
