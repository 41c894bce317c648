"""The operator's counter pages: record a trade (form, confirmation, receipt), card top-ups
and withdrawals, the day's trades and their reversal, traders; each role's limits."""

import base64
import re
import zlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from moneyed import Money

from accounts.choices import Role
from common.dates import business_today
from marketplace.markets import services as markets
from marketplace.markets.selectors.counter import card_balance
from marketplace.models import MarketDay, Trade, Trader
from settlement.models import JournalEntry
from tests.accounts.factories import UserFactory
from tests.farms.factories import HarvestLotFactory, ProductFactory

from .fixtures import BUYER_CARD, SELLER_CARD

pytestmark = pytest.mark.django_db

OPERATOR_PAGES = [
    "/market/counter/",
    "/market/counter/preview/",
    "/market/trades/",
    "/market/cards/top-up/",
    "/market/cards/withdraw/",
    "/market/traders/",
    "/market/traders/new/",
]


@pytest.fixture
def page_as():
    """page_as(user) → a test client signed in as `user`, asking for English pages."""

    def sign_in(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def trade(settle, commission):
    """98 kg net of cabbage at ¥1.20: ¥117.60, commissions ¥1.18 and ¥2.35."""
    return settle("fixture-trade")


def _weighing(**overrides) -> dict:
    return {
        "buyer_card": BUYER_CARD,
        "seller_card": SELLER_CARD,
        "product": "VEG-NAPA-CABBAGE",
        "lot": "",
        "gross_kg": "100",
        "tare_kg": "2",
        "unit_price": "1.20",
        "idempotency_key": "counter-key-1",
        **overrides,
    }


def _confirm(client, **overrides):
    return client.post("/market/counter/", {**_weighing(**overrides), "step": "confirm"})


def _field_errors(response, name: str) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


def _pdf_text(pdf: bytes) -> str:
    """The text drawn on the PDF's pages: reportlab compresses each page's content stream
    (ASCII85 over Flate) and writes CID text as UTF-16 literal strings."""
    texts = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        content = zlib.decompress(base64.a85decode(stream.strip().removesuffix(b"~>")))
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", content, re.S):
            raw = re.sub(
                rb"\\([0-7]{1,3}|.)",
                lambda m: (
                    bytes([int(m.group(1), 8)])
                    if m.group(1)[:1].isdigit()
                    else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1))
                ),
                literal,
            )
            texts.append(raw.decode("utf-16-be", errors="replace"))
    return "\n".join(texts)


# --- Who may open the pages ----------------------------------------------------------------


@pytest.mark.parametrize("url", OPERATOR_PAGES)
def test_anonymous_visitor_is_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")


@pytest.mark.parametrize("url", OPERATOR_PAGES)
@pytest.mark.parametrize("role", [Role.FARMER, Role.BUYER, Role.COURIER])
def test_other_roles_are_refused(page_as, url, role):
    assert page_as(UserFactory(role=role)).get(url).status_code == 403


@pytest.mark.parametrize("url", OPERATOR_PAGES)
def test_operator_of_no_market_finds_nothing(page_as, market_operator, url):
    assert page_as(market_operator).get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/market/trades/{pk}/receipt/",
        "/market/trades/{pk}/receipt.pdf",
        "/market/trades/{pk}/reverse/",
    ],
)
def test_operator_of_another_market_does_not_find_its_trades(page_as, other_operator, trade, url):
    assert page_as(other_operator).get(url.format(pk=trade.pk)).status_code == 404


def test_operator_of_another_market_cannot_suspend_its_traders(
    page_as, other_operator, seller_trader
):
    response = page_as(other_operator).post(
        f"/market/traders/{seller_trader.pk}/activation/", {"active": "0"}
    )

    assert response.status_code == 404
    seller_trader.refresh_from_db()
    assert seller_trader.is_active


OPERATOR_POSTS = [
    "/market/counter/",
    "/market/cards/top-up/",
    "/market/cards/withdraw/",
    "/market/traders/new/",
    "/market/trades/{trade}/reverse/",
    "/market/traders/{trader}/activation/",
]


