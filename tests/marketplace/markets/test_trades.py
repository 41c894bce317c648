"""Counter trades, reversals and card top-ups/withdrawals, asserted on the ledger they leave.

Fixtures (tests/marketplace/markets/fixtures.py): the buyer's card holds ¥10,000.00; `settle`
records 100 kg gross, 2 kg tare at ¥1.20/kg unless told otherwise.
"""

from decimal import Decimal

import pytest
from moneyed import Money

from accounts.choices import Role
from common.dates import business_today
from common.exceptions import RefusalKind
from marketplace.exceptions import (
    BusinessDayClosed,
    InactiveTrader,
    InvalidProduct,
    InvalidUnitPrice,
    InvalidWeight,
    NotMarketStaff,
    ReasonRequired,
    TareAboveGross,
    UnknownCard,
    WrongTraderKind,
)
from marketplace.markets import funding
from marketplace.markets import services as markets
from marketplace.markets import trades as counter_trades
from marketplace.markets.choices import DayStatus
from marketplace.markets.funding_models import FundingRequest
from marketplace.models import CommissionRule, MarketDay, Trade
from settlement.accounts import book_account
from settlement.choices import AccountKind, EntryKind
from settlement.exceptions import (
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAmount,
    NotReversible,
    TradeAlreadyReversed,
)
from settlement.models import BalanceSlot, JournalEntry, Posting
from settlement.posting import reverse_entry
from settlement.selectors import balance_of
from tests.accounts.factories import UserFactory
from tests.farms.factories import HarvestLotFactory, ProductFactory
from tests.marketplace.markets.fixtures import BUYER_CARD, SELLER_CARD

pytestmark = pytest.mark.django_db

D = Decimal


def cny(amount: str) -> Money:
    return Money(D(amount), "CNY")


def card(trader) -> Decimal:
    """What the book owes the trader (her card balance, or what she is owed as a seller)."""
    return balance_of(markets.settlement_account(trader)).amount


def revenue(market) -> Decimal:
    return balance_of(book_account(market.book, AccountKind.COMMISSION)).amount


def clearing(market, kind: str) -> Decimal:
    return balance_of(book_account(market.book, kind)).amount


def written() -> tuple[int, int, int, int, list]:
    """Everything a settlement writes: trades, entries, postings, requests waiting for a
    supervisor and the cached balances."""
    return (
        Trade.objects.count(),
        FundingRequest.objects.count(),
        JournalEntry.objects.count(),
        Posting.objects.count(),
        list(BalanceSlot.objects.order_by("account_id", "slot").values_list("amount", flat=True)),
    )


def postings_sum() -> Decimal:
    return sum((p.amount.amount for p in Posting.objects.all()), D("0"))


def close_today(market, status: str = DayStatus.CLOSED) -> None:
    MarketDay.objects.update_or_create(
        market=market, business_date=business_today(), defaults={"status": status}
    )


@pytest.fixture
def no_commission(market):
    """The market charges nothing (no rule at all)."""
    CommissionRule.objects.filter(market=market).delete()


# --- Amounts ------------------------------------------------------------------------------


def test_a_trade_records_net_weight_amount_and_both_fees(settle, market, operator, commission):
    trade = settle()

    trade = Trade.objects.get(pk=trade.pk)
    assert trade.market == market
    assert trade.business_date == business_today()
    assert (trade.gross_kg, trade.tare_kg, trade.net_kg) == (D("100.000"), D("2.000"), D("98.000"))
    assert trade.unit_price == cny("1.20")
    assert trade.amount == cny("117.60")  # 98 × 1.20
    assert trade.buyer_fee == cny("1.18")  # 1 % of 117.60 = 1.176
    assert trade.seller_fee == cny("2.35")  # 2 % of 117.60 = 2.352
    assert trade.buyer_pays == cny("118.78")
    assert trade.seller_receives == cny("115.25")
    assert trade.recorded_by == operator
    assert trade.recorded_at == trade.entry.created_at
    assert not trade.is_reversed


