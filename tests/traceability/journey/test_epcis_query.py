"""The EPCIS query interface (/epcis/events, /epcis/events/{eventID}, /epcis/epcs/{epc}/events)
over the tomato lot's journey: each filter, paging, who sees what, and bad input."""

from urllib.parse import quote

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.choices import Role
from farms.models import Product
from marketplace.markets import services as markets
from tests.accounts.factories import UserFactory
from traceability.epcis.partners import issue_partner_key
from traceability.epcis.schema import schema_errors

from .epcis_factories import captured_events, packed_and_delivered

SITE = "https://fresh.example.cn"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_url")]


@pytest.fixture
def site_url():
    with override_settings(SITE_URL=SITE):
        yield


def _events(answer) -> list[dict]:
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"] == "application/ld+json"
    document = answer.json()
    assert schema_errors(document) == []
    return document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def _kinds(events) -> list[str]:
    return [e["eventID"].removeprefix(f"{SITE}/epcis/events/").split("/")[0] for e in events]


def _partner(admin_user, **limits) -> APIClient:
    _partner_system, key = issue_partner_key(name="合作社系统", created_by=admin_user, **limits)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_the_journey_comes_back_in_time_order(journey_world, admin_user, api_as):
    events = _events(api_as(admin_user).get("/epcis/events"))
    assert _kinds(events)[0] == "harvest"
    assert "consumer_sale" in _kinds(events)
    times = [e["eventTime"] for e in events]
    assert times == sorted(times)
    received = [e for e in events if e["bizStep"] == "receiving" and "/receiving/" in e["eventID"]]
    assert len(received) == 2
    assert all(e["sensorElementList"][0]["sensorReport"][0]["uom"] == "CEL" for e in received)


@pytest.mark.parametrize(
    ("params", "kinds"),
    [
        ({"EQ_bizStep": "shipping"}, {"shipping"}),
        ({"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-receiving"}, {"receiving", "receipt"}),
        ({"EQ_bizStep": "commissioning,accepting"}, {"harvest", "certificate", "trade"}),
        ({"eventType": "AggregationEvent"}, set()),
        ({"eventType": "ObjectEvent", "EQ_bizStep": "retail_selling"}, {"consumer_sale"}),
    ],
)
def test_each_filter_keeps_only_its_events(journey_world, admin_user, api_as, params, kinds):
    assert set(_kinds(_events(api_as(admin_user).get("/epcis/events", params)))) == kinds


def test_packing_and_delivery_are_found_by_type_step_and_parcel(journey_world, admin_user, api_as):
    packed_and_delivered(journey_world)
    client = api_as(admin_user)
    packing = _events(client.get("/epcis/events", {"eventType": "AggregationEvent"}))
    assert _kinds(packing) == ["packing"]
    assert _kinds(_events(client.get("/epcis/events", {"EQ_bizStep": "arriving"}))) == [
        "consumer_delivery"
    ]
    parcel = packing[0]["parentID"]
    by_parcel = _events(client.get("/epcis/events", {"MATCH_anyEPC": parcel}))
    assert _kinds(by_parcel) == ["packing", "consumer_delivery"]
    assert _kinds(_events(client.get("/epcis/events", {"MATCH_epc": parcel}))) == [
        "consumer_delivery"
    ]
    for event in by_parcel:
        found = client.get(f"/epcis/events/{quote(event['eventID'], safe='')}")
        assert found.json()["epcisBody"]["eventList"] == [event]


def test_time_window_and_business_location(journey_world, admin_user, api_as):
    client = api_as(admin_user)
    second_leg = journey_world.second_leg
    since = second_leg.departed_at.isoformat()
    later = _events(client.get("/epcis/events", {"GE_eventTime": since}))
    assert "harvest" not in _kinds(later)
    assert "consumer_sale" in _kinds(later)
    earlier = _events(client.get("/epcis/events", {"LT_eventTime": since}))
    assert set(_kinds(earlier)) | set(_kinds(later)) == set(
        _kinds(_events(client.get("/epcis/events")))
    )
    assert not {e["eventID"] for e in earlier} & {e["eventID"] for e in later}
    warehouse = f"{SITE}/epcis/locations/warehouse/{journey_world.warehouse.pk}"
    at_warehouse = _events(client.get("/epcis/events", {"EQ_bizLocation": warehouse}))
    assert set(_kinds(at_warehouse)) == {"receipt", "consumer_sale"}