@pytest.mark.parametrize("url", OPERATOR_POSTS)
def test_anonymous_posts_are_sent_to_sign_in_and_change_nothing(client, trade, url):
    entries = JournalEntry.objects.count()

    response = client.post(
        url.format(trade=trade.pk, trader=trade.buyer_id),
        {**_weighing(), "reason": "x", "active": "0", "step": "confirm"},
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")
    assert JournalEntry.objects.count() == entries
    assert Trader.objects.get(pk=trade.buyer_id).is_active


@pytest.mark.parametrize("url", OPERATOR_POSTS)
@pytest.mark.parametrize("role", [Role.FARMER, Role.BUYER])
def test_other_roles_may_not_post(page_as, trade, url, role):
    entries = JournalEntry.objects.count()

    response = page_as(UserFactory(role=role)).post(
        url.format(trade=trade.pk, trader=trade.buyer_id),
        {**_weighing(), "reason": "x", "active": "0", "step": "confirm"},
    )

    assert response.status_code == 403
    assert JournalEntry.objects.count() == entries
    assert Trader.objects.get(pk=trade.buyer_id).is_active


@pytest.mark.parametrize("url", OPERATOR_POSTS)
def test_operator_of_no_market_may_not_post(page_as, market_operator, trade, url):
    entries = JournalEntry.objects.count()

    response = page_as(market_operator).post(
        url.format(trade=trade.pk, trader=trade.buyer_id),
        {**_weighing(), "reason": "x", "active": "0", "step": "confirm"},
    )

    assert response.status_code == 404
    assert JournalEntry.objects.count() == entries


# --- Recording a trade ---------------------------------------------------------------------


def test_counter_shows_the_form_with_a_fresh_key_and_the_markets_active_sellers(
    page_as, operator, seller_trader, other_market, cabbage
):
    markets.register_trader(market=other_market, kind="seller", name="外地", card_number="77770001")
    suspended = markets.register_trader(
        market=seller_trader.market, kind="seller", name="停用户", card_number="77770002"
    )
    Trader.objects.filter(pk=suspended.pk).update(is_active=False)

    first = page_as(operator).get("/market/counter/")
    second = page_as(operator).get("/market/counter/")

    page = first.content.decode()
    assert first.status_code == 200
    assert "王大姐" in page
    assert "外地" not in page
    assert "停用户" not in page
    assert "大白菜" in page
    assert 'data-preview-url="/market/counter/preview/"' in page
    first_key = first.context["form"]["idempotency_key"].value()
    assert first_key
    assert first_key != second.context["form"]["idempotency_key"].value()


def test_review_shows_names_weights_commissions_and_the_buyers_balance(
    page_as, operator, buyer_trader, seller_trader, cabbage, commission
):
    response = page_as(operator).post("/market/counter/", _weighing())

    assert response.status_code == 200
    assert "marketplace/markets/counter/confirm.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert "李记餐饮" in page
    assert "王大姐" in page
    assert "98.000 kg" in page
    assert "¥117.60" in page
    assert "¥1.18" in page
    assert "¥2.35" in page
    assert "¥118.78" in page  # what the buyer pays
    assert "¥10000.00" in page  # her card's balance
    assert 'name="idempotency_key" value="counter-key-1"' in page
    assert not Trade.objects.exists()


def test_confirming_records_the_trade_and_shows_its_receipt(
    page_as, operator, buyer_trader, seller_trader, cabbage, commission
):
    client = page_as(operator)

    response = _confirm(client)

    trade = Trade.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/market/trades/{trade.pk}/receipt/"
    assert (trade.buyer, trade.seller, trade.product) == (buyer_trader, seller_trader, cabbage)
    assert trade.net_kg == Decimal("98.000")
    assert trade.buyer_pays == Money("118.78", "CNY")
    assert card_balance(buyer_trader) == Money("9881.22", "CNY")
    receipt = client.get(response["Location"]).content.decode()
    assert "大白菜" in receipt
    assert "李记餐饮" in receipt
    assert "王大姐" in receipt
    assert "¥118.78" in receipt
    assert "¥115.25" in receipt
    assert "data-print" in receipt
    # Its print styles are in its own stylesheet (the Content-Security-Policy allows no <style>).
    assert "/static/css/marketplace/receipt.css" in receipt
    assert "@media print" in Path(finders.find("css/marketplace/receipt.css")).read_text()
    assert f"/market/trades/{trade.pk}/receipt.pdf" in receipt


def test_double_submit_records_one_trade(page_as, operator, buyer_trader, seller_trader, cabbage):
    client = page_as(operator)

    first = _confirm(client)
    second = _confirm(client)

    assert Trade.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert card_balance(buyer_trader) == Money("9882.40", "CNY")


def test_the_seller_may_be_picked_from_the_list(
    page_as, operator, buyer_trader, seller_trader, cabbage
):
    response = _confirm(page_as(operator), seller_card="", seller=str(seller_trader.pk))

    assert response.status_code == 302
    assert Trade.objects.get().seller == seller_trader


def test_a_lot_code_is_recorded_with_the_trade(
    page_as, operator, buyer_trader, seller_trader, cabbage
):
    lot = HarvestLotFactory(product=cabbage)

    _confirm(page_as(operator), lot=lot.lot_code)

    assert Trade.objects.get().lot == lot


def test_a_lot_of_another_product_is_refused_on_the_lot(
    page_as, operator, buyer_trader, seller_trader, cabbage
):
    lot = HarvestLotFactory(product=ProductFactory(code="VEG-TOMATO"))

    response = page_as(operator).post("/market/counter/", _weighing(lot=lot.lot_code))

    assert _field_errors(response, "lot")
    assert not Trade.objects.exists()


def test_changing_goes_back_to_the_form_with_the_values(
    page_as, operator, buyer_trader, seller_trader, cabbage
):
    response = page_as(operator).post("/market/counter/", {**_weighing(), "step": "edit"})

    assert "marketplace/markets/counter/counter.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert f'value="{BUYER_CARD}"' in page
    assert 'value="counter-key-1"' in page


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"buyer_card": "6299999999999999"}, "buyer_card"),
        ({"buyer_card": SELLER_CARD}, "buyer_card"),
        ({"seller_card": "6299999999999999"}, "seller_card"),
        ({"seller_card": ""}, "seller_card"),
        ({"gross_kg": "0"}, "gross_kg"),
        ({"tare_kg": "100"}, "tare_kg"),
        ({"gross_kg": "1.0001"}, "gross_kg"),
        ({"unit_price": "1.234"}, "unit_price"),
        ({"product": "NO-SUCH-THING"}, "product"),
        ({"lot": "NO-SUCH-LOT"}, "lot"),
    ],
)
@pytest.mark.parametrize("step", ["review", "confirm"])
def test_a_refusal_shows_on_its_field_and_writes_nothing(
    page_as, operator, buyer_trader, seller_trader, cabbage, overrides, field, step
):
    entries = JournalEntry.objects.count()

    response = page_as(operator).post("/market/counter/", {**_weighing(**overrides), "step": step})

    assert response.status_code == 200
    assert _field_errors(response, field)
    assert not Trade.objects.exists()
    assert JournalEntry.objects.count() == entries