@pytest.mark.parametrize(
    ("gross", "tare", "price", "net", "amount"),
    [
        ("14.345", "2", "1.00", "12.345", "12.35"),  # a half cent rounds up, not to even
        ("10.125", "0", "1.00", "10.125", "10.13"),
        ("4.089", "0", "0.50", "4.089", "2.04"),  # 2.0445: rounded once, not 2.045 → 2.05
        ("0.333", "0", "1.55", "0.333", "0.52"),  # 0.51615
        ("1000", "0.001", "3.33", "999.999", "3330.00"),  # 3329.99667
    ],
)
def test_the_amount_is_net_times_price_rounded_half_up_once(
    settle, no_commission, gross, tare, price, net, amount
):
    trade = settle(gross_kg=gross, tare_kg=tare, unit_price=price)

    assert trade.net_kg == D(net)
    assert trade.amount == cny(amount)


def test_tare_may_be_left_out(settle, no_commission):
    for key, tare in (("none", None), ("blank", "")):
        trade = settle(key, gross_kg="10", tare_kg=tare, unit_price="2.00")

        assert (trade.tare_kg, trade.net_kg, trade.amount) == (D("0"), D("10"), cny("20.00"))


# --- Commission ---------------------------------------------------------------------------


def test_each_side_pays_at_least_the_minimum_fee(settle, commission):
    trade = settle(gross_kg="10", tare_kg="0", unit_price="1.00")  # ¥10.00: 0.10 and 0.20

    assert (trade.buyer_fee, trade.seller_fee) == (cny("1.00"), cny("1.00"))


def test_a_fee_is_rounded_half_up(settle, market):
    CommissionRule.objects.create(market=market, buyer_pct=D("1"), seller_pct=D("0.5"))

    trade = settle(gross_kg="100.5", tare_kg="0", unit_price="1.00")  # ¥100.50

    assert trade.buyer_fee == cny("1.01")  # 1.005
    assert trade.seller_fee == cny("0.50")  # 0.5025


def test_a_category_rule_wins_over_the_default(settle, market, commission, cabbage):
    CommissionRule.objects.create(
        market=market,
        category=cabbage.category,
        buyer_pct=D("0.5"),
        seller_pct=D("3"),
        minimum_fee=D("0"),
    )
    apple = ProductFactory(category="pome_fruit")

    leafy = settle("leafy")  # ¥117.60
    fruit = settle("fruit", product=apple)

    assert (leafy.buyer_fee, leafy.seller_fee) == (cny("0.59"), cny("3.53"))
    assert (fruit.buyer_fee, fruit.seller_fee) == (cny("1.18"), cny("2.35"))


def test_a_rule_of_another_market_does_not_apply(settle, other_market):
    CommissionRule.objects.create(market=other_market, buyer_pct=D("5"), seller_pct=D("5"))

    trade = settle()

    assert (trade.buyer_fee, trade.seller_fee) == (cny("0.00"), cny("0.00"))


def test_a_zero_percentage_means_no_fee_even_with_a_minimum(settle, market, buyer_trader):
    CommissionRule.objects.create(
        market=market, buyer_pct=D("0"), seller_pct=D("2"), minimum_fee=D("5")
    )

    trade = settle(gross_kg="10", tare_kg="0", unit_price="1.00")

    assert (trade.buyer_fee, trade.seller_fee) == (cny("0.00"), cny("5.00"))
    assert card(buyer_trader) == D("9990.00")


def test_without_any_commission_the_entry_has_only_the_two_traders(
    settle, market, no_commission, buyer_trader, seller_trader
):
    trade = settle()

    assert (trade.buyer_fee, trade.seller_fee) == (cny("0.00"), cny("0.00"))
    postings = {p.account_id: p.amount for p in trade.entry.postings.all()}
    assert postings == {
        markets.settlement_account(buyer_trader).pk: cny("117.60"),
        markets.settlement_account(seller_trader).pk: cny("-117.60"),
    }
    assert revenue(market) == 0


