"""Card applications through the API: a buyer applies and follows her applications; the
market's operator lists, reads, approves and declines hers only. Every role is tried."""

import pytest

from accounts.choices import Role
from marketplace.markets import cards
from marketplace.markets.card_models import TraderCardApplication
from marketplace.models import Trader
from tests.accounts.factories import UserFactory

from .fixtures import BUYER_CARD

pytestmark = pytest.mark.django_db

MARKETS = "/api/market/card-markets/"
MINE = "/api/market/my-card-applications/"
QUEUE = "/api/market/card-applications/"
LICENCE = "91440300708461136T"
NEW_CARD = "6230000000000009"


@pytest.fixture
def restaurant(db):
    return UserFactory(role=Role.BUYER, phone="+8613910000088")


def body(market, **changes) -> dict:
    return {
        "market": market.pk,
        "business_name": "江南酒家",
        "licence_number": LICENCE,
        "contact_name": "陈先生",
        "contact_phone": "13910000002",
        **changes,
    }


@pytest.fixture
def application(restaurant, market):
    data = body(market)
    data["market_id"] = data.pop("market")
    return cards.apply_for_card(applicant=restaurant, **data)


# --- The applicant -------------------------------------------------------------------------


def test_a_buyer_lists_the_markets_and_applies(api_as, restaurant, market, other_market):
    client = api_as(restaurant)

    listed = client.get(MARKETS).json()
    response = client.post(MINE, body(market), format="json")

    assert {m["code"] for m in listed["results"]} == {"xinfadi", "jiangnan"}
    assert response.status_code == 201
    created = response.json()
    assert (created["market"], created["status"], created["trader"]) == (
        market.pk,
        "pending",
        None,
    )
    assert created["contact_phone"] == "+8613910000002"
    assert [a["id"] for a in client.get(MINE).json()["results"]] == [created["id"]]


