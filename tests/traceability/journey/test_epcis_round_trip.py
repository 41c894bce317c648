"""Round trip: a lot's journey exported by one FreshChain as one EPCIS document (the real
download) and captured by another (the real capture interface, with a partner key)
reproduces the journey on the second one's trace page, step for step, in order.

Both platforms are this one test database. The exporting platform answers on ORIGIN
(SITE_URL), the receiving one on its own address; the receiving platform knows the goods as
its own lot, recorded by the receiving co-operative. Lot codes are unique in one database, so
the receiver's lot has another code, and the document's lot identifier is the one thing
changed on the way: each platform names the lot as it registered it."""

import json

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.accounts.factories import UserFactory
from tests.farms.factories import HarvestLotFactory
from traceability.choices import TraceCodeKind
from traceability.epcis.identifiers import lot_class
from traceability.epcis.partners import issue_partner_key
from traceability.epcis.schema import schema_errors
from traceability.models import CapturedEvent
from traceability.selectors.epcis_partners import biz_step_label
from traceability.services.codes import issue_trace_code

ORIGIN = "https://origin.example.cn"
pytestmark = pytest.mark.django_db


def _exported(client, manager, lot) -> dict:
    client.force_login(manager)
    with override_settings(SITE_URL=ORIGIN):
        answer = client.get(reverse("traceability:lot_epcis", args=[lot.pk]))
    client.logout()
    assert answer.status_code == 200
    document = answer.json()
    assert schema_errors(document) == []
    return document


def _title(event: dict, partner: str) -> str:
    step = biz_step_label(event["bizStep"]) if event.get("bizStep") else "Trade recorded"
    return f"{step} · reported by {partner}"


def test_an_exported_journey_captured_elsewhere_shows_on_its_trace_page(
    journey_world, manager, other_farm, api_client, client
):
    document = _exported(client, manager, journey_world.lot)
    sent_events = document["epcisBody"]["eventList"]
    assert len(sent_events) >= 8  # harvest to the consumer's door
    with override_settings(SITE_URL=ORIGIN):
        theirs = lot_class(gtin=journey_world.lot.product.gtin, lot_code="SG-TOM-0001")
    assert theirs in json.dumps(sent_events)
    # The receiving platform's record of the same goods, in the receiving co-operative.
    ours = HarvestLotFactory(farm=other_farm, product=journey_world.lot.product, lot_code="RT-1")
    body = json.dumps(document).replace(
        json.dumps(theirs)[1:-1],
        json.dumps(lot_class(gtin=ours.product.gtin, lot_code="RT-1"))[1:-1],
    )
    partner, key = issue_partner_key(
        name="Origin FreshChain",
        cooperative=other_farm.cooperative,
        created_by=UserFactory(is_superuser=True, is_staff=True),
    )

    answer = api_client.post(
        "/epcis/capture",
        data=body,
        content_type="application/ld+json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert answer.status_code == 202, answer.content
    assert answer.json()["success"] is True, answer.json()
    assert CapturedEvent.objects.filter(lot=ours).count() == len(sent_events)
    code = issue_trace_code(lot=ours, kind=TraceCodeKind.MARKET_ENTRY)
    page = client.get(f"/t/{code.code}", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    in_time_order = sorted(sent_events, key=lambda event: (event["eventTime"], event["eventID"]))
    found = 0
    for event in in_time_order:
        title = _title(event, partner.name)
        at = text.find(title, found)
        assert at >= 0, f"{title} missing or out of order"
        found = at
        shown = timezone.localtime(timezone.datetime.fromisoformat(event["eventTime"]))
        assert shown.strftime("%Y-%m-%d %H:%M") in text
    assert text.count(f"reported by {partner.name}") == len(sent_events)

    # Sending the same document again adds nothing.
    again = api_client.post(
        "/epcis/capture",
        data=body,
        content_type="application/ld+json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert again.json()["success"] is True
    assert CapturedEvent.objects.filter(lot=ours).count() == len(sent_events)