def test_the_seller_fee_is_never_above_the_amount(settle, market, commission, seller_trader):
    trade = settle(gross_kg="0.5", tare_kg="0", unit_price="1.00")  # ¥0.50, minimum fee ¥1

    assert trade.amount == cny("0.50")
    assert trade.seller_fee == cny("0.50")
    assert trade.buyer_fee == cny("1.00")
    assert trade.seller_receives == cny("0.00")
    assert card(seller_trader) == 0
    assert revenue(market) == D("1.50")
    assert trade.entry.postings.count() == 2
    assert postings_sum() == 0


def test_a_trade_that_rounds_to_nothing_is_refused(settle, no_commission):
    before = written()

    with pytest.raises(InvalidAmount) as refused:
        settle(gross_kg="0.001", tare_kg="0", unit_price="1.00")  # ¥0.001

    assert refused.value.field == "unit_price"
    assert written() == before


# --- The ledger after a trade ---------------------------------------------------------------


def test_the_ledger_after_a_trade(
    settle, market, operator, commission, buyer_trader, seller_trader
):
    trade = settle()

    assert card(buyer_trader) == D("10000.00") - D("118.78")  # amount + buyer fee
    assert card(seller_trader) == D("115.25")  # amount − seller fee
    assert revenue(market) == D("3.53")  # both fees
    assert clearing(market, AccountKind.CASH) == D("10000.00")  # the fixture's top-up
    entry = trade.entry
    assert entry.kind == EntryKind.TRADE
    assert entry.book == market.book
    assert entry.business_date == business_today()
    assert entry.created_by == operator
    assert entry.postings.count() == 3
    assert postings_sum() == 0
    assert MarketDay.objects.get(market=market, business_date=business_today()).status == (
        DayStatus.OPEN
    )


def test_a_trade_with_a_lot_keeps_the_lot(settle, cabbage):
    lot = HarvestLotFactory(product=cabbage)

    trade = settle(lot=lot)

    assert Trade.objects.get(pk=trade.pk).lot == lot


def test_the_product_may_be_given_by_its_code(settle, cabbage):
    trade = settle(product="VEG-NAPA-CABBAGE")

    assert trade.product == cabbage


def test_cards_are_read_without_surrounding_spaces(settle):
    trade = settle(buyer_card=f" {BUYER_CARD} ", seller_card=f"{SELLER_CARD}\n")

    assert trade.pk is not None


def test_trades_add_up(settle, market, commission, buyer_trader, seller_trader):
    settle("a")
    settle("b", gross_kg="50", tare_kg="0", unit_price="2.50")  # ¥125: 1.25 and 2.50

    assert card(buyer_trader) == D("10000.00") - D("118.78") - D("126.25")
    assert card(seller_trader) == D("115.25") + D("122.50")
    assert revenue(market) == D("3.53") + D("3.75")


# --- Idempotency --------------------------------------------------------------------------


def test_the_same_key_gives_the_same_trade_once(settle, commission, buyer_trader):
    first = settle("retry")
    before = written()

    again = settle("retry")

    assert again.pk == first.pk
    assert written() == before
    assert Trade.objects.count() == 1
    assert JournalEntry.objects.filter(kind=EntryKind.TRADE).count() == 1
    assert card(buyer_trader) == D("10000.00") - D("118.78")


def test_a_retry_may_write_the_same_numbers_differently(settle):
    first = settle("retry", gross_kg="100.000", tare_kg="2.000", unit_price="1.20")

    again = settle("retry", gross_kg="100", tare_kg=D("2"), unit_price=Money(D("1.2"), "CNY"))

    assert again.pk == first.pk
    assert Trade.objects.count() == 1


