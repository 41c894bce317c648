"""Bad documents: each refused whole with every error listed (its event and field), nothing
stored: the schema's errors (400), our rules' (a failed job), malformed JSON, another content
type."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from traceability.models import CapturedEvent, CaptureJob
from traceability.services.epcis_capture import CAPTURE_UNITS, MAX_EVENTS

from .documents import digital_link, document, lgtin, object_event

pytestmark = pytest.mark.django_db


def _at():
    return timezone.now().replace(microsecond=0) - timedelta(hours=1)


def _nothing_stored() -> bool:
    return CapturedEvent.objects.count() == 0


def test_negative_quantity_unknown_unit_and_future_time_are_all_listed(packing_line, our_lot, send):
    _partner, key = packing_line
    at = _at()
    sent = document(
        object_event(digital_link(our_lot), at),  # fine, but the document is refused whole
        object_event(digital_link(our_lot), at, quantity=-5),
        object_event(lgtin(our_lot), at, quantity=0, uom="LTR"),
        object_event(lgtin(our_lot), timezone.now() + timedelta(hours=1)),
        at=at,
    )

    response = send(key, sent)

    assert response.status_code == 202
    body = response.json()
    assert body["success"] is False
    assert [(e["eventIndex"], e["field"], e["title"]) for e in body["errors"]] == [
        (1, "quantityList/0/quantity", "Enter a quantity above 0."),
        (2, "quantityList/0/quantity", "Enter a quantity above 0."),
        (2, "quantityList/0/uom", f"Unknown unit LTR: use one of {', '.join(CAPTURE_UNITS)}."),
        (3, "eventTime", "The event's time is in the future."),
    ]
    assert all(e["type"] == "epcisException:ValidationException" for e in body["errors"])
    assert _nothing_stored()


def test_a_few_minutes_of_clock_skew_are_allowed(packing_line, our_lot, send):
    _partner, key = packing_line
    soon = timezone.now() + timedelta(minutes=2)

    response = send(key, document(object_event(digital_link(our_lot), soon), at=soon))

    assert response.json()["success"] is True


@pytest.mark.parametrize("unit", ["KGM", "GRM", "TNE", "LBR"])
def test_each_mass_unit_is_known(unit, packing_line, our_lot, send):
    _partner, key = packing_line

    response = send(key, document(object_event(lgtin(our_lot), _at(), uom=unit), at=_at()))

    assert response.json()["success"] is True


def test_a_quantity_without_unit_counts_items(packing_line, our_lot, send):
    _partner, key = packing_line
    event = object_event(lgtin(our_lot), _at())
    del event["quantityList"][0]["uom"]

    response = send(key, document(event, at=_at()))

    assert response.json()["success"] is True


def test_schema_errors_are_all_listed_with_400_and_no_job(packing_line, our_lot, send):
    _partner, key = packing_line
    first = object_event(digital_link(our_lot), _at())
    del first["eventTime"]
    second = object_event("not a uri", _at())
    second["action"] = "SHOUT"

    response = send(key, document(first, second, at=_at()))

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "epcisException:ValidationException"
    found = {(e["eventIndex"], e["field"]) for e in body["errors"]}
    assert {(0, "eventTime"), (1, "action"), (1, "quantityList/0/epcClass")} <= found
    assert any("'eventTime' is a required property" in e["title"] for e in body["errors"])
    assert CaptureJob.objects.count() == 0
    assert _nothing_stored()


def test_malformed_json_is_refused(packing_line, send):
    _partner, key = packing_line

    response = send(key, '{"type": "EPCISDocument", ')

    assert response.status_code == 400
    assert response.json()["errors"][0]["title"].startswith("The body is not JSON")
    assert CaptureJob.objects.count() == 0


def test_another_content_type_is_refused(packing_line, our_lot, send):
    _partner, key = packing_line
    sent = json.dumps(document(object_event(digital_link(our_lot), _at()), at=_at()))

    response = send(key, sent, content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["type"] == "epcisException:UnsupportedMediaTypeException"
    assert CaptureJob.objects.count() == 0


def test_only_rollback_is_supported(packing_line, our_lot, send):
    _partner, key = packing_line
    sent = document(object_event(digital_link(our_lot), _at()), at=_at())

    response = send(key, sent, HTTP_GS1_CAPTURE_ERROR_BEHAVIOUR="proceed")

    assert response.status_code == 400
    assert _nothing_stored()


def test_errors_are_translated(packing_line, our_lot, send):
    _partner, key = packing_line
    sent = document(object_event(digital_link(our_lot), _at(), quantity=-1), at=_at())

    response = send(key, sent, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.json()["errors"][0]["title"] == "请输入大于 0 的数量。"


def test_more_events_than_the_limit_are_refused_before_anything(packing_line, our_lot, send):
    _partner, key = packing_line
    event = object_event(digital_link(our_lot), _at())

    response = send(key, document(*[event] * (MAX_EVENTS + 1), at=_at()))

    assert response.status_code == 413
    assert response.json()["type"] == "epcisException:CaptureLimitExceededException"
    assert response.json()["title"] == f"Send at most {MAX_EVENTS} events in one document."
    assert CaptureJob.objects.count() == 0


def test_discovery_says_the_limit(packing_line, api_client):
    _partner, key = packing_line

    response = api_client.options("/epcis/capture", HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 204
    assert response["GS1-EPCIS-Capture-Limit"] == str(MAX_EVENTS)
    assert response["GS1-Capture-Error-Behaviour"] == "rollback"
