"""A lot's journey as EPCIS 2.0 events, derived from the records the apps keep (never stored
twice), plus what partners reported about it (kept as they sent it).

Each event is carried as `(key, eventID, event)`: the key is the event's time in UTC to the
microsecond, fixed width, so keys sort as times do and (key, eventID) orders every event
(the query's keyset); the event is the EPCIS JSON as it goes out.

Backward (read here): the harvest and each valid certificate (ObjectEvent ADD,
`commissioning`), each market entry (OBSERVE, `receiving`, disposition from the gate's
outcome), each rapid test and laboratory result (OBSERVE, `inspecting`, `conformant` or
`non_conformant`). Forward: traceability.epcis.forward, from the lot's trail.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, time

from common.dates import BUSINESS_TIME_ZONE
from farms.models import HarvestLot

from ..codes import trace_url
from ..models import CapturedEvent, MarketEntry
from ..models.gate import EntryOutcome, LaboratoryOutcome
from . import identifiers as ids

Event = tuple[str, str, dict]  # (time key, eventID, the event's JSON)

OFFSET = "+08:00"  # the business time zone's offset (Asia/Shanghai keeps no summer time)
KEY_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

ENTRY_DISPOSITION: dict[str, str] = {
    EntryOutcome.ADMITTED: "sellable_accessible",
    EntryOutcome.CLEARED_BY_LABORATORY: "sellable_accessible",
    EntryOutcome.AWAITING_RAPID_TEST: "sellable_not_accessible",
    EntryOutcome.HELD: "non_sellable_other",
    EntryOutcome.CONFIRMED_POSITIVE: "non_conformant",
}


def time_key(moment: datetime) -> str:
    """A moment as the events' sort key: UTC, to the microsecond, fixed width."""
    return moment.astimezone(UTC).strftime(KEY_FORMAT)


def event_time(key: str) -> str:
    """The eventTime of a key: the same moment to the millisecond."""
    return key[:23] + "Z"


def quantity(epc_class: str, kg) -> list[dict]:
    return [{"epcClass": epc_class, "quantity": float(kg), "uom": "KGM"}]


def lot_epc_class(lot: HarvestLot) -> str:
    return ids.lot_class(gtin=lot.product.gtin, lot_code=lot.lot_code)


def _event(kind: str, pk: int, moment: datetime, **fields) -> Event:
    key = time_key(moment)
    event_id = ids.event_id(kind, pk)
    return (
        key,
        event_id,
        {
            "type": "ObjectEvent",
            "eventTime": event_time(key),
            "eventTimeZoneOffset": OFFSET,
            "eventID": event_id,
            **fields,
        },
    )


def harvest_event(lot: HarvestLot, epc_class: str) -> Event:
    cooperative = ids.location_of("cooperative", lot.farm.cooperative)
    return _event(
        "harvest",
        lot.pk,
        datetime.combine(lot.harvest_date, time(8), tzinfo=BUSINESS_TIME_ZONE),
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        epcList=[],
        quantityList=quantity(epc_class, lot.quantity_kg),
        readPoint={"id": cooperative},
        bizLocation={"id": cooperative},
    )


def certificate_events(lot: HarvestLot, epc_class: str) -> list[Event]:
    """Each valid certificate (a revoked one certifies nothing), with its public trace page
    as certificationInfo."""
    cooperative = ids.location_of("cooperative", lot.farm.cooperative)
    certificates = lot.certificates.select_related("trace_code").filter(revoked_at__isnull=True)
    return [
        _event(
            "certificate",
            certificate.pk,
            datetime.combine(certificate.issued_on, time(9), tzinfo=BUSINESS_TIME_ZONE),
            action="ADD",
            bizStep="commissioning",
            disposition="active",
            epcList=[],
            quantityList=quantity(epc_class, certificate.quantity_kg),
            readPoint={"id": cooperative},
            certificationInfo=trace_url(
                code=certificate.trace_code.code, gtin=lot.product.gtin or "", lot_code=lot.lot_code
            ),
        )
        for certificate in certificates.order_by("issued_on", "pk")
    ]


def gate_events(lot: HarvestLot, epc_class: str) -> list[Event]:
    """Each market entry (receiving), rapid test and laboratory result (inspecting)."""
    events = []
    entries = (
        MarketEntry.objects.filter(lot=lot)
        .select_related("market", "certificate")
        .prefetch_related("rapid_tests", "laboratory_results")
        .order_by("arrived_at", "id")
    )
    for entry in entries:
        market = {"id": ids.location_of("market", entry.market)}
        entry_fields: dict[str, object] = {
            "action": "OBSERVE",
            "bizStep": "receiving",
            "disposition": ENTRY_DISPOSITION.get(entry.outcome, "in_progress"),
            "epcList": [],
            "readPoint": market,
            "bizLocation": market,
        }
        if entry.certificate is not None:
            entry_fields["quantityList"] = quantity(epc_class, entry.certificate.quantity_kg)
        else:
            entry_fields["quantityList"] = [{"epcClass": epc_class}]
        events.append(_event("market_entry", entry.pk, entry.arrived_at, **entry_fields))
        checks = [
            ("rapid_test", test.pk, test.tested_at, not test.is_positive)
            for test in entry.rapid_tests.all()
        ] + [
            (
                "laboratory",
                result.pk,
                result.recorded_at,
                result.outcome == LaboratoryOutcome.CLEARED,
            )
            for result in entry.laboratory_results.all()
        ]
        events.extend(
            _event(
                kind,
                pk,
                moment,
                action="OBSERVE",
                bizStep="inspecting",
                disposition="conformant" if passed else "non_conformant",
                epcList=[],
                quantityList=[{"epcClass": epc_class}],
                readPoint=market,
                bizLocation=market,
            )
            for kind, pk, moment, passed in checks
        )
    return events


def captured_events(rows: Iterable[CapturedEvent]) -> list[Event]:
    """Partners' events as they sent them."""
    return [(time_key(row.event_time), row.event_id, row.event) for row in rows]


def backward_events(lot: HarvestLot) -> list[Event]:
    epc_class = lot_epc_class(lot)
    return [
        harvest_event(lot, epc_class),
        *certificate_events(lot, epc_class),
        *gate_events(lot, epc_class),
    ]
