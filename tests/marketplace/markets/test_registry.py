"""The market registry: a market opens its book, a trader her settlement account."""

import pytest
from django.core.exceptions import ValidationError

from accounts.choices import Role
from marketplace.markets import services as markets
from marketplace.models import Market, MarketStaff, Trader
from settlement.choices import AccountKind, BookKind
from settlement.models import Account, BalanceSlot, Book
from settlement.selectors import balance_of
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def slots_of(account: Account) -> list[tuple[int, bool]]:
    return list(
        BalanceSlot.objects.filter(account=account)
        .order_by("slot")
        .values_list("slot", "no_overdraft")
    )


def test_create_market_opens_its_book_with_commission_cash_and_bank_accounts():
    market = markets.create_market(
        code="shouguang", name="寿光农产品物流园", city="潍坊", address="寿光市"
    )

    market = Market.objects.select_related("book").get(pk=market.pk)
    assert (market.code, market.name, market.city, market.address) == (
        "shouguang",
        "寿光农产品物流园",
        "潍坊",
        "寿光市",
    )
    assert market.book.kind == BookKind.MARKET
    assert market.book.code == "market-shouguang"
    accounts = Account.objects.filter(book=market.book).order_by("kind")
    assert sorted(account.kind for account in accounts) == [
        AccountKind.BANK,
        AccountKind.CASH,
        AccountKind.COMMISSION,
    ]
    for account in accounts:
        assert account.trader_id is None
        assert account.user_id is None
        assert account.slots == 8
        assert slots_of(account) == [(n, False) for n in range(8)]
        assert balance_of(account).amount == 0


def test_two_markets_have_two_books():
    first = markets.create_market(code="xinfadi", name="北京新发地", city="北京")
    second = markets.create_market(code="jiangnan", name="广州江南", city="广州")

    assert first.book_id != second.book_id
    assert Book.objects.filter(kind=BookKind.MARKET).count() == 2
    assert Account.objects.filter(book=first.book).count() == 3
    assert Account.objects.filter(book=second.book).count() == 3


def test_register_trader_opens_a_prepaid_account_for_a_buyer(market, trading_buyer):
    trader = markets.register_trader(
        market=market,
        kind="buyer",
        name="李记餐饮",
        card_number="6200000000000009",
        user=trading_buyer,
        phone="+8613800000000",
    )

    account = Account.objects.get(trader=trader)
    assert account.book_id == market.book_id
    assert account.kind == AccountKind.PREPAID
    assert account.name == "李记餐饮"
    assert account.user_id is None
    assert slots_of(account) == [(0, True)]
    assert balance_of(account).amount == 0
    assert markets.settlement_account(trader) == account
    trader = Trader.objects.get(pk=trader.pk)
    assert (trader.market_id, trader.kind, trader.user_id, trader.is_active) == (
        market.pk,
        "buyer",
        trading_buyer.pk,
        True,
    )


def test_register_trader_opens_a_payable_for_a_seller(market, trading_farmer):
    trader = markets.register_trader(
        market=market, kind="seller", name="王大姐", card_number="62010000", user=trading_farmer
    )

    account = Account.objects.get(trader=trader)
    assert account.book_id == market.book_id
    assert account.kind == AccountKind.PAYABLE
    assert slots_of(account) == [(0, False)]
    assert markets.settlement_account(trader) == account


def test_a_trader_without_a_user_account_can_be_registered(market):
    trader = markets.register_trader(
        market=market, kind="seller", name="张三批发", card_number="1234567890123456789"
    )

    assert trader.user is None
    assert markets.settlement_account(trader).kind == AccountKind.PAYABLE


@pytest.mark.parametrize(
    "card_number",
    ["1234567", "12345678901234567890", "6200-0000-0001", "62000000000000a1", "", " 62000001 "],
    ids=["7-digits", "20-digits", "dashes", "letter", "empty", "spaces"],
)
def test_a_card_number_has_8_to_19_digits(market, card_number):
    with pytest.raises(ValidationError) as refused:
        markets.register_trader(market=market, kind="buyer", name="某", card_number=card_number)

    assert "card_number" in refused.value.message_dict
    assert not Trader.objects.exists()
    assert not Account.objects.filter(kind=AccountKind.PREPAID).exists()


@pytest.mark.parametrize("card_number", ["12345678", "1234567890123456789"], ids=["8", "19"])
def test_8_and_19_digit_card_numbers_are_accepted(market, card_number):
    trader = markets.register_trader(
        market=market, kind="buyer", name="某", card_number=card_number
    )

    assert Trader.objects.get(pk=trader.pk).card_number == card_number


def test_a_card_number_is_unique_across_markets(market, other_market, buyer_trader):
    accounts_before = Account.objects.count()

    with pytest.raises(ValidationError) as refused:
        markets.register_trader(
            market=other_market,
            kind="seller",
            name="另一个",
            card_number=buyer_trader.card_number,
        )

    assert "card_number" in refused.value.message_dict
    assert Trader.objects.filter(card_number=buyer_trader.card_number).count() == 1
    assert Account.objects.count() == accounts_before


def test_market_of_is_the_market_a_user_works_for(market, other_market, operator, supervisor):
    other = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=other_market, user=other)

    assert markets.market_of(operator) == market
    assert markets.market_of(supervisor) == market
    assert markets.market_of(other) == other_market
    assert markets.market_of(UserFactory(role=Role.FARMER)) is None
    assert markets.market_of(UserFactory(role=Role.MARKET_OPERATOR)) is None


def test_add_staff_moves_a_user_to_another_market(market, other_market, operator):
    markets.add_staff(market=other_market, user=operator, is_supervisor=True)

    assert markets.market_of(operator) == other_market
    assert MarketStaff.objects.get(user=operator).is_supervisor
