"""The counter through the API: trades, reversals, card top-ups and withdrawals, traders;
idempotent writes and each role's limits."""

from datetime import timedelta

import pytest
from moneyed import Money

from accounts.choices import Role
from common.dates import business_today
from marketplace.markets.selectors.counter import card_balance
from marketplace.models import Trade, Trader
from settlement.models import JournalEntry
from tests.accounts.factories import UserFactory
from tests.farms.factories import HarvestLotFactory

from .fixtures import BUYER_CARD, SELLER_CARD

pytestmark = pytest.mark.django_db

TRADE = {
    "buyer_card": BUYER_CARD,
    "seller_card": SELLER_CARD,
    "product": "VEG-NAPA-CABBAGE",
    "gross_kg": "100.000",
    "tare_kg": "2.000",
    "unit_price": "1.20",
}


@pytest.fixture
def trade(settle, commission):
    """98 kg net of cabbage at ¥1.20: ¥117.60, commissions ¥1.18 and ¥2.35."""
    return settle("fixture-trade")


def _endpoints(trade_pk: int, trader_pk: int) -> list[tuple[str, str]]:
    return [
        ("get", "/api/market/trades/"),
        ("post", "/api/market/trades/"),
        ("get", f"/api/market/trades/{trade_pk}/"),
        ("post", f"/api/market/trades/{trade_pk}/reverse/"),
        ("post", "/api/market/top-ups/"),
        ("post", "/api/market/withdrawals/"),
        ("get", "/api/market/traders/"),
        ("post", "/api/market/traders/"),
        ("get", f"/api/market/traders/{trader_pk}/"),
        ("post", f"/api/market/traders/{trader_pk}/activation/"),
    ]


ENDPOINT_IDS = [
    "trade-list",
    "trade-create",
    "trade-detail",
    "trade-reverse",
    "top-up",
    "withdrawal",
    "trader-list",
    "trader-create",
    "trader-detail",
    "trader-activation",
]


def _call(client, method: str, url: str, **headers):
    return getattr(client, method)(url, {}, format="json", **headers)


# --- Who may call what ---------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(ENDPOINT_IDS)), ids=ENDPOINT_IDS)
def test_anonymous_caller_is_asked_to_authenticate(api_client, trade, index):
    method, url = _endpoints(trade.pk, trade.buyer_id)[index]

    assert _call(api_client, method, url).status_code == 401


@pytest.mark.parametrize("role", [Role.FARMER, Role.BUYER, Role.COURIER])
@pytest.mark.parametrize("index", range(len(ENDPOINT_IDS)), ids=ENDPOINT_IDS)
def test_other_roles_are_refused(api_as, trade, role, index):
    method, url = _endpoints(trade.pk, trade.buyer_id)[index]

    assert _call(api_as(UserFactory(role=role)), method, url).status_code == 403


@pytest.mark.parametrize("index", range(len(ENDPOINT_IDS)), ids=ENDPOINT_IDS)
def test_operator_of_no_market_finds_nothing(api_as, market_operator, trade, index):
    method, url = _endpoints(trade.pk, trade.buyer_id)[index]

    response = _call(api_as(market_operator), method, url, HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/market/trades/{trade}/"),
        ("post", "/api/market/trades/{trade}/reverse/"),
        ("get", "/api/market/traders/{trader}/"),
        ("post", "/api/market/traders/{trader}/activation/"),
    ],
)
def test_operator_of_another_market_does_not_find_its_objects(
    api_as, other_operator, trade, method, url
):
    response = _call(
        api_as(other_operator), method, url.format(trade=trade.pk, trader=trade.seller_id)
    )

    assert response.status_code == 404
    trade.refresh_from_db()
    assert not trade.is_reversed
    assert Trader.objects.get(pk=trade.seller_id).is_active


def test_operator_of_another_market_does_not_see_its_trades_or_traders(
    api_as, other_operator, trade
):
    client = api_as(other_operator)

    assert client.get("/api/market/trades/").json()["results"] == []
    assert client.get("/api/market/traders/").json()["results"] == []


