"""GS1's own EPCIS 2.0 examples (examples-official/ and examples/ of the standard's repository)
sent to POST /epcis/capture.

The test registers what the examples name, so they are our lots: for each LGTIN or Digital
Link with a lot, a product with that GTIN and a lot with that lot code (in the partner's
co-operative). An example's SGTINs and Digital Links of single items (`/01/<gtin>/21/<serial>`)
name no lot; those identifiers only are rewritten, to the Digital Link of a lot registered for
the same GTIN with the same serial (`/01/<gtin>/10/EX<gtin>/21/<serial>`). Nothing else of an
example is changed.

Examples whose events name no product at all (returnable assets, individual assets, a
service relation, sensor data alone) are refused, each such event with "names none of our
lots". Every example loses its first event's eventTime in the second test: the schema's error.
"""

import re

import pytest

from farms.models import HarvestLot, Product
from farms.models.catalogue import gtin_check_digit
from tests.farms.factories import HarvestLotFactory, ProductFactory
from traceability.epcis.lot_refs import identifiers_of, lot_ref_of
from traceability.models import CapturedEvent, CaptureJob
from traceability.services.epcis_capture import events_of

from .documents import example, examples

pytestmark = pytest.mark.django_db

SGTIN = re.compile(r"^urn:epc:id:sgtin:(?P<prefix>[0-9]+)\.(?P<item>[0-9]+)\.(?P<serial>.+)$")
ITEM_LINK = re.compile(r"^(?P<host>https?://[^/]+)/01/(?P<gtin>[0-9]{14})/21/(?P<serial>[^/]+)$")

# Events naming no product (GRAI, GIAI, GSRN, a logger's own identifier, no EPC at all).
NO_PRODUCT = {
    "AssociationEvent__AssociationEvent-a.jsonld": [0],
    "AssociationEvent__AssociationEvent-b.jsonld": [0],
    "AssociationEvent__AssociationEvent-c.jsonld": [0],
    "AssociationEvent__AssociationEvent-d.jsonld": [0],
    "AssociationEvent__AssociationEvent-g.jsonld": [0],
    "AssociationEvent__AssociationEvent-h.jsonld": [0],
    "Example-TransactionEvents-2020_07_03y.jsonld": [0, 1],
    "SensorDataExample14.jsonld": [0],
    "SensorDataExample15.jsonld": [0],
    "SensorDataExample16.jsonld": [0],
    "SensorDataExample1b.jsonld": [0],
    "SensorDataExample3.jsonld": [0],
}


def _lot(farm, gtin: str, lot_code: str) -> HarvestLot:
    product = Product.objects.filter(gtin=gtin).first() or ProductFactory(gtin=gtin)
    found = HarvestLot.objects.filter(lot_code=lot_code).select_related("product").first()
    if found is not None and found.product_id == product.pk:
        return found
    if found is not None:  # lot codes are unique here: the same code with another GTIN
        lot_code = f"{lot_code}-{gtin[-5:]}"
    return HarvestLotFactory(farm=farm, product=product, lot_code=lot_code)


def _registered(document: dict, farm) -> dict:
    """Register the lots the example names; rewrite what names a single item, or a lot code
    we had to change. Returns the document with those identifiers rewritten."""
    rewritten: dict[str, str] = {}
    for event in events_of(document):
        for uri in identifiers_of(event):
            ref = lot_ref_of(uri)
            if ref is not None:
                lot = _lot(farm, ref.gtin, ref.lot_code)
                if lot.lot_code != ref.lot_code:
                    rewritten[uri] = f"https://id.gs1.org/01/{ref.gtin}/10/{lot.lot_code}"
                continue
            item = SGTIN.match(uri)
            if item:
                body = item["item"][0] + item["prefix"] + item["item"][1:]
                gtin, serial, host = (
                    body + gtin_check_digit(body),
                    item["serial"],
                    "https://id.gs1.org",
                )
            elif found := ITEM_LINK.match(uri):
                gtin, serial, host = found["gtin"], found["serial"], found["host"]
            else:
                continue
            lot = _lot(farm, gtin, f"EX{gtin}")
            rewritten[uri] = f"{host}/01/{gtin}/10/{lot.lot_code}/21/{serial}"
    return _replace(document, rewritten)


def _replace(value, rewritten: dict):
    if isinstance(value, dict):
        return {key: _replace(item, rewritten) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, rewritten) for item in value]
    return rewritten.get(value, value) if isinstance(value, str) else value


@pytest.mark.parametrize("path", examples(), ids=lambda path: path.name)
def test_gs1_examples_are_accepted_when_they_name_our_lots(path, farm, packing_line, send):
    _partner, key = packing_line
    document = _registered(example(path), farm)

    response = send(key, document)

    assert response.status_code == 202, response.json()
    body = response.json()
    refused = NO_PRODUCT.get(path.name)
    if refused is None:
        assert body["success"] is True, body["errors"]
        assert CapturedEvent.objects.count() == len(events_of(document))
    else:
        assert body["success"] is False
        assert [e["eventIndex"] for e in body["errors"]] == refused
        assert {e["title"] for e in body["errors"]} == {"The event names none of our lots."}
        assert CapturedEvent.objects.count() == 0


@pytest.mark.parametrize("path", examples(), ids=lambda path: path.name)
def test_gs1_examples_without_event_time_get_the_schemas_error(path, farm, packing_line, send):
    _partner, key = packing_line
    document = _registered(example(path), farm)
    del events_of(document)[0]["eventTime"]

    response = send(key, document)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(
        (e["eventIndex"], e["field"], e["title"])
        == (0, "eventTime", "'eventTime' is a required property")
        for e in errors
    )
    assert CaptureJob.objects.count() == 0
    assert CapturedEvent.objects.count() == 0