def test_a_retry_after_the_day_closed_still_gets_its_trade(settle, market):
    first = settle("retry")
    close_today(market)
    before = written()

    assert settle("retry").pk == first.pk
    assert written() == before


@pytest.mark.parametrize(
    "changed",
    [{"gross_kg": "101.000"}, {"tare_kg": "1.000"}, {"unit_price": "1.30"}],
    ids=["gross", "tare", "price"],
)
def test_the_same_key_with_other_content_is_a_409_and_writes_nothing(settle, changed):
    settle("retry")
    before = written()

    with pytest.raises(IdempotencyConflict) as refused:
        settle("retry", **changed)

    assert refused.value.kind == RefusalKind.CONFLICT
    assert refused.value.field == "idempotency_key"
    assert written() == before


def test_another_key_is_another_trade(settle, buyer_trader):
    first = settle("one")
    second = settle("two")

    assert first.pk != second.pk
    assert card(buyer_trader) == D("10000.00") - 2 * D("117.60")


# --- Bad input: a clear error on its field, and nothing written ------------------------------

BAD_TRADES = {
    "unknown-buyer-card": ({"buyer_card": "6299999999999999"}, UnknownCard, "buyer_card"),
    "unknown-seller-card": ({"seller_card": "6299999999999999"}, UnknownCard, "seller_card"),
    "empty-buyer-card": ({"buyer_card": ""}, UnknownCard, "buyer_card"),
    "buyer-card-as-seller": ({"seller_card": BUYER_CARD}, WrongTraderKind, "seller_card"),
    "seller-card-as-buyer": ({"buyer_card": SELLER_CARD}, WrongTraderKind, "buyer_card"),
    "zero-gross": ({"gross_kg": "0"}, InvalidWeight, "gross_kg"),
    "negative-gross": ({"gross_kg": "-100"}, InvalidWeight, "gross_kg"),
    "text-gross": ({"gross_kg": "一百"}, InvalidWeight, "gross_kg"),
    "empty-gross": ({"gross_kg": ""}, InvalidWeight, "gross_kg"),
    "none-gross": ({"gross_kg": None}, InvalidWeight, "gross_kg"),
    "nan-gross": ({"gross_kg": "NaN"}, InvalidWeight, "gross_kg"),
    "infinite-gross": ({"gross_kg": "Infinity"}, InvalidWeight, "gross_kg"),
    "4-decimals-gross": ({"gross_kg": "100.0001"}, InvalidWeight, "gross_kg"),
    "huge-gross": ({"gross_kg": "100000.001"}, InvalidWeight, "gross_kg"),
    "negative-tare": ({"tare_kg": "-1"}, InvalidWeight, "tare_kg"),
    "text-tare": ({"tare_kg": "abc"}, InvalidWeight, "tare_kg"),
    "4-decimals-tare": ({"tare_kg": "2.0001"}, InvalidWeight, "tare_kg"),
    "tare-equals-gross": ({"tare_kg": "100.000"}, TareAboveGross, "tare_kg"),
    "tare-above-gross": ({"tare_kg": "120"}, TareAboveGross, "tare_kg"),
    "huge-tare": ({"tare_kg": "1e999999"}, TareAboveGross, "tare_kg"),
    "zero-price": ({"unit_price": "0"}, InvalidUnitPrice, "unit_price"),
    "negative-price": ({"unit_price": "-1.20"}, InvalidUnitPrice, "unit_price"),
    "3-decimals-price": ({"unit_price": "1.205"}, InvalidUnitPrice, "unit_price"),
    "text-price": ({"unit_price": "¥1.20"}, InvalidUnitPrice, "unit_price"),
    "huge-price": ({"unit_price": "10000.01"}, InvalidUnitPrice, "unit_price"),
    "unknown-product": ({"product": "NO-SUCH-PRODUCT"}, InvalidProduct, "product"),
    "no-product": ({"product": None}, InvalidProduct, "product"),
}


