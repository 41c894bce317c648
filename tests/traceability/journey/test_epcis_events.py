"""The tomato lot's whole journey (journey_world) as EPCIS 2.0 events: every kind of step is an
event, every event validates against GS1's schema, identifiers are GS1's where the catalogue
has a GTIN and ours elsewhere, and the cold legs carry their temperature."""

from django.test import override_settings

from farms.models import Product
from marketplace.markets.models import MarketStaff
from traceability.epcis.documents import epcis_document, query_document
from traceability.epcis.journey import events_of_lot
from traceability.epcis.schema import schema_errors
from traceability.models.gate import LaboratoryOutcome, RapidTestMethod
from traceability.services.gate import (
    check_in_with_certificate,
    record_laboratory_result,
    record_rapid_test,
)

from .epcis_factories import packed_and_delivered

SITE = "https://fresh.example.cn"


def _with_gate_checks(world, operator, market):
    """The market's gate checks the batch in, a rapid test finds it positive, the laboratory
    clears it (through the gate's services; the operator supervises the gate)."""
    MarketStaff.objects.filter(user=operator, market=market).update(is_supervisor=True)
    entry = check_in_with_certificate(
        market=market,
        by=operator,
        code=world.certificate.trace_code.code,
        vehicle_plate="鲁G12345",
        gross_weight_kg="105",
        arrived_at=world.first_leg.arrived_at,
    )
    record_rapid_test(
        entry_id=entry.pk,
        by=operator,
        method=RapidTestMethod.ENZYME_INHIBITION,
        sample="番茄 1 kg",
        inhibition_pct="62.0",
        tested_at=world.first_leg.arrived_at,
    )
    record_laboratory_result(
        entry_id=entry.pk,
        by=operator,
        laboratory="寿光市检测中心",
        report_number="R-1",
        outcome=LaboratoryOutcome.CLEARED,
    )
    return entry


@override_settings(SITE_URL=SITE)
def test_every_step_of_the_journey_is_a_valid_epcis_event(journey_world, operator, market):
    entry = _with_gate_checks(journey_world, operator, market)
    packed_and_delivered(journey_world)
    events = events_of_lot(journey_world.lot)
    kinds = [
        event_id.removeprefix(f"{SITE}/epcis/events/").split("/")[0] for _k, event_id, _e in events
    ]
    assert set(kinds) == {
        "harvest",
        "certificate",
        "market_entry",
        "rapid_test",
        "laboratory",
        "shipping",
        "receiving",
        "trade",
        "receipt",
        "consumer_sale",
        "packing",
        "consumer_delivery",
    }
    assert schema_errors(epcis_document(events)) == []
    assert schema_errors(query_document(events)) == []
    by_kind = {kind: event for kind, (_k, _i, event) in zip(kinds, events, strict=True)}
    assert by_kind["harvest"]["action"] == "ADD"
    assert by_kind["harvest"]["bizStep"] == "commissioning"
    assert by_kind["certificate"]["bizStep"] == "commissioning"
    assert by_kind["market_entry"]["bizStep"] == "receiving"
    assert (
        by_kind["market_entry"]["bizLocation"]["id"] == f"{SITE}/epcis/locations/market/{market.pk}"
    )
    assert by_kind["rapid_test"]["disposition"] == "non_conformant"  # 62 % inhibition
    assert by_kind["laboratory"]["disposition"] == "conformant"
    assert by_kind["trade"]["bizTransactionList"] == [
        {
            "type": "inv",
            "bizTransaction": f"{SITE}/epcis/transactions/trade/{journey_world.trade.pk}",
        }
    ]
    assert by_kind["consumer_sale"]["bizStep"] == "retail_selling"
    parcel = f"{SITE}/epcis/parcels/consumer_order/{journey_world.order.pk}"
    assert by_kind["packing"]["type"] == "AggregationEvent"
    assert by_kind["packing"]["parentID"] == parcel
    assert by_kind["packing"]["childQuantityList"][0]["quantity"] == 2.5
    assert by_kind["consumer_delivery"]["epcList"] == [parcel]
    assert "bizLocation" not in by_kind["consumer_delivery"]  # a home is never named
    assert entry.pk  # the entry's event is the one above
    # In time order, IDs unique.
    assert [e[0] for e in events] == sorted(e[0] for e in events)
    assert len({e[1] for e in events}) == len(events)


@override_settings(SITE_URL=SITE)
def test_quantities_are_kilograms_of_the_lots_class(journey_world):
    events = events_of_lot(journey_world.lot)
    lot_class = f"{SITE}/epcis/lots/SG-TOM-0001"
    gtin = journey_world.lot.product.gtin
    if gtin:
        lot_class = f"https://id.gs1.org/01/{gtin.zfill(14)}/10/SG-TOM-0001"
    quantities = [q for _k, _i, event in events for q in event.get("quantityList", [])]
    assert {q["epcClass"] for q in quantities} == {lot_class}
    assert {q["uom"] for q in quantities if "quantity" in q} == {"KGM"}
    harvest = events[0][2]
    assert harvest["quantityList"][0]["quantity"] == 100.0
    trade = next(e for _k, i, e in events if "/trade/" in i)
    assert trade["quantityList"][0]["quantity"] == 60.0


@override_settings(SITE_URL=SITE)
def test_a_product_with_a_gtin_is_named_by_its_lgtin(journey_world):
    Product.objects.filter(pk=journey_world.lot.product_id).update(gtin="06901234567892")
    journey_world.lot.product.refresh_from_db()
    events = events_of_lot(journey_world.lot)
    classes = {q["epcClass"] for _k, _i, e in events for q in e.get("quantityList", [])}
    assert classes == {"https://id.gs1.org/01/06901234567892/10/SG-TOM-0001"}
    assert schema_errors(epcis_document(events)) == []


@override_settings(SITE_URL=SITE)
def test_each_leg_carries_its_temperature_and_excursion_alarm(journey_world):
    events = events_of_lot(journey_world.lot)
    received = [e for _k, i, e in events if "/receiving/" in i]
    assert len(received) == 2
    first, second = sorted(received, key=lambda e: e["eventTime"])
    report = first["sensorElementList"][0]["sensorReport"][0]
    assert report == {
        "type": "Temperature",
        "minValue": 10.0,
        "maxValue": 11.2,
        "meanValue": report["meanValue"],
        "uom": "CEL",
    }
    assert 10.0 < report["meanValue"] < 11.2
    assert len(first["sensorElementList"]) == 1  # no excursion on the first leg
    alarm = second["sensorElementList"][1]["sensorReport"][0]
    assert alarm == {
        "type": "Temperature",
        "exception": "ALARM_CONDITION",
        "uom": "CEL",
        "maxValue": 15.0,
    }
    shipped = [e for _k, i, e in events if "/shipping/" in i]
    assert {e["bizStep"] for e in shipped} == {"shipping"}
    assert {e["disposition"] for e in shipped} == {"in_transit"}