@pytest.mark.parametrize("step", ["review", "confirm"])
def test_a_card_short_of_the_money_is_refused_with_its_balance(
    page_as, operator, buyer_trader, seller_trader, cabbage, step
):
    response = page_as(operator).post(
        "/market/counter/", {**_weighing(gross_kg="10000", tare_kg="0"), "step": step}
    )

    errors = _field_errors(response, "buyer_card")
    assert "10000.00" in errors[0]
    assert errors[0] in response.content.decode()
    assert not Trade.objects.exists()
    assert card_balance(buyer_trader) == Money("10000.00", "CNY")


def test_a_suspended_card_is_refused(page_as, operator, buyer_trader, seller_trader, cabbage):
    page_as(operator).post(f"/market/traders/{buyer_trader.pk}/activation/", {"active": "0"})

    response = _confirm(page_as(operator))

    assert "suspended" in _field_errors(response, "buyer_card")[0]
    assert not Trade.objects.exists()


def test_a_closed_day_is_refused_above_the_form(
    page_as, operator, market, buyer_trader, seller_trader, cabbage
):
    MarketDay.objects.create(market=market, business_date=business_today(), status="closed")

    response = _confirm(page_as(operator))

    assert response.context["form"].non_field_errors()
    assert not Trade.objects.exists()


