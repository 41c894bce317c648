"""The public price board: each product's lowest, average and highest price and volume per
day, from settled trades only, and its 30-day history."""

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from common.dates import BUSINESS_TIME_ZONE, business_today
from farms.choices import ProductCategory
from marketplace.markets import end_of_day
from marketplace.markets import services as markets
from marketplace.markets import trades as counter_trades
from marketplace.markets.selectors.prices import daily_prices, price_history
from marketplace.markets.trades import reverse_trade
from settlement.funding import top_up
from tests.accounts.factories import UserFactory
from tests.farms.factories import ProductFactory

pytestmark = pytest.mark.django_db

BOARD = "/market/prices/"
API = "/api/market/prices/"


def english(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def at(day: date):
    """Trade on `day`, at 10:00 in the market."""
    return time_machine.travel(datetime.combine(day, time(10), BUSINESS_TIME_ZONE), tick=False)


@pytest.fixture
def every_trade_shown(settings):
    """For tests of the figures themselves: the board shows a day from its first trade."""
    settings.PRICE_BOARD_MIN_TRADES = 1


@pytest.fixture
def tomato(db):
    return ProductFactory(
        code="VEG-TOMATO",
        name_zh="番茄",
        name_en="Tomato",
        category=ProductCategory.FRUIT_VEGETABLE,
    )


@pytest.fixture
def cabbage_day(settle, supervisor):
    """Today's cabbage: 98 kg × ¥1.20, 50 kg × ¥1.50, 10 kg × ¥2.00, and a reversed
    200 kg × ¥0.50 that must not count."""
    settle("t1")
    settle("t2", gross_kg="50.000", tare_kg="0", unit_price="1.50")
    settle("t3", gross_kg="10.000", tare_kg="0", unit_price="2.00")
    mistake = settle("t4", gross_kg="200.000", tare_kg="0", unit_price="0.50")
    reverse_trade(trade_id=mistake.pk, by=supervisor, reason="wrong price", idempotency_key="r1")


@pytest.fixture
def other_market_trade(other_market, other_operator, cabbage):
    """At the other market, 100 kg of cabbage at ¥3.00."""
    buyer = markets.register_trader(
        market=other_market, kind="buyer", name="江南买家", card_number="6300000000000001"
    )
    markets.register_trader(
        market=other_market, kind="seller", name="江南卖家", card_number="6301000000000001"
    )
    top_up(
        account=markets.settlement_account(buyer),
        amount=Decimal("1000.00"),
        method="cash",
        by=other_operator,
        idempotency_key="other-funding",
    )
    return counter_trades.settle_trade(
        market=other_market,
        by=other_operator,
        buyer_card="6300000000000001",
        seller_card="6301000000000001",
        product=cabbage,
        gross_kg="100",
        tare_kg="0",
        unit_price="3.00",
        idempotency_key="o1",
    )


# Figures


def test_daily_prices_are_min_volume_weighted_average_and_max_without_reversed_trades(
    cabbage_day,
):
    [row] = daily_prices(business_date=business_today())

    assert row.product_code == "VEG-NAPA-CABBAGE"
    assert row.min_price == Decimal("1.20")
    assert row.max_price == Decimal("2.00")
    # (98 × 1.20 + 50 × 1.50 + 10 × 2.00) / 158 = 212.60 / 158
    assert row.avg_price == Decimal("212.60") / Decimal("158")
    assert row.volume_kg == Decimal("158.000")
    assert row.trade_count == 3


@pytest.mark.usefixtures("every_trade_shown")
def test_prices_per_market_or_across_markets(cabbage_day, market, other_market_trade):
    [everywhere] = daily_prices(business_date=business_today())
    [here] = daily_prices(business_date=business_today(), market=market)
    [there] = daily_prices(business_date=business_today(), market=other_market_trade.market)

    assert (everywhere.trade_count, everywhere.volume_kg) == (4, Decimal("258.000"))
    assert everywhere.max_price == Decimal("3.00")
    assert everywhere.avg_price == Decimal("512.60") / Decimal("258")
    assert here.max_price == Decimal("2.00")
    assert (there.min_price, there.max_price, there.trade_count) == (
        Decimal("3.00"),
        Decimal("3.00"),
        1,
    )


@pytest.mark.usefixtures("every_trade_shown")
def test_history_has_a_row_per_traded_day_in_the_30_days_only(settle, cabbage):
    until = date(2025, 3, 31)
    for day, price in [
        (date(2025, 3, 1), "9.00"),  # 31 days back: outside the window
        (date(2025, 3, 2), "1.00"),
        (date(2025, 3, 15), "1.10"),
        (date(2025, 3, 31), "1.30"),
    ]:
        with at(day):
            settle(f"t-{day}", unit_price=price)

    rows = price_history(product=cabbage, until=until)

    assert [(row.business_date, row.avg_price) for row in rows] == [
        (date(2025, 3, 2), Decimal("1.00")),
        (date(2025, 3, 15), Decimal("1.10")),
        (date(2025, 3, 31), Decimal("1.30")),
    ]


# The page


@pytest.mark.usefixtures("every_trade_shown")
def test_price_board_is_public_and_shows_todays_figures_by_category(cabbage_day, tomato, settle):
    settle("tomato", product=tomato, gross_kg="20", tare_kg="0", unit_price="4.00")

    response = english().get(BOARD)
    page = response.content.decode()

    assert response.status_code == 200
    assert business_today().isoformat() in page
    assert page.index("Leafy vegetable") < page.index("大白菜") < page.index("Fruit vegetable")
    assert page.index("Fruit vegetable") < page.index("番茄")
    assert 'href="/market/prices/VEG-NAPA-CABBAGE/"' in page
    assert '<span class="avg" data-testid="avg">¥1.35' in page
    assert "¥1.20 – ¥2.00 · 158 kg · 3 trades" in page
    assert "¥4.00 – ¥4.00 · 20 kg · 1 trade" in page
    assert "0.50" not in page  # the reversed trade


def test_price_board_finds_a_product_by_name(cabbage_day, tomato, settle):
    settle("tomato", product=tomato, gross_kg="20", tare_kg="0", unit_price="4.00")

    for words in ("番茄", "tomato"):
        page = english().get(BOARD, {"q": words}).content.decode()
        assert "番茄" in page
        assert "大白菜" not in page
    page = english().get(BOARD, {"q": "durian"}).content.decode()
    assert 'data-testid="board-empty"' in page


@pytest.mark.usefixtures("every_trade_shown")
def test_price_board_of_another_day_and_an_empty_day(settle):
    yesterday = business_today() - timedelta(days=1)
    with at(yesterday):
        settle("old")

    today = english().get(BOARD).content.decode()
    before = english().get(BOARD, {"date": yesterday.isoformat()}).content.decode()

    assert 'data-testid="board-empty"' in today
    assert f'href="?date={yesterday.isoformat()}"' in today  # to the last board with trades
    assert "大白菜" in before
    assert "¥1.20 – ¥1.20 · 98 kg · 1 trade" in before


@pytest.mark.usefixtures("every_trade_shown")
def test_price_board_of_one_market(cabbage_day, other_market_trade):
    page = english().get(BOARD, {"market": "jiangnan"}).content.decode()

    assert "¥3.00 – ¥3.00 · 100 kg · 1 trade" in page
    assert "158 kg" not in page


def test_prices_are_per_jin_for_a_user_who_reads_jin(cabbage_day):
    reader = UserFactory(weight_unit="jin")

    page = english(reader).get(BOARD).content.decode()

    # ¥1.3456…/kg is ¥0.6728…/斤, rounded once
    assert '<span class="avg" data-testid="avg">¥0.67' in page
    assert "¥0.60 – ¥1.00 · 316 jin (斤) · 3 trades" in page
    assert "average per jin (斤)" in page


@pytest.mark.usefixtures("every_trade_shown")
def test_history_page_charts_30_days_with_gaps_where_nothing_traded(settle):
    with at(date(2025, 3, 2)):
        settle("a", unit_price="1.00")
    with at(date(2025, 3, 31)):
        settle("b", unit_price="1.30", gross_kg="102", tare_kg="2")

    response = english().get("/market/prices/VEG-NAPA-CABBAGE/", {"date": "2025-03-31"})
    page = response.content.decode()

    assert response.status_code == 200
    chart = json.loads(
        page.split('id="price-chart-data" type="application/json">')[1].split("<")[0]
    )
    assert len(chart["days"]) == 30
    assert (chart["days"][0], chart["days"][-1]) == ("2025-03-02", "2025-03-31")
    assert chart["avg"][0] == "1.00"
    assert chart["avg"][-1] == "1.30"
    assert chart["avg"][1:-1] == [None] * 28
    assert chart["volume"][-1] == "100"
    assert 'data-day="2025-03-31"' in page
    assert 'data-day="2025-03-15"' not in page
    assert "vendor/uplot/uPlot.iife.min.js" in page
    assert "https://" not in page.split("<main")[1]  # nothing from a CDN


@pytest.mark.usefixtures("every_trade_shown")
def test_history_page_with_one_traded_day_draws_the_chart(settle):
    settle("only")

    page = english().get("/market/prices/VEG-NAPA-CABBAGE/").content.decode()

    assert 'data-testid="chart"' in page
    assert '<span class="big">¥1.20</span>' in page


def test_history_page_without_trades_shows_an_empty_state(cabbage):
    page = english().get(f"/market/prices/{cabbage.code}/").content.decode()

    assert 'data-testid="history-empty"' in page
    assert 'data-testid="chart"' not in page
    assert "vendor/uplot" not in page  # no chart library loaded for nothing


def test_history_of_an_unknown_product_is_not_found(db):
    assert english().get("/market/prices/VEG-NOTHING/").status_code == 404


# The API


def test_api_price_board_is_public(cabbage_day):
    response = Client().get(API)

    assert response.status_code == 200
    body = response.json()
    assert body["business_date"] == business_today().isoformat()
    [row] = body["results"]
    assert row == {
        "business_date": business_today().isoformat(),
        "product": "VEG-NAPA-CABBAGE",
        "product_name_zh": "大白菜",
        "product_name_en": "Napa cabbage",
        "category": "leafy_vegetable",
        "category_label": row["category_label"],
        "published": True,
        "currency": "CNY",
        "min_price_per_kg": "1.20",
        "avg_price_per_kg": "1.35",
        "max_price_per_kg": "2.00",
        "price_unit": "kg",
        "min_price": "1.20",
        "avg_price": "1.35",
        "max_price": "2.00",
        "volume_kg": "158.000",
        "volume": "158.000",
        "trade_count": 3,
    }


def test_api_prices_per_jin_for_a_user_who_reads_jin(api_as, cabbage_day):
    reader = UserFactory(weight_unit="jin")

    [row] = api_as(reader).get(API).json()["results"]

    assert row["price_unit"] == "jin"
    assert (row["min_price"], row["avg_price"], row["max_price"]) == ("0.60", "0.67", "1.00")
    assert row["avg_price_per_kg"] == "1.35"
    assert row["volume"] == "316.000"


@pytest.mark.usefixtures("every_trade_shown")
def test_api_filters_by_day_product_and_market(cabbage_day, tomato, settle, other_market_trade):
    settle("tomato", product=tomato, gross_kg="20", tare_kg="0", unit_price="4.00")
    client = Client()

    assert len(client.get(API).json()["results"]) == 2
    [tomato_row] = client.get(API, {"product": "VEG-TOMATO"}).json()["results"]
    assert tomato_row["avg_price_per_kg"] == "4.00"
    [there] = client.get(API, {"market": "jiangnan"}).json()["results"]
    assert (there["product"], there["trade_count"]) == ("VEG-NAPA-CABBAGE", 1)
    yesterday = (business_today() - timedelta(days=1)).isoformat()
    assert client.get(API, {"date": yesterday}).json()["results"] == []
    assert client.get(API, {"market": "nowhere"}).status_code == 400
    assert client.get(API, {"date": "31/03"}).status_code == 400


@pytest.mark.usefixtures("every_trade_shown")
def test_api_history_lists_only_days_with_trades(settle):
    with at(date(2025, 3, 1)):
        settle("out", unit_price="9.00")
    with at(date(2025, 3, 10)):
        settle("a", unit_price="1.00")
    with at(date(2025, 3, 12)):
        settle("b", unit_price="1.40")

    body = Client().get(f"{API}VEG-NAPA-CABBAGE/history/", {"date": "2025-03-30"}).json()

    assert (body["since"], body["until"], body["days"]) == ("2025-03-01", "2025-03-30", 30)
    assert [(row["business_date"], row["avg_price_per_kg"]) for row in body["results"]] == [
        ("2025-03-01", "9.00"),
        ("2025-03-10", "1.00"),
        ("2025-03-12", "1.40"),
    ]
    later = Client().get(f"{API}VEG-NAPA-CABBAGE/history/", {"date": "2025-03-31"}).json()
    assert [row["business_date"] for row in later["results"]] == ["2025-03-10", "2025-03-12"]


def test_api_history_of_a_product_never_traded_is_empty(cabbage):
    body = Client().get(f"{API}{cabbage.code}/history/").json()

    assert body["results"] == []
    assert Client().get(f"{API}VEG-NOTHING/history/").status_code == 404


def test_api_price_board_is_read_only(cabbage_day, api_as, market_operator):
    assert Client().post(API, {}).status_code in (401, 403, 405)
    assert api_as(market_operator).post(API, {}).status_code == 405


# Privacy: one or two trades would give away a trader's own price and weight


@pytest.mark.parametrize("trades", [1, 2])
def test_a_day_with_fewer_than_three_trades_shows_no_price(settle, trades):
    for number in range(trades):
        settle(f"t{number}", unit_price="1.37", gross_kg="61.000", tare_kg="0")

    [row] = daily_prices(business_date=business_today())
    [api_row] = Client().get(API).json()["results"]
    page = english().get(BOARD).content.decode()
    history = english().get("/market/prices/VEG-NAPA-CABBAGE/").content.decode()

    assert (row.published, row.avg_price, row.volume_kg, row.trade_count) == (
        False,
        None,
        None,
        None,
    )
    assert api_row["published"] is False
    assert {api_row[key] for key in ("min_price", "avg_price", "max_price", "volume_kg")} == {None}
    assert api_row["trade_count"] is None
    for shown in (page, history):
        assert "¥1.37" not in shown
        assert "61 kg" not in shown
        assert "¥0.69" not in shown  # nor per 斤
    assert "1.37" not in str(api_row)
    assert "61.000" not in str(api_row)
    assert "大白菜" in page
    assert "fewer than 3 trades" in page


def test_a_day_with_three_trades_shows_its_price(settle):
    for number in range(3):
        settle(f"t{number}", unit_price="1.37", gross_kg="61.000", tare_kg="0")

    [api_row] = Client().get(API).json()["results"]
    page = english().get(BOARD).content.decode()

    assert (api_row["published"], api_row["avg_price_per_kg"], api_row["volume_kg"]) == (
        True,
        "1.37",
        "183.000",
    )
    assert "¥1.37 – ¥1.37 · 183 kg · 3 trades" in page
    assert "fewer than" not in page


def test_a_closed_day_shows_its_single_trade(settle, market):
    yesterday = business_today() - timedelta(days=1)
    with at(yesterday):
        settle("only", unit_price="1.37", gross_kg="61.000", tare_kg="0")
    hidden = Client().get(API, {"date": yesterday.isoformat()}).json()["results"]

    end_of_day.close_business_day(market=market, business_date=yesterday)

    [api_row] = Client().get(API, {"date": yesterday.isoformat()}).json()["results"]
    page = english().get(BOARD, {"date": yesterday.isoformat()}).content.decode()
    assert hidden[0]["avg_price_per_kg"] is None
    assert (api_row["published"], api_row["avg_price_per_kg"], api_row["trade_count"]) == (
        True,
        "1.37",
        1,
    )
    assert "¥1.37 – ¥1.37 · 61 kg · 1 trade" in page


def test_all_markets_row_waits_for_each_markets_own_three_trades(cabbage_day, other_market_trade):
    """Three trades here and one there: the sum minus this market's row would show hers."""
    [here] = Client().get(API, {"market": "xinfadi"}).json()["results"]
    [everywhere] = Client().get(API).json()["results"]

    assert here["published"] is True
    assert everywhere["published"] is False
    assert everywhere["volume_kg"] is None