def test_operator_of_another_market_cannot_use_its_cards(
    api_as, other_operator, buyer_trader, seller_trader, cabbage
):
    client = api_as(other_operator)

    trade = client.post("/api/market/trades/", TRADE, format="json", HTTP_IDEMPOTENCY_KEY="x1")
    top_up = client.post(
        "/api/market/top-ups/",
        {"card_number": BUYER_CARD, "amount": "10", "method": "cash"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="x2",
    )

    assert trade.status_code == 400
    assert set(trade.json()) == {"buyer_card"}
    assert top_up.status_code == 400
    assert set(top_up.json()) == {"card_number"}
    assert not Trade.objects.exists()
    assert card_balance(buyer_trader) == Money("10000.00", "CNY")


# --- Trades --------------------------------------------------------------------------------


def test_operator_records_a_trade_once_per_key(
    api_as, operator, buyer_trader, seller_trader, cabbage, commission
):
    client = api_as(operator)

    first = client.post("/api/market/trades/", TRADE, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    retry = client.post("/api/market/trades/", TRADE, format="json", HTTP_IDEMPOTENCY_KEY="t-1")

    assert first.status_code == 201
    assert retry.status_code == 200
    body = first.json()
    assert retry.json() == body
    assert Trade.objects.count() == 1
    assert body["buyer"]["name"] == "李记餐饮"
    assert body["seller"]["name"] == "王大姐"
    assert body["product"] == {
        "code": "VEG-NAPA-CABBAGE",
        "name_zh": "大白菜",
        "name_en": "Napa cabbage",
    }
    assert body["net_kg"] == "98.000"
    assert body["amount"] == "117.60"
    assert body["buyer_fee"] == "1.18"
    assert body["seller_fee"] == "2.35"
    assert body["buyer_pays"] == "118.78"
    assert body["seller_receives"] == "115.25"
    assert body["currency"] == "CNY"
    assert body["lot"] is None
    assert body["is_reversed"] is False
    assert body["receipt_pdf_url"] == f"/market/trades/{body['id']}/receipt.pdf"
    assert card_balance(buyer_trader) == Money("9881.22", "CNY")


def test_a_trade_with_a_lot(api_as, operator, buyer_trader, seller_trader, cabbage):
    lot = HarvestLotFactory(product=cabbage)

    response = api_as(operator).post(
        "/api/market/trades/",
        {**TRADE, "lot": lot.lot_code},
        format="json",
        HTTP_IDEMPOTENCY_KEY="t",
    )

    assert response.status_code == 201
    assert response.json()["lot"] == lot.lot_code


def test_a_trade_needs_an_idempotency_key(api_as, operator, buyer_trader, seller_trader, cabbage):
    response = api_as(operator).post("/api/market/trades/", TRADE, format="json")

    assert response.status_code == 400
    assert "idempotency_key" in response.json()
    assert not Trade.objects.exists()


def test_the_same_key_with_another_trade_is_a_conflict(
    api_as, operator, buyer_trader, seller_trader, cabbage
):
    client = api_as(operator)
    client.post("/api/market/trades/", TRADE, format="json", HTTP_IDEMPOTENCY_KEY="t-1")

    response = client.post(
        "/api/market/trades/",
        {**TRADE, "gross_kg": "50"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="t-1",
    )

    assert response.status_code == 409
    assert Trade.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"buyer_card": "6299999999999999"}, "buyer_card"),
        ({"buyer_card": SELLER_CARD}, "buyer_card"),
        ({"seller_card": BUYER_CARD}, "seller_card"),
        ({"gross_kg": "-1"}, "gross_kg"),
        ({"gross_kg": "abc"}, "gross_kg"),
        ({"tare_kg": "100"}, "tare_kg"),
        ({"unit_price": "0"}, "unit_price"),
        ({"unit_price": "1.234"}, "unit_price"),
        ({"product": "NO-SUCH-THING"}, "product"),
        ({"lot": "NO-SUCH-LOT"}, "lot"),
        ({"gross_kg": "10000", "tare_kg": "0"}, "buyer_card"),  # the card holds too little
    ],
)
def test_a_refused_trade_names_its_field_and_writes_nothing(
    api_as, operator, buyer_trader, seller_trader, cabbage, overrides, field
):
    entries = JournalEntry.objects.count()

    response = api_as(operator).post(
        "/api/market/trades/", {**TRADE, **overrides}, format="json", HTTP_IDEMPOTENCY_KEY="t"
    )

    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Trade.objects.exists()
    assert JournalEntry.objects.count() == entries