@pytest.mark.parametrize(("overrides", "error", "field"), BAD_TRADES.values(), ids=BAD_TRADES)
def test_bad_input_is_refused_on_its_field_and_writes_nothing(
    settle, commission, overrides, error, field
):
    before = written()

    with pytest.raises(error) as refused:
        settle(**overrides)

    assert refused.value.field == field
    assert refused.value.kind == RefusalKind.INVALID
    assert str(refused.value.message)
    assert written() == before


def refused_with(settle, error, **overrides):
    before = written()
    with pytest.raises(error) as refused:
        settle(**overrides)
    assert written() == before
    return refused.value


@pytest.mark.parametrize("side", ["buyer", "seller"])
def test_an_inactive_trader_is_refused(settle, buyer_trader, seller_trader, side):
    trader = buyer_trader if side == "buyer" else seller_trader
    trader.is_active = False
    trader.save()

    error = refused_with(settle, InactiveTrader)

    assert error.field == f"{side}_card"


def test_a_card_of_another_market_is_unknown_here(settle, other_market):
    markets.register_trader(
        market=other_market, kind="buyer", name="外地买家", card_number="6300000000000001"
    )

    error = refused_with(settle, UnknownCard, buyer_card="6300000000000001")

    assert error.field == "buyer_card"


def test_a_lot_of_another_product_is_refused(settle):
    error = refused_with(settle, InvalidProduct, lot=HarvestLotFactory())

    assert error.field == "lot"


@pytest.mark.parametrize("given_as", ["instance", "code"])
def test_an_inactive_product_is_refused(settle, cabbage, given_as):
    cabbage.is_active = False
    cabbage.save()

    error = refused_with(
        settle, InvalidProduct, product=cabbage if given_as == "instance" else cabbage.code
    )

    assert error.field == "product"


def test_too_little_on_the_card_is_refused_with_the_balance(settle, commission, buyer_trader):
    # 98 kg × ¥102.05 = ¥10,000.90, more than the ¥10,000.00 on the card
    error = refused_with(settle, InsufficientBalance, unit_price="102.05")

    assert error.field == "buyer_card"
    assert "10000.00" in str(error.message)
    assert error.details["balance"] == cny("10000.00")
    assert card(buyer_trader) == D("10000.00")


def test_the_commission_counts_towards_the_balance(settle, commission, buyer_trader):
    # ¥9,901.00 + 1 % = ¥10,000.01: the amount alone fits, with the buyer's fee it does not
    refused_with(settle, InsufficientBalance, gross_kg="100", tare_kg="0", unit_price="99.01")

    trade = settle("fits", gross_kg="100", tare_kg="0", unit_price="98.00")  # 9800 + 98

    assert card(buyer_trader) == D("102.00")
    assert trade.buyer_pays == cny("9898.00")


def test_the_whole_balance_can_be_spent(settle, no_commission, buyer_trader):
    settle(gross_kg="100", tare_kg="0", unit_price="100.00")

    assert card(buyer_trader) == 0


@pytest.mark.parametrize("status", [DayStatus.CLOSED, DayStatus.CLOSING])
def test_a_trade_on_a_day_that_is_not_open_is_a_409(settle, market, status):
    close_today(market, status)

    error = refused_with(settle, BusinessDayClosed)

    assert error.kind == RefusalKind.CONFLICT
    assert str(business_today()) in str(error.message)


def test_a_closed_day_of_another_market_does_not_matter(settle, other_market):
    close_today(other_market)

    assert settle().pk is not None


def test_an_operator_of_another_market_may_not_trade_here(settle, other_operator):
    error = refused_with(settle, NotMarketStaff, by=other_operator)

    assert error.kind == RefusalKind.FORBIDDEN


@pytest.mark.parametrize("role", [Role.MARKET_OPERATOR, Role.FARMER, Role.ADMIN])
def test_a_user_who_is_not_staff_may_not_trade(settle, role):
    error = refused_with(settle, NotMarketStaff, by=UserFactory(role=role))

    assert error.kind == RefusalKind.FORBIDDEN


