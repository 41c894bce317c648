"""EPCIS 2.0 documents: the EPCISDocument an export or a single event answers with, the
EPCISQueryDocument a query answers with, and their bytes (orjson: a hundred thousand events
serialise in a fraction of a second)."""

from collections.abc import Iterable

import orjson
from django.utils import timezone

from .events import Event, event_time, time_key

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
MEDIA_TYPE = "application/ld+json"


def _header(kind: str) -> dict:
    return {
        "@context": [EPCIS_CONTEXT],
        "type": kind,
        "schemaVersion": "2.0",
        "creationDate": event_time(time_key(timezone.now())),
    }


def epcis_document(events: Iterable[Event]) -> dict:
    return {**_header("EPCISDocument"), "epcisBody": {"eventList": [e[2] for e in events]}}


def query_document(events: Iterable[Event]) -> dict:
    return {
        **_header("EPCISQueryDocument"),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": [e[2] for e in events]},
            }
        },
    }


def rendered(document: dict) -> bytes:
    return orjson.dumps(document)
