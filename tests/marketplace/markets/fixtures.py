"""A wholesale market at work: its operator and supervisor, a buyer with a funded card, a
seller, a commission rule, and the catalogue's products.

A pytest plugin (tests/conftest.py registers it): the markets' tests and the ledger's
(tests/settlement) both use these fixtures without importing them."""

from decimal import Decimal

import pytest

from accounts.choices import Role
from marketplace.markets import services as markets
from marketplace.markets import trades as counter_trades
from marketplace.models import CommissionRule
from settlement.funding import top_up
from tests.accounts.factories import UserFactory
from tests.farms.factories import ProductFactory

BUYER_CARD = "6200000000000001"
SELLER_CARD = "6201000000000001"


@pytest.fixture
def market(db):
    return markets.create_market(code="xinfadi", name="北京新发地", city="北京")


@pytest.fixture
def other_market(db):
    return markets.create_market(code="jiangnan", name="广州江南", city="广州")


@pytest.fixture
def operator(market):
    """An operator at the market's counter (not a supervisor)."""
    user = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=market, user=user)
    return user


@pytest.fixture
def supervisor(market):
    user = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=market, user=user, is_supervisor=True)
    return user


@pytest.fixture
def other_operator(other_market):
    user = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=other_market, user=user, is_supervisor=True)
    return user


@pytest.fixture
def commission(market):
    """1 % from the buyer, 2 % from the seller, at least ¥1 a side."""
    return CommissionRule.objects.create(
        market=market, buyer_pct=Decimal("1"), seller_pct=Decimal("2"), minimum_fee=Decimal("1")
    )


@pytest.fixture
def trading_farmer(db):
    return UserFactory(role=Role.FARMER)


@pytest.fixture
def trading_buyer(db):
    return UserFactory(role=Role.BUYER)


@pytest.fixture
def seller_trader(market, trading_farmer):
    return markets.register_trader(
        market=market, kind="seller", name="王大姐", card_number=SELLER_CARD, user=trading_farmer
    )


@pytest.fixture
def buyer_trader(market, trading_buyer, operator):
    """A buyer whose card holds ¥10,000.00."""
    trader = markets.register_trader(
        market=market, kind="buyer", name="李记餐饮", card_number=BUYER_CARD, user=trading_buyer
    )
    top_up(
        account=markets.settlement_account(trader),
        amount=Decimal("10000.00"),
        method="cash",
        by=operator,
        idempotency_key="fixture-funding",
    )
    return trader


@pytest.fixture
def cabbage(db):
    return ProductFactory(code="VEG-NAPA-CABBAGE", name_zh="大白菜", name_en="Napa cabbage")


@pytest.fixture
def settle(market, operator, buyer_trader, seller_trader, cabbage):
    """settle(key, **overrides) → a trade of 100 kg gross, 2 kg tare, ¥1.20/kg by default."""

    def trade(key: str = "t1", **overrides):
        arguments = {
            "market": market,
            "by": operator,
            "buyer_card": BUYER_CARD,
            "seller_card": SELLER_CARD,
            "product": cabbage,
            "gross_kg": "100.000",
            "tare_kg": "2.000",
            "unit_price": "1.20",
            "idempotency_key": key,
            **overrides,
        }
        return counter_trades.settle_trade(**arguments)

    return trade