# --- Reversal -----------------------------------------------------------------------------


def test_a_supervisor_reverses_a_trade_and_the_balances_return_exactly(
    settle, market, supervisor, commission, buyer_trader, seller_trader
):
    trade = settle()
    assert card(buyer_trader) != D("10000.00")

    reversed_trade = counter_trades.reverse_trade(
        trade_id=trade.pk, by=supervisor, reason="  过磅错误  ", idempotency_key="r1"
    )

    assert card(buyer_trader) == D("10000.00")
    assert card(seller_trader) == 0
    assert revenue(market) == 0
    assert postings_sum() == 0
    trade = Trade.objects.get(pk=trade.pk)  # still there
    assert trade.is_reversed
    assert trade.reversal_reason == "过磅错误"
    assert reversed_trade.reversal == trade.reversal
    reversal = trade.reversal
    assert reversal.kind == EntryKind.REVERSAL
    assert reversal.reverses == trade.entry
    assert reversal.created_by == supervisor
    assert reversal.memo == "过磅错误"
    assert JournalEntry.objects.filter(pk=trade.entry_id).exists()
    assert trade.entry.postings.count() == 3
    original = sorted((p.account_id, p.amount.amount) for p in trade.entry.postings.all())
    undone = sorted((p.account_id, -p.amount.amount) for p in reversal.postings.all())
    assert undone == original


def test_a_reversal_after_other_trades_undoes_only_its_trade(
    settle, supervisor, commission, buyer_trader
):
    first = settle("one")
    settle("two", gross_kg="10", tare_kg="0", unit_price="1.00")  # 10 + 1.00 fee

    counter_trades.reverse_trade(
        trade_id=first.pk, by=supervisor, reason="重复", idempotency_key="r"
    )

    assert card(buyer_trader) == D("10000.00") - D("11.00")


def test_a_retried_reversal_with_the_same_key_is_the_same_reversal(
    settle, supervisor, buyer_trader
):
    trade = settle()
    first = counter_trades.reverse_trade(
        trade_id=trade.pk, by=supervisor, reason="错", idempotency_key="r"
    )
    before = written()

    again = counter_trades.reverse_trade(
        trade_id=trade.pk, by=supervisor, reason="错", idempotency_key="r"
    )

    assert again.pk == first.pk
    assert again.reversal_id == first.reversal_id
    assert written() == before
    assert card(buyer_trader) == D("10000.00")


def test_the_same_reversal_key_with_another_reason_is_a_409(settle, supervisor):
    trade = settle()
    counter_trades.reverse_trade(trade_id=trade.pk, by=supervisor, reason="错", idempotency_key="r")
    before = written()

    with pytest.raises(IdempotencyConflict):
        counter_trades.reverse_trade(
            trade_id=trade.pk, by=supervisor, reason="重复", idempotency_key="r"
        )

    assert written() == before


def test_a_second_reversal_is_a_409_and_writes_nothing(settle, supervisor, buyer_trader):
    trade = settle()
    counter_trades.reverse_trade(
        trade_id=trade.pk, by=supervisor, reason="错", idempotency_key="r1"
    )
    before = written()

    with pytest.raises(TradeAlreadyReversed) as refused:
        counter_trades.reverse_trade(
            trade_id=trade.pk, by=supervisor, reason="错", idempotency_key="r2"
        )

    assert refused.value.kind == RefusalKind.CONFLICT
    assert written() == before
    assert card(buyer_trader) == D("10000.00")


def test_a_reversal_itself_cannot_be_reversed(settle, supervisor):
    trade = settle()
    trade = counter_trades.reverse_trade(
        trade_id=trade.pk, by=supervisor, reason="错", idempotency_key="r1"
    )
    before = written()

    with pytest.raises(NotReversible) as refused:
        reverse_entry(entry=trade.reversal, by=supervisor, reason="撤销", idempotency_key="rr")

    assert refused.value.kind == RefusalKind.CONFLICT
    assert written() == before