def test_a_second_application_is_a_field_error(api_as, restaurant, market, application):
    response = api_as(restaurant).post(MINE, body(market), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["market"]
    assert TraderCardApplication.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("licence_number", "91440300708461136X"),
        ("contact_phone", "12345"),
        ("business_name", ""),
        ("market", 999999),
    ],
)
def test_bad_input_is_a_field_error_in_chinese(api_as, restaurant, market, field, value):
    client = api_as(restaurant)

    data = {**body(market), field: value}
    response = client.post(MINE, data, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    message = response.json()[field][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    assert not TraderCardApplication.objects.exists()


def test_she_sees_only_her_own_applications(api_as, application, market):
    other = UserFactory(role=Role.BUYER)
    client = api_as(other)

    assert client.get(MINE).json()["results"] == []
    assert client.get(f"{MINE}{application.pk}/").status_code == 404


@pytest.mark.parametrize(
    "role", [Role.FARMER, Role.MARKET_OPERATOR, Role.COURIER, Role.COOPERATIVE_MANAGER]
)
def test_other_roles_may_not_apply(api_as, market, role):
    client = api_as(UserFactory(role=role))

    assert client.post(MINE, body(market), format="json").status_code == 403
    assert client.get(MINE).status_code == 403
    assert not TraderCardApplication.objects.exists()


def test_anonymous_callers_are_asked_to_authenticate(api_client, application):
    for method, url in [
        ("get", MARKETS),
        ("get", MINE),
        ("post", MINE),
        ("get", QUEUE),
        ("post", f"{QUEUE}{application.pk}/approve/"),
    ]:
        assert getattr(api_client, method)(url, {}, format="json").status_code == 401


# --- The market's operators ----------------------------------------------------------------


def test_the_operator_approves_and_the_buyers_card_shows_in_her_account(
    api_as, api_client, operator, restaurant, application, market
):
    queue = api_as(operator).get(QUEUE).json()["results"]
    assert [a["id"] for a in queue] == [application.pk]

    response = api_as(operator).post(
        f"{QUEUE}{application.pk}/approve/", {"card_number": NEW_CARD}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["card_last4"]) == ("approved", "0009")
    trader = Trader.objects.get(card_number=NEW_CARD)
    assert trader.user == restaurant
    me = api_as(restaurant).get("/api/market/me/").json()
    assert [(t["market"], t["card_last4"], t["kind"]) for t in me] == [("xinfadi", "0009", "buyer")]


def test_approving_twice_is_a_conflict(api_as, operator, application):
    client = api_as(operator)
    client.post(f"{QUEUE}{application.pk}/approve/", {"card_number": NEW_CARD}, format="json")

    again = client.post(
        f"{QUEUE}{application.pk}/approve/", {"card_number": "6230000000000010"}, format="json"
    )

    assert again.status_code == 409
    assert Trader.objects.filter(card_number__startswith="623").count() == 1


@pytest.mark.parametrize("card", [BUYER_CARD, "12ab", ""])
def test_a_bad_or_taken_card_number_is_a_field_error(
    api_as, operator, application, buyer_trader, card
):
    response = api_as(operator).post(
        f"{QUEUE}{application.pk}/approve/", {"card_number": card}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["card_number"]
    application.refresh_from_db()
    assert application.is_pending


def test_the_operator_declines_with_a_reason_the_applicant_reads(
    api_as, operator, restaurant, application
):
    response = api_as(operator).post(
        f"{QUEUE}{application.pk}/decline/", {"reason": "执照照片不清楚"}, format="json"
    )
    mine = api_as(restaurant).get(f"{MINE}{application.pk}/").json()

    assert response.status_code == 200
    assert (mine["status"], mine["reason"]) == ("declined", "执照照片不清楚")


def test_a_decline_without_a_reason_is_a_field_error(api_as, operator, application):
    response = api_as(operator).post(f"{QUEUE}{application.pk}/decline/", {}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["reason"]


def test_the_status_filter_shows_one_state(api_as, operator, application):
    client = api_as(operator)

    assert len(client.get(QUEUE, {"status": "pending"}).json()["results"]) == 1
    assert client.get(QUEUE, {"status": "declined"}).json()["results"] == []
    assert client.get(QUEUE, {"status": "bogus"}).status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "{id}/", {}),
        ("post", "{id}/approve/", {"card_number": NEW_CARD}),
        ("post", "{id}/decline/", {"reason": "no"}),
    ],
)
def test_an_operator_of_another_market_finds_nothing(
    api_as, other_operator, application, method, path, data
):
    client = api_as(other_operator)

    assert client.get(QUEUE).json()["results"] == []
    url = QUEUE + path.format(id=application.pk)
    assert getattr(client, method)(url, data, format="json").status_code == 404
    application.refresh_from_db()
    assert application.is_pending


def test_an_operator_of_no_market_gets_404(api_as, market_operator, application):
    client = api_as(market_operator)

    assert client.get(QUEUE).status_code == 404
    response = client.post(
        f"{QUEUE}{application.pk}/approve/", {"card_number": NEW_CARD}, format="json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "role", [Role.BUYER, Role.FARMER, Role.CONSUMER, Role.COURIER, Role.WAREHOUSE_MANAGER]
)
def test_other_roles_may_not_see_the_queue(api_as, application, role):
    client = api_as(UserFactory(role=role))

    assert client.get(QUEUE).status_code == 403
    response = client.post(
        f"{QUEUE}{application.pk}/approve/", {"card_number": NEW_CARD}, format="json"
    )
    assert response.status_code == 403
    assert not Trader.objects.filter(card_number=NEW_CARD).exists()


def test_the_endpoints_are_in_the_schema(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    paths = schema.json()["paths"] if schema.status_code == 200 else {}

    for path in (
        "/api/market/card-markets/",
        "/api/market/my-card-applications/",
        "/api/market/card-applications/",
        "/api/market/card-applications/{id}/approve/",
        "/api/market/card-applications/{id}/decline/",
    ):
        assert path in paths, path