def test_the_same_key_for_another_weighing_records_nothing_and_offers_a_new_key(
    page_as, operator, buyer_trader, seller_trader, cabbage
):
    client = page_as(operator)
    _confirm(client)

    response = _confirm(client, gross_kg="50")

    assert Trade.objects.count() == 1
    assert response.context["form"].non_field_errors()
    assert response.context["form"]["idempotency_key"].value() != "counter-key-1"


def test_live_preview_gives_the_figures_and_errors_of_filled_fields_only(
    page_as, operator, buyer_trader, seller_trader, cabbage, commission
):
    client = page_as(operator)

    full = client.get("/market/counter/preview/", _weighing()).json()
    partial = client.get(
        "/market/counter/preview/", {"gross_kg": "100", "tare_kg": "120", "buyer_card": BUYER_CARD}
    ).json()

    assert full["buyer"] == "李记餐饮"
    assert full["seller"] == "王大姐"
    assert full["net_kg"] == "98.000"
    assert full["amount"] == "117.60"
    assert (full["buyer_fee"], full["seller_fee"]) == ("1.18", "2.35")
    assert full["buyer_pays"] == "118.78"
    assert full["buyer_balance"] == "10000.00"
    assert full["errors"] == {}
    assert set(partial["errors"]) == {"tare_kg"}
    assert partial["buyer"] == "李记餐饮"
    assert partial["amount"] is None


# --- Receipts ------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["operator", "supervisor", "trading_farmer", "trading_buyer"])
def test_receipt_opens_for_the_markets_staff_and_the_trades_parties(
    page_as, request, trade, viewer
):
    response = page_as(request.getfixturevalue(viewer)).get(f"/market/trades/{trade.pk}/receipt/")

    assert response.status_code == 200
    assert "大白菜" in response.content.decode()


@pytest.mark.parametrize("role", [Role.FARMER, Role.BUYER, Role.MARKET_OPERATOR])
def test_receipt_is_not_found_for_anyone_else(page_as, trade, role):
    stranger = page_as(UserFactory(role=role))

    assert stranger.get(f"/market/trades/{trade.pk}/receipt/").status_code == 404
    assert stranger.get(f"/market/trades/{trade.pk}/receipt.pdf").status_code == 404


def test_receipt_asks_an_anonymous_visitor_to_sign_in(client, trade):
    assert client.get(f"/market/trades/{trade.pk}/receipt/").status_code == 302
    assert client.get(f"/market/trades/{trade.pk}/receipt.pdf").status_code == 302