def test_epc_matching_by_class_and_by_epc(journey_world, admin_user, api_as):
    client = api_as(admin_user)
    lot_class = f"{SITE}/epcis/lots/SG-TOM-0001"
    by_class = _events(client.get("/epcis/events", {"MATCH_epcClass": lot_class}))
    assert len(by_class) == len(_events(client.get("/epcis/events")))
    assert _events(client.get("/epcis/events", {"MATCH_epcClass": f"{SITE}/epcis/lots/*"}))
    assert _events(client.get("/epcis/events", {"MATCH_epc": lot_class})) == []
    assert _events(client.get("/epcis/events", {"MATCH_anyEPC": lot_class})) == []
    by_path = _events(client.get(f"/epcis/epcs/{quote(lot_class, safe='')}/events"))
    assert [e["eventID"] for e in by_path] == [e["eventID"] for e in by_class]
    assert (
        _events(client.get(f"/epcis/epcs/{quote(SITE + '/epcis/lots/NOPE', safe='')}/events")) == []
    )


def test_one_event_by_its_id(journey_world, admin_user, api_as):
    client = api_as(admin_user)
    trade_id = f"{SITE}/epcis/events/trade/{journey_world.trade.pk}"
    answer = client.get(f"/epcis/events/{quote(trade_id, safe='')}")
    assert answer.status_code == 200
    document = answer.json()
    assert document["type"] == "EPCISDocument"
    assert schema_errors(document) == []
    assert [e["eventID"] for e in document["epcisBody"]["eventList"]] == [trade_id]
    for event in _events(client.get("/epcis/events")):  # every event is found by its ID
        found = client.get(f"/epcis/events/{quote(event['eventID'], safe='')}")
        assert found.json()["epcisBody"]["eventList"] == [event]
    missing = client.get(f"/epcis/events/{quote(SITE + '/epcis/events/trade/999999', safe='')}")
    assert missing.status_code == 404


def test_ten_thousand_events_by_pages_of_500_complete_and_in_order(
    journey_world, admin_user, api_as
):
    ids = captured_events(journey_world.lot, count=10_000, created_by=admin_user)
    client = api_as(admin_user)
    seen: list[dict] = []
    url, pages = "/epcis/events?perPage=500&EQ_bizStep=packing", 0
    while url:
        answer = client.get(url)
        assert answer.status_code == 200
        page = answer.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        if pages == 0:
            assert schema_errors(answer.json()) == []
        seen += page
        pages += 1
        link = answer.headers.get("Link")
        url = (
            link.split(">")[0].removeprefix("<").removeprefix("http://testserver") if link else None
        )
        assert len(page) == 500
    assert pages == 20
    assert sorted(e["eventID"] for e in seen) == sorted(ids)
    keys = [(e["eventTime"], e["eventID"]) for e in seen]
    assert keys == sorted(keys)


def test_a_page_mixes_the_journey_and_partners_events_without_loss(
    journey_world, admin_user, api_as
):
    captured_events(journey_world.lot, count=40, created_by=admin_user)
    client = api_as(admin_user)
    everything = _events(client.get("/epcis/events", {"perPage": "1000"}))
    seen, url = [], "/epcis/events?perPage=7"
    while url:
        answer = client.get(url)
        seen += _events(answer)
        link = answer.headers.get("Link")
        url = (
            link.split(">")[0].removeprefix("<").removeprefix("http://testserver") if link else None
        )
    assert [e["eventID"] for e in seen] == [e["eventID"] for e in everything]
    assert len(everything) > 40


# --- Who sees what ------------------------------------------------------------------------------


@pytest.fixture
def outsiders(journey_world, other_market):
    other_staff = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=other_market, user=other_staff)
    return {
        "a farmer of another co-op": UserFactory(role=Role.FARMER),
        "another market's staff": other_staff,
        "the consumer": journey_world.consumer,
        "the warehouse manager": journey_world.warehouse_manager,
    }


def _every_endpoint(journey_world):
    trade_id = quote(f"{SITE}/epcis/events/trade/{journey_world.trade.pk}", safe="")
    lot_class = quote(f"{SITE}/epcis/lots/SG-TOM-0001", safe="")
    return "/epcis/events", f"/epcis/events/{trade_id}", f"/epcis/epcs/{lot_class}/events"


