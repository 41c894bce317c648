"""Partners' events on the lot's journey: the public trace page, its JSON twin and the
signed-in journey page show each as "<step> · reported by <partner>", with its time and place;
nothing personal a partner sent is shown.

`exported_journey_document` below is another system's export of a journey, written by hand in
the shape GS1 defines (GS1 identifiers, SGLN places). The round trip through FreshChain's own
export is tests/traceability/journey/test_epcis_round_trip.py.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from traceability.choices import TraceCodeKind
from traceability.services.codes import issue_trace_code

from .documents import (
    SGLN_COLD_STORE,
    SGLN_MARKET,
    SGLN_WAREHOUSE,
    digital_link,
    document,
    iso,
    object_event,
)

pytestmark = pytest.mark.django_db

ORIGIN = "https://origin.freshchain.example"  # the first database's SITE_URL


def _sensor(start, end, low, high, mean) -> list:
    return [
        {
            "sensorMetadata": {"startTime": iso(start), "endTime": iso(end)},
            "sensorReport": [
                {"type": "Temperature", "minValue": low, "uom": "CEL"},
                {"type": "Temperature", "maxValue": high, "uom": "CEL"},
                {"type": "Temperature", "meanValue": mean, "uom": "CEL"},
            ],
        }
    ]


def exported_journey_document(lot, start) -> dict:
    """The lot's journey as the first database exports it: harvest, trade, a cold leg's
    shipping and receiving with its temperature summary, warehouse receipt, delivery."""
    uri = digital_link(lot)
    hours = [start + timedelta(hours=n) for n in range(7)]
    events = [
        object_event(
            uri,
            hours[0],
            biz_step="commissioning",
            action="ADD",
            event_id=f"{ORIGIN}/epcis/events/harvest-{lot.lot_code}",
            disposition="active",
        ),
        {
            "type": "TransactionEvent",
            "eventID": f"{ORIGIN}/epcis/events/trade-1",
            "eventTime": iso(hours[1]),
            "eventTimeZoneOffset": "+08:00",
            "action": "ADD",
            "bizLocation": {"id": SGLN_MARKET},
            "bizTransactionList": [{"type": "inv", "bizTransaction": f"{ORIGIN}/trades/1"}],
            "quantityList": [{"epcClass": uri, "quantity": 60, "uom": "KGM"}],
        },
        object_event(
            uri,
            hours[2],
            biz_step="shipping",
            quantity=60,
            event_id=f"{ORIGIN}/epcis/events/ship-1",
            disposition="in_transit",
            bizLocation={"id": SGLN_MARKET},
            sensorElementList=_sensor(hours[2], hours[3], 2.1, 6.4, 4.0),
        ),
        object_event(
            uri,
            hours[3],
            biz_step="receiving",
            quantity=60,
            event_id=f"{ORIGIN}/epcis/events/receive-1",
            disposition="in_progress",
            bizLocation={"id": SGLN_COLD_STORE},
            sensorElementList=_sensor(hours[2], hours[3], 2.1, 6.4, 4.0),
        ),
        object_event(
            uri,
            hours[4],
            biz_step="storing",
            quantity=60,
            event_id=f"{ORIGIN}/epcis/events/stock-1",
            bizLocation={"id": SGLN_WAREHOUSE},
        ),
        object_event(
            uri,
            hours[5],
            biz_step="retail_selling",
            quantity=2.5,
            event_id=f"{ORIGIN}/epcis/events/delivery-1",
            disposition="retail_sold",
            bizLocation={"id": SGLN_WAREHOUSE},
        ),
    ]
    return document(*events, at=hours[6])


def _shanghai(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def test_a_partners_journey_document_shows_on_the_trace_page_step_by_step(
    packing_line, our_lot, send, client
):
    """A document shaped as another system exports a journey (GS1 identifiers, SGLN places);
    the round trip through our own export is tests/traceability/journey/test_epcis_round_trip."""
    partner, key = packing_line
    start = timezone.now().replace(microsecond=0) - timedelta(days=2)
    sent = exported_journey_document(our_lot, start)

    response = send(key, sent)

    assert response.json()["success"] is True, response.json()
    page = client.get(
        f"/01/{our_lot.product.gtin}/10/{our_lot.lot_code}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 200
    text = page.content.decode()
    expected = [
        ("Commissioned", 0, ""),
        ("Trade recorded", 1, SGLN_MARKET),
        ("Shipped", 2, SGLN_MARKET),
        ("Received", 3, SGLN_COLD_STORE),
        ("Stored", 4, SGLN_WAREHOUSE),
        ("Sold at retail", 5, SGLN_WAREHOUSE),
    ]
    positions = []
    for step, hour, place in expected:
        title = f"{step} · reported by {partner.name}"
        assert title in text
        positions.append(text.index(title))
        assert _shanghai(start + timedelta(hours=hour)) in text
        assert place in text
    assert positions == sorted(positions)  # in the journey's order


def test_the_json_twin_and_the_journey_page_show_them_too(
    packing_line, our_lot, send, client, manager
):
    partner, key = packing_line
    start = timezone.now().replace(microsecond=0) - timedelta(days=2)
    send(key, exported_journey_document(our_lot, start))
    code = issue_trace_code(lot=our_lot, kind=TraceCodeKind.MARKET_ENTRY)

    twin = client.get(f"/api/trace/public/{code.code}/", HTTP_ACCEPT_LANGUAGE="en").json()
    reported = [s for s in twin["steps"] if s["kind"] == "partner_event"]
    assert [s["title"] for s in reported][2:4] == [
        f"Shipped · reported by {partner.name}",
        f"Received · reported by {partner.name}",
    ]
    assert reported[3]["place"] == SGLN_COLD_STORE

    client.force_login(manager)
    journey = client.get(f"/trace/lots/{our_lot.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    text = journey.content.decode()
    assert f"Received · reported by {partner.name}" in text
    assert "ObjectEvent · in progress · 2.1–6.4 °C reported" in text


def test_nothing_personal_a_partner_sent_is_shown(packing_line, our_lot, send, client):
    partner, key = packing_line
    at = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    event = object_event(
        digital_link(our_lot),
        at,
        biz_step="retail_selling",
        bizLocation={"id": "urn:example:home:wang-xiaoming:13800138000"},
        readPoint={"id": "urn:example:door:wangjing-xiyuan-3"},
        destinationList=[
            {"type": "owning_party", "destination": "urn:example:consumer:wang-xiaoming"}
        ],
    )
    event["example:note"] = "王小明 13800138000"
    sent = document(event, at=at)
    sent["@context"].append({"example": "https://example.com/epcis/"})
    assert send(key, sent).json()["success"] is True
    code = issue_trace_code(lot=our_lot, kind=TraceCodeKind.MARKET_ENTRY)

    page = client.get(f"/t/{code.code}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    twin = client.get(f"/api/trace/public/{code.code}/").content.decode()

    assert f"Sold at retail · reported by {partner.name}" in page
    for text in (page, twin):
        assert "王小明" not in text
        assert "13800138000" not in text
        assert "wang-xiaoming" not in text
        assert "wangjing-xiyuan" not in text


def test_a_refused_document_adds_no_step(packing_line, our_lot, send, client):
    partner, key = packing_line
    at = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    send(
        key,
        document(object_event(digital_link(our_lot), at, biz_step="shipping", quantity=-1), at=at),
    )

    page = client.get(
        f"/01/{our_lot.product.gtin}/10/{our_lot.lot_code}", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert f"reported by {partner.name}" not in page.content.decode()


def test_the_trace_page_shows_new_events_at_once(
    packing_line, our_lot, send, client, django_capture_on_commit_callbacks
):
    """The page's few minutes of cache are dropped for the lots a document reports on."""
    partner, key = packing_line
    path = f"/01/{our_lot.product.gtin}/10/{our_lot.lot_code}"
    assert "reported by" not in client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    at = timezone.now().replace(microsecond=0) - timedelta(hours=3)

    with django_capture_on_commit_callbacks(execute=True):
        send(key, document(object_event(digital_link(our_lot), at, biz_step="shipping"), at=at))

    page = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Shipped · reported by {partner.name}" in page


def test_the_trace_page_says_it_in_chinese_too(packing_line, our_lot, send, client):
    partner, key = packing_line
    at = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    send(key, document(object_event(digital_link(our_lot), at, biz_step="shipping"), at=at))

    page = client.get(
        f"/01/{our_lot.product.gtin}/10/{our_lot.lot_code}", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert f"发运 · 由 {partner.name} 上报" in page.content.decode()