def test_receipt_pdf_is_a_pdf_with_the_chinese_names(page_as, trading_farmer, trade):
    response = page_as(trading_farmer).get(f"/market/trades/{trade.pk}/receipt.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 1024
    text = _pdf_text(response.content)
    assert "大白菜" in text
    assert "北京新发地" in text
    assert "李记餐饮" in text
    assert "王大姐" in text
    assert "¥118.78" in text


# --- Cards ---------------------------------------------------------------------------------


def _card(client, url, step, **overrides):
    data = {
        "card_number": BUYER_CARD,
        "amount": "500",
        "method": "cash",
        "idempotency_key": "card-key-1",
        "step": step,
        **overrides,
    }
    return client.post(url, data)


def test_top_up_confirmation_shows_the_holder_and_her_balance_before_and_after(
    page_as, operator, buyer_trader
):
    response = _card(page_as(operator), "/market/cards/top-up/", "review")

    page = response.content.decode()
    assert "李记餐饮" in page
    assert "¥10000.00" in page
    assert "¥10500.00" in page
    assert card_balance(buyer_trader) == Money("10000.00", "CNY")


def test_top_up_pays_onto_the_card_once_however_often_it_is_sent(page_as, operator, buyer_trader):
    client = page_as(operator)
    entries = JournalEntry.objects.count()

    first = _card(client, "/market/cards/top-up/", "confirm")
    _card(client, "/market/cards/top-up/", "confirm")

    assert first.status_code == 302
    assert card_balance(buyer_trader) == Money("10500.00", "CNY")
    assert JournalEntry.objects.count() == entries + 1
    assert "10500.00" in client.get(first["Location"]).content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"card_number": "6299999999999999"}, "card_number"),
        ({"card_number": SELLER_CARD}, "card_number"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.005"}, "amount"),
    ],
)
def test_a_refused_top_up_shows_on_its_field_and_writes_nothing(
    page_as, operator, buyer_trader, seller_trader, overrides, field
):
    entries = JournalEntry.objects.count()

    response = _card(page_as(operator), "/market/cards/top-up/", "confirm", **overrides)

    assert _field_errors(response, field)
    assert JournalEntry.objects.count() == entries


def test_withdrawal_waits_for_a_supervisor(page_as, operator, buyer_trader):
    client = page_as(operator)

    review = _card(client, "/market/cards/withdraw/", "review", amount="200", method="bank")
    done = _card(client, "/market/cards/withdraw/", "confirm", amount="200", method="bank")

    assert "¥9800.00" in review.content.decode()
    assert 'data-testid="needs-approval"' in review.content.decode()
    assert done.status_code == 302
    assert done["Location"] == "/market/requests/"
    assert card_balance(buyer_trader) == Money("10000.00", "CNY")
    mine = client.get("/market/requests/").content.decode()
    assert "¥200.00" in mine


@pytest.mark.parametrize("step", ["review", "confirm"])
def test_withdrawing_more_than_the_card_holds_is_refused_with_the_balance(
    page_as, operator, buyer_trader, step
):
    response = _card(page_as(operator), "/market/cards/withdraw/", step, amount="20000")

    assert "10000.00" in _field_errors(response, "amount")[0]
    assert card_balance(buyer_trader) == Money("10000.00", "CNY")


# --- The day's trades and reversals --------------------------------------------------------


def test_trade_list_shows_todays_trades_with_totals(page_as, operator, trade):
    response = page_as(operator).get("/market/trades/")

    page = response.content.decode()
    assert f'data-trade="{trade.pk}"' in page
    totals = response.context["totals"]
    assert totals.trade_count == 1
    assert totals.volume_kg == Decimal("98.000")
    assert totals.turnover == Money("117.60", "CNY")
    assert totals.commission == Money("3.53", "CNY")
    assert "¥117.60" in page
    assert 'data-testid="reverse"' not in page  # not a supervisor


def test_trade_list_of_another_day(page_as, operator, trade):
    yesterday = (business_today() - timedelta(days=1)).isoformat()

    response = page_as(operator).get("/market/trades/", {"date": yesterday})

    assert f'data-trade="{trade.pk}"' not in response.content.decode()
    assert response.context["totals"].trade_count == 0


def test_trade_list_shows_only_the_operators_market(page_as, other_operator, trade):
    response = page_as(other_operator).get("/market/trades/")

    assert f'data-trade="{trade.pk}"' not in response.content.decode()


