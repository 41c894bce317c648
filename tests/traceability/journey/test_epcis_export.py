"""A lot's and a shipment's events as one EPCIS document, downloaded from their pages; scoped
as the journey is."""

import pytest
from django.test import override_settings
from django.urls import reverse

from accounts.choices import Role
from tests.accounts.factories import UserFactory
from traceability.epcis.schema import schema_errors

SITE = "https://fresh.example.cn"
pytestmark = pytest.mark.django_db


def _document(answer) -> dict:
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/ld+json"
    document = answer.json()
    assert document["type"] == "EPCISDocument"
    assert schema_errors(document) == []
    return document


@override_settings(SITE_URL=SITE)
def test_the_journey_page_offers_the_lots_events_as_one_document(journey_world, manager, client):
    client.force_login(manager)
    page = client.get(reverse("traceability:lot_journey", args=[journey_world.lot.pk]))
    url = reverse("traceability:lot_epcis", args=[journey_world.lot.pk])
    assert f'href="{url}"' in page.content.decode()
    answer = client.get(url)
    assert answer["Content-Disposition"] == 'attachment; filename="epcis-SG-TOM-0001.jsonld"'
    events = _document(answer)["epcisBody"]["eventList"]
    assert events[0]["eventID"] == f"{SITE}/epcis/events/harvest/{journey_world.lot.pk}"
    assert any(e["bizStep"] == "retail_selling" for e in events)


@override_settings(SITE_URL=SITE)
def test_the_shipment_page_offers_its_legs_events(journey_world, coldchain_controller, client):
    client.force_login(coldchain_controller)
    leg = journey_world.second_leg
    page = client.get(reverse("coldchain:shipment_detail", args=[leg.pk]))
    url = reverse("traceability:shipment_epcis", args=[leg.pk])
    assert f'href="{url}"' in page.content.decode()
    answer = client.get(url)
    assert answer["Content-Disposition"] == f'attachment; filename="epcis-{leg.code}.jsonld"'
    events = _document(answer)["epcisBody"]["eventList"]
    assert [e["bizStep"] for e in events] == ["shipping", "receiving"]
    assert events[1]["sensorElementList"][0]["sensorReport"][0]["uom"] == "CEL"


def test_nobody_else_downloads_them(journey_world, other_market, client):
    outsiders = [
        UserFactory(role=Role.FARMER),  # of another co-op
        journey_world.consumer,
        journey_world.warehouse_manager,
    ]
    urls = [
        reverse("traceability:lot_epcis", args=[journey_world.lot.pk]),
        reverse("traceability:shipment_epcis", args=[journey_world.second_leg.pk]),
        reverse("traceability:shipment_epcis", args=[999999]),
    ]
    for user in outsiders:
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user.role, url)
    client.logout()
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 302
        assert "sign-in" in answer["Location"]
