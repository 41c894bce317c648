"""EPCIS 2.0 documents for the capture tests, built as GS1 defines them, and the identifiers
of our lots in each form the capture reads."""

import json
from datetime import datetime
from pathlib import Path

from traceability.epcis.lot_refs import platform_lot_uri

STANDARDS = Path("/work/shared/standards/epcis")
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
SGLN_MARKET = "urn:epc:id:sgln:6901234.00001.0"
SGLN_COLD_STORE = "urn:epc:id:sgln:6901234.00002.0"
SGLN_WAREHOUSE = "urn:epc:id:sgln:6901234.00003.0"


def digital_link(lot) -> str:
    return f"https://id.gs1.org/01/{lot.product.gtin.zfill(14)}/10/{lot.lot_code}"


def lgtin(lot) -> str:
    """urn:epc:class:lgtin: with a 7-digit company prefix (indicator digit moved after it)."""
    gtin = lot.product.gtin.zfill(14)
    return f"urn:epc:class:lgtin:{gtin[1:8]}.{gtin[0]}{gtin[8:13]}.{lot.lot_code}"


def platform_uri(lot) -> str:
    return platform_lot_uri(lot.lot_code)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def object_event(
    uri: str,
    at: datetime,
    *,
    biz_step: str = "receiving",
    quantity=100,
    uom="KGM",
    event_id: str | None = None,
    **extra,
) -> dict:
    event = {
        "type": "ObjectEvent",
        "eventTime": iso(at),
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "bizStep": biz_step,
        "quantityList": [{"epcClass": uri, "quantity": quantity, "uom": uom}],
        **extra,
    }
    if event_id is not None:
        event["eventID"] = event_id
    return event


def document(*events: dict, at: datetime) -> dict:
    return {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": iso(at),
        "epcisBody": {"eventList": list(events)},
    }


def example(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def examples() -> list[Path]:
    return sorted((STANDARDS / "examples-official").glob("*.jsonld")) + sorted(
        (STANDARDS / "examples").glob("*.jsonld")
    )