@pytest.mark.parametrize("who", ["operator", "other_operator", "stranger"])
def test_only_a_supervisor_of_the_market_may_reverse(settle, request, who, buyer_trader):
    trade = settle()
    user = (
        UserFactory(role=Role.MARKET_OPERATOR)
        if who == "stranger"
        else request.getfixturevalue(who)
    )
    before = written()

    with pytest.raises(NotMarketStaff) as refused:
        counter_trades.reverse_trade(trade_id=trade.pk, by=user, reason="错", idempotency_key="r")

    assert refused.value.kind == RefusalKind.FORBIDDEN
    assert written() == before
    assert not Trade.objects.get(pk=trade.pk).is_reversed


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reversal_needs_a_reason(settle, supervisor, reason):
    trade = settle()
    before = written()

    with pytest.raises(ReasonRequired) as refused:
        counter_trades.reverse_trade(
            trade_id=trade.pk, by=supervisor, reason=reason, idempotency_key="r"
        )

    assert refused.value.field == "reason"
    assert written() == before


def test_no_reversal_on_a_closed_day(settle, market, supervisor):
    trade = settle()
    close_today(market)
    before = written()

    with pytest.raises(BusinessDayClosed):
        counter_trades.reverse_trade(
            trade_id=trade.pk, by=supervisor, reason="错", idempotency_key="r"
        )

    assert written() == before
    assert not Trade.objects.get(pk=trade.pk).is_reversed


# --- Cards: top-up and withdrawal -----------------------------------------------------------


@pytest.mark.parametrize("method", ["cash", "bank"])
def test_a_top_up_credits_the_card_and_debits_the_clearing_account(
    market, operator, buyer_trader, method
):
    entry = funding.top_up_card(
        market=market,
        by=operator,
        card_number=BUYER_CARD,
        amount="500.50",
        method=method,
        idempotency_key="t",
    )

    assert entry.kind == EntryKind.TOP_UP
    assert entry.created_by == operator
    assert card(buyer_trader) == D("10500.50")
    other = AccountKind.BANK if method == "cash" else AccountKind.CASH
    expected = D("10500.50") if method == "cash" else D("500.50")
    assert clearing(market, method) == expected
    assert clearing(market, other) == (D("0") if method == "cash" else D("10000.00"))


def test_an_approved_withdrawal_debits_the_card(market, operator, supervisor, buyer_trader):
    request = funding.withdraw_from_card(
        market=market,
        by=operator,
        card_number=BUYER_CARD,
        amount="9999.99",
        method="cash",
        idempotency_key="w",
    )
    entry = funding.approve_funding_request(
        market=market, by=supervisor, request_id=request.pk
    ).entry

    assert entry.kind == EntryKind.WITHDRAWAL
    assert card(buyer_trader) == D("0.01")
    assert clearing(market, AccountKind.CASH) == D("0.01")


def test_a_withdrawal_of_more_than_the_balance_is_refused_with_the_balance(
    market, operator, buyer_trader
):
    before = written()

    with pytest.raises(InsufficientBalance) as refused:
        funding.withdraw_from_card(
            market=market,
            by=operator,
            card_number=BUYER_CARD,
            amount="10000.01",
            method="cash",
            idempotency_key="w",
        )

    assert refused.value.field == "amount"
    assert "10000.00" in str(refused.value.message)
    assert written() == before


CARD_OPERATIONS = {"top-up": funding.top_up_card, "withdrawal": funding.withdraw_from_card}


def card_operation(operation, market, by, **overrides):
    arguments = {
        "market": market,
        "by": by,
        "card_number": BUYER_CARD,
        "amount": "100.00",
        "method": "cash",
        "idempotency_key": "k",
        **overrides,
    }
    return CARD_OPERATIONS[operation](**arguments)