def test_too_little_on_the_card_shows_the_balance(
    api_as, operator, buyer_trader, seller_trader, cabbage
):
    response = api_as(operator).post(
        "/api/market/trades/",
        {**TRADE, "gross_kg": "10000", "tare_kg": "0"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="t",
    )

    assert "10000.00" in response.json()["buyer_card"][0]


def test_trades_are_listed_by_business_day(api_as, operator, trade):
    client = api_as(operator)
    yesterday = (business_today() - timedelta(days=1)).isoformat()

    today = client.get("/api/market/trades/").json()
    other_day = client.get("/api/market/trades/", {"date": yesterday}).json()
    bad_day = client.get("/api/market/trades/", {"date": "someday"})

    assert [row["id"] for row in today["results"]] == [trade.pk]
    assert other_day["results"] == []
    assert bad_day.status_code == 400
    assert "date" in bad_day.json()


def test_operator_reads_one_trade(api_as, operator, trade):
    response = api_as(operator).get(f"/api/market/trades/{trade.pk}/")

    assert response.status_code == 200
    assert response.json()["buyer_pays"] == "118.78"


# --- Reversals -----------------------------------------------------------------------------


def test_supervisor_reverses_a_trade_with_a_reason(api_as, supervisor, trade):
    client = api_as(supervisor)

    response = client.post(
        f"/api/market/trades/{trade.pk}/reverse/", {"reason": "Wrong card"}, format="json"
    )
    retry = client.post(
        f"/api/market/trades/{trade.pk}/reverse/", {"reason": "Wrong card"}, format="json"
    )
    another = client.post(
        f"/api/market/trades/{trade.pk}/reverse/",
        {"reason": "Wrong card"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="another-reversal",
    )

    assert response.status_code == 200
    assert response.json()["is_reversed"] is True
    assert response.json()["reversal_reason"] == "Wrong card"
    assert retry.status_code == 200
    assert another.status_code == 409
    assert card_balance(trade.buyer) == Money("10000.00", "CNY")
    assert card_balance(trade.seller) == Money("0.00", "CNY")
    assert JournalEntry.objects.filter(reverses=trade.entry).count() == 1


def test_a_plain_operator_may_not_reverse(api_as, operator, trade):
    response = api_as(operator).post(
        f"/api/market/trades/{trade.pk}/reverse/", {"reason": "Wrong card"}, format="json"
    )

    assert response.status_code == 403
    trade.refresh_from_db()
    assert not trade.is_reversed


def test_a_reversal_needs_a_reason(api_as, supervisor, trade):
    response = api_as(supervisor).post(
        f"/api/market/trades/{trade.pk}/reverse/", {"reason": ""}, format="json"
    )

    assert response.status_code == 400
    assert "reason" in response.json()
    trade.refresh_from_db()
    assert not trade.is_reversed


# --- Cards ---------------------------------------------------------------------------------


def _pay(client, url, key="p-1", **overrides):
    data = {"card_number": BUYER_CARD, "amount": "500.00", "method": "cash", **overrides}
    return client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_top_up_once_per_key(api_as, operator, buyer_trader):
    client = api_as(operator)

    first = _pay(client, "/api/market/top-ups/")
    retry = _pay(client, "/api/market/top-ups/")

    assert first.status_code == 201
    assert retry.status_code == 200
    assert first.json()["entry"] == retry.json()["entry"]
    body = first.json()
    assert body["trader"]["name"] == "李记餐饮"
    assert body["amount"] == "500.00"
    assert body["kind"] == "top_up"
    assert body["method"] == "cash"
    assert body["balance"] == "10500.00"
    assert card_balance(buyer_trader) == Money("10500.00", "CNY")


def test_a_top_up_needs_a_key(api_as, operator, buyer_trader):
    response = api_as(operator).post(
        "/api/market/top-ups/",
        {"card_number": BUYER_CARD, "amount": "5", "method": "cash"},
        format="json",
    )

    assert response.status_code == 400
    assert "idempotency_key" in response.json()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"card_number": "6299999999999999"}, "card_number"),
        ({"card_number": SELLER_CARD}, "card_number"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "0.001"}, "amount"),
        ({"method": "cheque"}, "method"),
    ],
)
def test_a_refused_top_up_names_its_field_and_writes_nothing(
    api_as, operator, buyer_trader, seller_trader, overrides, field
):
    entries = JournalEntry.objects.count()

    response = _pay(api_as(operator), "/api/market/top-ups/", **overrides)

    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert JournalEntry.objects.count() == entries


