"""The demo's followed lot: seeded twice it is the same lot, and its journey runs from the
Shouguang greenhouse through 新发地's gate and counter and two cold legs to 望京's stock and
林小姐's door; its certificate's QR is a GS1 Digital Link path."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

from accounts.models import User
from coldchain.models import Shipment
from delivery.models import DeliveryOrder
from farms.models import HarvestLot
from marketplace.markets.models import Trade
from traceability.codes import trace_path
from traceability.demo import journey as demo
from traceability.epcis.schema import schema_errors
from traceability.models import Certificate, TraceCode
from traceability.selectors.journey import journey_of
from traceability.selectors.public import public_trace

pytestmark = pytest.mark.django_db


def _figures() -> dict:
    models = (HarvestLot, Certificate, TraceCode, Shipment, Trade, DeliveryOrder)
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture(scope="module")
def seeded_twice(django_db_setup, django_db_blocker, tmp_path_factory):
    private = tmp_path_factory.mktemp("private")
    with django_db_blocker.unblock(), override_settings(PRIVATE_MEDIA_ROOT=private):
        from django.db import transaction

        with transaction.atomic():
            call_command("seed_demo", force=True, stdout=StringIO())
            first = _figures()
            call_command("seed_demo", force=True, stdout=StringIO())
            yield first, _figures()
            transaction.set_rollback(True)


def test_seeding_twice_follows_the_same_lot(seeded_twice):
    first, second = seeded_twice
    assert first == second
    assert HarvestLot.objects.filter(lot_code=demo.LOT_CODE).count() == 1


def test_the_demo_lot_goes_from_greenhouse_to_doorstep(seeded_twice):
    lot = HarvestLot.objects.get(lot_code=demo.LOT_CODE)
    admin = User.objects.get(username="admin")
    with translation.override("en"):
        steps = journey_of(lot, viewer=admin)
    kinds = [step.kind for step in steps]

    assert kinds[0] == "harvest"
    assert "东地大棚" in steps[0].detail
    for kind in ("certificate", "market_entry", "trade", "stock_receipt", "consumer_order"):
        assert kind in kinds, kind
    assert kinds.count("shipment") == 2
    assert kinds.index("trade") < kinds.index("stock_receipt") < kinds.index("consumer_order")
    assert [s.at for s in steps] == sorted(s.at for s in steps)
    order = next(s for s in steps if s.kind == "consumer_order")
    assert "张阿姨" not in order.title
    assert DeliveryOrder.objects.get(pk=int(order.title.split("#")[1].split(",")[0])).status == (
        "delivered"
    )


def test_the_demo_certificate_links_by_gs1_digital_link(seeded_twice):
    certificate = Certificate.objects.select_related("lot__product", "trace_code").get(
        lot__lot_code=demo.LOT_CODE
    )
    path = trace_path(
        code=certificate.trace_code.code,
        gtin=certificate.lot.product.gtin,
        lot_code=certificate.lot.lot_code,
    )

    assert path.startswith("/01/09506000134352/10/DEMO-SG-TRACE-01/21/")


def test_the_demo_lots_public_page_has_both_legs_without_excursion(seeded_twice):
    lot = HarvestLot.objects.get(lot_code=demo.LOT_CODE)
    with translation.override("en"):
        trace = public_trace(lot=lot, code=None)

    assert [leg.excursions for leg in trace.legs] == [0, 0]
    assert all(leg.readings > 10 and 0 <= leg.min_c <= leg.max_c <= 3 for leg in trace.legs)
    assert trace.certificates[0].basis.startswith("Own test")
    assert trace.days_at_market is not None
    assert trace.days_at_warehouse is not None


def test_the_demo_lots_whole_journey_is_valid_epcis_of_every_kind(seeded_twice, client):
    """Issue 17: every event type the platform produces for the demo lot's journey validates
    against GS1's schema, as the lot page's download serves it."""
    lot = HarvestLot.objects.get(lot_code=demo.LOT_CODE)
    client.force_login(User.objects.get(username="admin"))

    answer = client.get(f"/trace/lots/{lot.pk}/epcis.jsonld")

    assert answer.status_code == 200
    document = answer.json()
    assert schema_errors(document) == []
    events = document["epcisBody"]["eventList"]
    kinds = {(event["type"], event.get("bizStep", "")) for event in events}
    assert {
        ("ObjectEvent", "commissioning"),  # harvest, certificate
        ("ObjectEvent", "receiving"),  # the gate, each leg's arrival, the warehouse's receipt
        ("ObjectEvent", "accepting"),  # the counter trade
        ("ObjectEvent", "shipping"),  # each cold leg's departure
        ("ObjectEvent", "retail_selling"),  # the consumer's order
        ("AggregationEvent", "packing"),  # packed at the warehouse
        ("ObjectEvent", "arriving"),  # at her door
    } <= kinds
    legs = [e for e in events if e.get("sensorElementList")]
    assert len(legs) == 2  # both cold legs carry their temperature summary
    assert all(
        report["uom"] == "CEL"
        for leg in legs
        for element in leg["sensorElementList"]
        for report in element["sensorReport"]
    )