BAD_CARD_OPERATIONS = {
    "unknown-card": ({"card_number": "6299999999999999"}, UnknownCard, "card_number"),
    "seller-card": ({"card_number": SELLER_CARD}, WrongTraderKind, "card_number"),
    "3-decimals": ({"amount": "10.001"}, InvalidAmount, "amount"),
    "zero": ({"amount": "0"}, InvalidAmount, "amount"),
    "negative": ({"amount": "-5.00"}, InvalidAmount, "amount"),
    "text": ({"amount": "一百"}, InvalidAmount, "amount"),
    "nan": ({"amount": "NaN"}, InvalidAmount, "amount"),
}


@pytest.mark.parametrize("operation", CARD_OPERATIONS)
@pytest.mark.parametrize(
    ("overrides", "error", "field"), BAD_CARD_OPERATIONS.values(), ids=BAD_CARD_OPERATIONS
)
def test_bad_card_operations_are_refused_and_write_nothing(
    market, operator, buyer_trader, seller_trader, operation, overrides, error, field
):
    before = written()

    with pytest.raises(error) as refused:
        card_operation(operation, market, operator, **overrides)

    assert refused.value.field == field
    assert written() == before


@pytest.mark.parametrize("operation", CARD_OPERATIONS)
def test_no_card_operation_on_a_closed_day(market, operator, buyer_trader, operation):
    close_today(market)
    before = written()

    with pytest.raises(BusinessDayClosed) as refused:
        card_operation(operation, market, operator)

    assert refused.value.kind == RefusalKind.CONFLICT
    assert written() == before


@pytest.mark.parametrize("operation", CARD_OPERATIONS)
def test_no_card_operation_by_staff_of_another_market(
    market, operator, other_operator, buyer_trader, operation
):
    before = written()

    with pytest.raises(NotMarketStaff):
        card_operation(operation, market, other_operator)

    assert written() == before


@pytest.mark.parametrize("operation", CARD_OPERATIONS)
def test_an_inactive_buyers_card_takes_no_money(market, operator, buyer_trader, operation):
    buyer_trader.is_active = False
    buyer_trader.save()
    before = written()

    with pytest.raises(InactiveTrader) as refused:
        card_operation(operation, market, operator)

    assert refused.value.field == "card_number"
    assert written() == before


@pytest.mark.parametrize(
    ("operation", "expected"), [("top-up", "10100.00"), ("withdrawal", "10000.00")]
)
def test_card_operations_are_idempotent(market, operator, buyer_trader, operation, expected):
    """A retry returns the first entry (a top-up) or the first request (a withdrawal, which
    waits for a supervisor and leaves the card as it was)."""
    first = card_operation(operation, market, operator, idempotency_key="same")
    before = written()

    again = card_operation(operation, market, operator, idempotency_key="same")

    assert again.pk == first.pk
    assert written() == before
    assert card(buyer_trader) == D(expected)

    with pytest.raises(IdempotencyConflict):
        card_operation(operation, market, operator, idempotency_key="same", amount="100.01")

    assert written() == before


# --- Committed for real: PostgreSQL's deferred checks run at COMMIT ---------------------------


@pytest.mark.django_db(transaction=True)
def test_trades_and_a_reversal_commit_past_the_databases_own_checks(
    settle, market, supervisor, commission, buyer_trader, seller_trader
):
    full = settle("full")
    small = settle("small", gross_kg="0.5", tare_kg="0", unit_price="1.00")  # seller gets 0
    counter_trades.reverse_trade(trade_id=full.pk, by=supervisor, reason="错", idempotency_key="r")

    assert Trade.objects.get(pk=small.pk).entry.postings.count() == 2
    assert card(buyer_trader) == D("10000.00") - D("1.50")
    assert card(seller_trader) == 0
    assert revenue(market) == D("1.50")
    assert postings_sum() == 0