def test_those_who_may_open_the_journey_see_its_events(
    journey_world, member, manager, operator, coldchain_controller, api_as
):
    events_url, event_url, epc_url = _every_endpoint(journey_world)
    for user in (member, manager, operator, coldchain_controller):
        client = api_as(user)
        assert _events(client.get(events_url)), user.role
        assert client.get(event_url).status_code == 200, user.role
        assert _events(client.get(epc_url)), user.role


def test_everyone_else_sees_nothing_and_finds_no_event(journey_world, outsiders, api_as):
    events_url, event_url, epc_url = _every_endpoint(journey_world)
    for who, user in outsiders.items():
        client = api_as(user)
        assert _events(client.get(events_url)) == [], who
        assert client.get(event_url).status_code == 404, who
        assert _events(client.get(epc_url)) == [], who


def test_a_partner_key_sees_its_cooperatives_or_markets_lots_only(
    journey_world, admin_user, other_farm, market, other_market
):
    events_url, event_url, epc_url = _every_endpoint(journey_world)
    for limits in ({"cooperative": journey_world.lot.farm.cooperative}, {"market": market}, {}):
        client = _partner(admin_user, **limits)
        assert _events(client.get(events_url)), limits
        assert client.get(event_url).status_code == 200, limits
        assert _events(client.get(epc_url)), limits
    for limits in ({"cooperative": other_farm.cooperative}, {"market": other_market}):
        client = _partner(admin_user, **limits)
        assert _events(client.get(events_url)) == [], limits
        assert client.get(event_url).status_code == 404, limits
        assert _events(client.get(epc_url)) == [], limits


def test_a_key_that_may_not_query_and_anonymous_callers_are_refused(journey_world, admin_user):
    events_url, event_url, epc_url = _every_endpoint(journey_world)
    no_query = _partner(admin_user, may_query=False)
    anonymous = APIClient()
    unknown = APIClient()
    unknown.credentials(HTTP_AUTHORIZATION="Bearer fcp_not-a-key")
    for url in (events_url, event_url, epc_url):
        assert no_query.get(url).status_code == 403
        assert anonymous.get(url).status_code == 401
        assert unknown.get(url).status_code == 401


# --- Bad input ----------------------------------------------------------------------------------


def test_every_problem_of_a_query_is_listed(journey_world, admin_user, api_as):
    answer = api_as(admin_user).get(
        "/epcis/events",
        {
            "GE_eventTime": "yesterday",
            "LT_eventTime": "2026-05-01T08:00:00",  # no offset
            "eventType": "PartyEvent",
            "perPage": "0",
            "nextPageToken": "!!",
            "MATCH_colour": "red",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    errors = answer.json()
    assert set(errors) == {
        "GE_eventTime",
        "LT_eventTime",
        "eventType",
        "perPage",
        "nextPageToken",
        "MATCH_colour",
    }
    assert "RFC 3339" in errors["GE_eventTime"][0]
    assert errors["MATCH_colour"] == ["Unknown query parameter."]


def test_problems_are_told_in_chinese_too(journey_world, admin_user, api_as):
    answer = api_as(admin_user).get(
        "/epcis/events", {"perPage": "5000", "colour": "red"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert answer.status_code == 400
    assert answer.json()["colour"] == ["未知的查询参数。"]


def test_an_id_that_is_not_an_event_is_not_found(journey_world, admin_user, api_as):
    client = api_as(admin_user)
    for event_id in ("garbage", f"{SITE}/epcis/events/trade/x", f"{SITE}/epcis/events/nope/1"):
        assert client.get(f"/epcis/events/{quote(event_id, safe='')}").status_code == 404


def test_a_lot_with_a_gtin_is_found_by_its_lgtin(journey_world, admin_user, api_as):
    Product.objects.filter(pk=journey_world.lot.product_id).update(gtin="06901234567892")
    lgtin = "https://id.gs1.org/01/06901234567892/10/SG-TOM-0001"
    client = api_as(admin_user)
    by_path = _events(client.get(f"/epcis/epcs/{quote(lgtin, safe='')}/events"))
    assert len(by_path) == len(_events(client.get("/epcis/events")))
    assert {q["epcClass"] for e in by_path for q in e["quantityList"]} == {lgtin}


def test_a_single_event_takes_no_parameters(journey_world, admin_user, api_as):
    _events_url, event_url, _epc_url = _every_endpoint(journey_world)
    answer = api_as(admin_user).get(event_url, {"perPage": "5"})
    assert answer.status_code == 400
    assert set(answer.json()) == {"perPage"}
