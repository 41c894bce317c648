"""A trader on her phone: her card's balance, today's trades, her statements; only hers."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.choices import Role
from common.dates import business_today
from marketplace.markets import services as markets
from marketplace.markets.end_of_day import close_business_day
from marketplace.markets.trades import reverse_trade
from marketplace.models import Statement
from settlement.accounts import wallet_of
from settlement.funding import top_up
from settlement.models import Account
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/market/me/"
API_ME = "/api/market/me/"
API_STATEMENTS = "/api/market/me/statements/"


@pytest.fixture
def page_as():
    """page_as(user) → a test client signed in as `user`, asking for English pages."""

    def sign_in(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def closed_day(settle, market, commission):
    """One trade (98 kg × ¥1.20) settled and the day closed: both traders have a statement."""
    trade = settle("t1")
    close_business_day(market=market, business_date=business_today())
    return trade


def statement_of(trader) -> Statement:
    return Statement.objects.get(trader=trader, business_date=business_today())


# The page


def test_signing_in_is_needed_for_the_account_page():
    response = Client().get(ME)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign_in"))


def test_a_user_without_a_card_sees_a_friendly_empty_state(page_as, farmer):
    response = page_as(farmer).get(ME)

    assert response.status_code == 200
    assert b'data-testid="no-traders"' in response.content
    assert "You have no card at a wholesale market yet." in response.content.decode()


def test_seller_sees_what_the_market_owes_her_and_todays_sale(
    page_as, settle, trading_farmer, commission
):
    trade = settle("t1")

    page = page_as(trading_farmer).get(ME).content.decode()

    assert "王大姐" in page
    assert "北京新发地" in page
    assert "card ending 0001" in page
    assert "The market owes you" in page
    assert '<div class="balance" data-testid="balance">¥115.25</div>' in page
    assert f'data-trade="{trade.pk}"' in page
    assert "大白菜" in page
    assert "Sold" in page
    assert "98 kg × ¥1.20/kg = ¥117.60" in page
    assert "Commission ¥2.35" in page
    assert "You get ¥115.25" in page


def test_buyer_sees_her_card_balance_and_what_she_paid(page_as, settle, trading_buyer, commission):
    settle("t1")

    page = page_as(trading_buyer).get(ME).content.decode()

    assert "Balance on your card" in page
    assert '<div class="balance" data-testid="balance">¥9881.22</div>' in page
    assert "Bought" in page
    assert "Commission ¥1.18" in page
    assert "You pay ¥118.78" in page


def test_a_reversed_trade_is_marked_and_its_money_is_back(
    page_as, settle, trading_buyer, supervisor
):
    trade = settle("t1")
    reverse_trade(trade_id=trade.pk, by=supervisor, reason="wrong scale", idempotency_key="r1")

    page = page_as(trading_buyer).get(ME).content.decode()

    assert f'data-trade="{trade.pk}" class="reversed"' in page
    assert "Reversed: wrong scale." in page
    assert '<div class="balance" data-testid="balance">¥10000.00</div>' in page


def test_weights_and_prices_follow_the_users_unit(page_as, settle, trading_buyer):
    trading_buyer.weight_unit = "jin"
    trading_buyer.save(update_fields=["weight_unit"])
    settle("t1")

    page = page_as(trading_buyer).get(ME).content.decode()

    assert "196 jin (斤) × ¥0.60/jin (斤) = ¥117.60" in page


def test_statements_are_listed_with_pdf_and_csv_links(page_as, closed_day, seller_trader):
    statement = statement_of(seller_trader)

    page = page_as(seller_trader.user).get(ME).content.decode()

    assert f'data-statement="{statement.pk}"' in page
    assert f'href="/market/me/statements/{statement.pk}.pdf"' in page
    assert f'href="/market/me/statements/{statement.pk}.csv"' in page
    assert "1 trade · closing ¥0.00" in page


def test_platform_wallet_shows_only_when_she_has_one(page_as, trading_buyer, operator):
    page = page_as(trading_buyer).get(ME).content.decode()
    assert 'data-testid="platform"' not in page
    assert not Account.objects.filter(user=trading_buyer).exists()  # a GET opens nothing

    top_up(
        account=wallet_of(trading_buyer),
        amount=Decimal("50.00"),
        method="bank",
        by=operator,
        idempotency_key="wallet-1",
    )
    page = page_as(trading_buyer).get(ME).content.decode()

    assert "Platform wallet" in page
    assert '<div class="balance" data-testid="platform-prepaid">¥50.00</div>' in page


def test_a_trader_with_cards_at_two_markets_sees_both(
    page_as, settle, trading_farmer, seller_trader, other_market
):
    markets.register_trader(
        market=other_market,
        kind="seller",
        name="王大姐 (江南)",
        card_number="6201000000000777",
        user=trading_farmer,
    )

    page = page_as(trading_farmer).get(ME).content.decode()

    assert "北京新发地" in page
    assert "广州江南" in page
    assert "card ending 0777" in page


def test_my_statements_page_lists_only_her_own(page_as, closed_day, seller_trader, buyer_trader):
    mine, theirs = statement_of(seller_trader), statement_of(buyer_trader)

    page = page_as(seller_trader.user).get("/market/me/statements/").content.decode()

    assert f'data-statement="{mine.pk}"' in page
    assert f'data-statement="{theirs.pk}"' not in page


# Downloads: hers, her market's staff's, nobody else's


def test_she_downloads_her_statement_as_pdf_and_csv(page_as, closed_day, buyer_trader):
    statement = statement_of(buyer_trader)
    client = page_as(buyer_trader.user)

    pdf = client.get(f"/market/me/statements/{statement.pk}.pdf")
    csv = client.get(f"/market/me/statements/{statement.pk}.csv")

    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf["Content-Disposition"]
    assert f"xinfadi-0001-{business_today().isoformat()}.pdf" in pdf["Content-Disposition"]
    assert csv.status_code == 200
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert "期末余额" in csv.content.decode("utf-8-sig")


@pytest.mark.parametrize("extension", ["pdf", "csv"])
def test_someone_elses_statement_is_not_found(
    page_as, closed_day, buyer_trader, seller_trader, extension
):
    statement = statement_of(seller_trader)

    assert (
        page_as(buyer_trader.user)
        .get(f"/market/me/statements/{statement.pk}.{extension}")
        .status_code
        == 404
    )
    stranger = UserFactory(role=Role.FARMER)
    assert (
        page_as(stranger).get(f"/market/me/statements/{statement.pk}.{extension}").status_code
        == 404
    )


@pytest.mark.parametrize("extension", ["pdf", "csv"])
def test_the_markets_operator_downloads_her_traders_statements(
    page_as, closed_day, seller_trader, operator, other_operator, extension
):
    statement = statement_of(seller_trader)
    url = f"/market/me/statements/{statement.pk}.{extension}"

    assert page_as(operator).get(url).status_code == 200
    assert page_as(other_operator).get(url).status_code == 404


def test_downloading_a_statement_needs_signing_in(closed_day, seller_trader):
    statement = statement_of(seller_trader)

    response = Client().get(f"/market/me/statements/{statement.pk}.pdf")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign_in"))


# The API


def test_api_lists_her_traders_with_balances(api_as, settle, trading_buyer, commission):
    settle("t1")

    response = api_as(trading_buyer).get(API_ME)

    assert response.status_code == 200
    [trader] = response.json()
    assert trader["market"] == "xinfadi"
    assert trader["kind"] == "buyer"
    assert trader["name"] == "李记餐饮"
    assert trader["card_last4"] == "0001"
    assert trader["balance"] == "9881.22"
    assert trader["currency"] == "CNY"
    assert "card_number" not in trader


def test_api_shows_a_user_without_cards_an_empty_list(api_as, buyer_trader, farmer):
    assert api_as(farmer).get(API_ME).json() == []


def test_api_lists_her_statements_with_links(api_as, closed_day, seller_trader, buyer_trader):
    mine = statement_of(seller_trader)

    response = api_as(seller_trader.user).get(API_STATEMENTS)

    assert response.status_code == 200
    [statement] = response.json()["results"]
    assert statement["id"] == mine.pk
    assert statement["business_date"] == business_today().isoformat()
    assert statement["closing_balance"] == "0.00"
    assert statement["trade_count"] == 1
    assert statement["pdf_url"].endswith(f"/market/me/statements/{mine.pk}.pdf")
    assert statement["csv_url"].endswith(f"/market/me/statements/{mine.pk}.csv")


def test_api_does_not_list_statements_of_her_market_to_an_operator(api_as, closed_day, operator):
    """The list is her own; the market's statements are the operator's end-of-day pages."""
    assert api_as(operator).get(API_STATEMENTS).json()["results"] == []


def test_api_filters_statements_by_trader(api_as, closed_day, seller_trader, buyer_trader):
    client = api_as(seller_trader.user)

    assert len(client.get(API_STATEMENTS, {"trader": seller_trader.pk}).json()["results"]) == 1
    assert client.get(API_STATEMENTS, {"trader": buyer_trader.pk}).json()["results"] == []
    assert client.get(API_STATEMENTS, {"trader": "x"}).json()["results"] == []


@pytest.mark.parametrize("url", [API_ME, API_STATEMENTS])
def test_api_needs_signing_in(api_client, url):
    assert api_client.get(url).status_code == 401