def test_withdrawal_waits_for_a_supervisor_and_then_pays_back(
    api_as, operator, supervisor, buyer_trader
):
    client = api_as(operator)

    response = _pay(client, "/api/market/withdrawals/", amount="200.00", method="bank")
    too_much = _pay(client, "/api/market/withdrawals/", key="p-2", amount="20000")

    assert response.status_code == 202
    assert response.json()["kind"] == "withdrawal"
    assert response.json()["status"] == "pending"
    assert too_much.status_code == 400
    assert "10000.00" in too_much.json()["amount"][0]
    assert card_balance(buyer_trader) == Money("10000.00", "CNY")

    approved = api_as(supervisor).post(f"/api/market/requests/{response.json()['id']}/approve/")

    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert card_balance(buyer_trader) == Money("9800.00", "CNY")


# --- Traders -------------------------------------------------------------------------------


def test_traders_are_listed_with_their_balances(api_as, operator, trade):
    response = api_as(operator).get("/api/market/traders/")
    buyers = api_as(operator).get("/api/market/traders/", {"kind": "buyer"})

    rows = {row["name"]: row for row in response.json()["results"]}
    assert rows["李记餐饮"]["balance"] == "9881.22"
    assert rows["王大姐"]["balance"] == "115.25"
    assert rows["王大姐"]["kind"] == "seller"
    assert rows["王大姐"]["user"] == trade.seller.user_id
    assert [row["name"] for row in buyers.json()["results"]] == ["李记餐饮"]


def test_operator_registers_a_buyer_linked_by_phone(api_as, operator, market, trading_buyer):
    response = api_as(operator).post(
        "/api/market/traders/",
        {
            "name": "城东饭店",
            "kind": "buyer",
            "card_number": "6200000000000777",
            "user_phone": trading_buyer.phone,
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["balance"] == "0.00"
    assert body["user"] == trading_buyer.pk
    trader = Trader.objects.get(pk=body["id"])
    assert trader.market == market
    assert api_as(operator).get(f"/api/market/traders/{trader.pk}/").json() == body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"card_number": BUYER_CARD}, "card_number"),
        ({"card_number": "12"}, "card_number"),
        ({"kind": "broker"}, "kind"),
        ({"user_phone": "13999999999"}, "user_phone"),
    ],
)
def test_a_refused_registration_names_its_field(api_as, operator, buyer_trader, overrides, field):
    data = {"name": "城东饭店", "kind": "buyer", "card_number": "6200000000000777"}

    response = api_as(operator).post("/api/market/traders/", {**data, **overrides}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Trader.objects.filter(name="城东饭店").exists()


def test_operator_suspends_a_card_and_it_is_refused_at_the_counter(
    api_as, operator, buyer_trader, seller_trader, cabbage
):
    client = api_as(operator)

    suspended = client.post(
        f"/api/market/traders/{buyer_trader.pk}/activation/", {"is_active": False}, format="json"
    )
    refused = client.post("/api/market/trades/", TRADE, format="json", HTTP_IDEMPOTENCY_KEY="t")
    restored = client.post(
        f"/api/market/traders/{buyer_trader.pk}/activation/", {"is_active": True}, format="json"
    )

    assert suspended.status_code == 200
    assert suspended.json()["is_active"] is False
    assert refused.status_code == 400
    assert set(refused.json()) == {"buyer_card"}
    assert restored.json()["is_active"] is True
    assert not Trade.objects.exists()