def test_supervisor_reverses_a_trade_after_a_confirmation(page_as, supervisor, trade):
    client = page_as(supervisor)
    listing = client.get("/market/trades/").content.decode()
    assert f"/market/trades/{trade.pk}/reverse/" in listing

    confirm = client.get(f"/market/trades/{trade.pk}/reverse/")
    key = confirm.context["form"]["idempotency_key"].value()
    response = client.post(
        f"/market/trades/{trade.pk}/reverse/",
        {"reason": "Wrong buyer card", "idempotency_key": key},
    )
    again = client.post(
        f"/market/trades/{trade.pk}/reverse/",
        {"reason": "Wrong buyer card", "idempotency_key": key},
    )

    assert confirm.status_code == 200
    assert "大白菜" in confirm.content.decode()
    assert response.status_code == 302
    assert again.status_code == 302
    trade.refresh_from_db()
    assert trade.is_reversed
    assert trade.reversal_reason == "Wrong buyer card"
    assert card_balance(trade.buyer) == Money("10000.00", "CNY")
    assert JournalEntry.objects.filter(reverses=trade.entry).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert 'class="reversed"' in page
    assert "Wrong buyer card" in page
    totals = client.get(response["Location"]).context["totals"]
    assert totals.trade_count == 0
    assert totals.reversed_count == 1


def test_a_reversal_needs_a_reason(page_as, supervisor, trade):
    response = page_as(supervisor).post(
        f"/market/trades/{trade.pk}/reverse/", {"reason": "", "idempotency_key": "r1"}
    )

    assert _field_errors(response, "reason")
    trade.refresh_from_db()
    assert not trade.is_reversed


def test_a_plain_operator_may_not_reverse(page_as, operator, trade):
    client = page_as(operator)

    assert client.get(f"/market/trades/{trade.pk}/reverse/").status_code == 403
    response = client.post(
        f"/market/trades/{trade.pk}/reverse/", {"reason": "Mistake", "idempotency_key": "r1"}
    )

    assert response.status_code == 403
    trade.refresh_from_db()
    assert not trade.is_reversed


# --- Traders -------------------------------------------------------------------------------


def test_trader_list_shows_the_markets_traders_with_balances(
    page_as, operator, trade, other_market
):
    markets.register_trader(
        market=other_market, kind="buyer", name="外地买家", card_number="88880001"
    )

    response = page_as(operator).get("/market/traders/")

    page = response.content.decode()
    assert "李记餐饮" in page
    assert "王大姐" in page
    assert "外地买家" not in page
    balances = {trader.name: trader.balance for trader in response.context["page"]}
    assert balances == {"李记餐饮": Decimal("9881.22"), "王大姐": Decimal("115.25")}
    assert "¥9881.22" in page


def test_operator_registers_a_seller_linked_to_a_farmer_by_phone(
    page_as, operator, market, trading_farmer
):
    response = page_as(operator).post(
        "/market/traders/new/",
        {
            "name": "张三",
            "kind": "seller",
            "card_number": "62010000000099",
            "phone": "",
            "user_phone": trading_farmer.phone.removeprefix("+86"),
        },
    )

    assert response.status_code == 302
    trader = Trader.objects.get(card_number="62010000000099")
    assert (trader.market, trader.kind, trader.user) == (market, "seller", trading_farmer)
    assert card_balance(trader) == Money("0.00", "CNY")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"card_number": SELLER_CARD}, "card_number"),
        ({"card_number": "12ab"}, "card_number"),
        ({"user_phone": "13999999999"}, "user_phone"),
    ],
)
def test_a_refused_registration_shows_on_its_field(
    page_as, operator, seller_trader, overrides, field
):
    data = {"name": "张三", "kind": "seller", "card_number": "62010000000099", "phone": ""}

    response = page_as(operator).post("/market/traders/new/", {**data, **overrides})

    assert _field_errors(response, field)
    assert not Trader.objects.filter(name="张三").exists()


def test_operator_suspends_and_reactivates_a_card(page_as, operator, seller_trader):
    client = page_as(operator)

    client.post(f"/market/traders/{seller_trader.pk}/activation/", {"active": "0"})
    seller_trader.refresh_from_db()
    assert not seller_trader.is_active
    assert "Suspended" in client.get("/market/traders/").content.decode()

    client.post(f"/market/traders/{seller_trader.pk}/activation/", {"active": "1"})
    seller_trader.refresh_from_db()
    assert seller_trader.is_active
