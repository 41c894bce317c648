"""Random days at a market, checked after every step against a model kept in Python.

A hypothesis state machine tops up buyer cards, settles trades, reverses some, pays sellers
out, pays buyers back, and retries earlier requests with the same key: with the same
arguments nothing changes and the first result comes back, with other arguments the retry is
refused (409) and nothing changes. Any refusal writes nothing. After every step the ledger
balances, no card is overdrawn, every cached balance equals its postings, and every balance
is what the model expects.
"""

import itertools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.choices import Role
from marketplace.markets import funding
from marketplace.markets import services as markets
from marketplace.markets import trades as counter_trades
from marketplace.models import CommissionRule
from settlement.accounts import book_account
from settlement.choices import AccountKind
from settlement.exceptions import (
    IdempotencyConflict,
    InsufficientBalance,
    NothingToPay,
    TradeAlreadyReversed,
)
from settlement.funding import pay_out
from settlement.models import JournalEntry
from settlement.selectors import balance_of
from tests.accounts.factories import UserFactory
from tests.farms.factories import ProductFactory
from tests.settlement.ledger_state import assert_ledger_consistent, snapshot

CENT = Decimal("0.01")
BUYERS, SELLERS = 3, 2
EXAMPLES = itertools.count(1)

amounts = st.integers(1, 300_000).map(lambda cents: Decimal(cents) / 100)  # ¥0.01–¥3,000.00
kilos = st.integers(1_000, 60_000).map(lambda grams: Decimal(grams) / 1000)  # 1–60 kg net
tares = st.integers(0, 5_000).map(lambda grams: Decimal(grams) / 1000)
# At least ¥1.01 a kg: every trade is worth more than the ¥1 minimum fee, so the seller
# always has something left (a zero leg is the market's business, not the ledger's).
prices = st.integers(101, 1_200).map(lambda cents: Decimal(cents) / 100)
methods = st.sampled_from(["cash", "bank"])
# A withdrawal asks for a share of the card's balance, sometimes more than all of it.
shares = st.integers(1, 130)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fee(amount: Decimal, pct: int) -> Decimal:
    """The market's rule, written again from its description: pct % of the amount, at
    least ¥1.00, rounded half up."""
    return max(money(amount * pct / 100), Decimal("1.00"))


@dataclass
class Call:
    """A request that succeeded, kept to be retried: what was asked and what came back."""

    kind: str
    arguments: dict
    result: int
    trade: dict = field(default_factory=dict)


class MarketDays(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example in its own savepoint of the test's transaction, rolled back after it.
        self.savepoint = transaction.savepoint()
        n = next(EXAMPLES)
        self.market = markets.create_market(code=f"sm-{n}", name=f"状态机市场{n}", city="北京")
        self.operator = UserFactory(role=Role.MARKET_OPERATOR)
        self.supervisor = UserFactory(role=Role.MARKET_OPERATOR)
        markets.add_staff(market=self.market, user=self.operator)
        markets.add_staff(market=self.market, user=self.supervisor, is_supervisor=True)
        CommissionRule.objects.create(
            market=self.market, buyer_pct=1, seller_pct=2, minimum_fee=Decimal("1.00")
        )
        self.product = ProductFactory()
        self.buyers = [
            markets.register_trader(
                market=self.market, kind="buyer", name=f"买家{i}", card_number=f"62{n:08d}{i:04d}"
            )
            for i in range(BUYERS)
        ]
        self.sellers = [
            markets.register_trader(
                market=self.market, kind="seller", name=f"卖家{i}", card_number=f"63{n:08d}{i:04d}"
            )
            for i in range(SELLERS)
        ]
        self.cards = [markets.settlement_account(t) for t in self.buyers]
        self.payables = [markets.settlement_account(t) for t in self.sellers]
        self.revenue = book_account(self.market.book, AccountKind.COMMISSION)
        self.clearing = {
            "cash": book_account(self.market.book, AccountKind.CASH),
            "bank": book_account(self.market.book, AccountKind.BANK),
        }
        accounts = [*self.cards, *self.payables, self.revenue, *self.clearing.values()]
        # What each account should read, as its holder reads it.
        self.expected = {account.pk: Decimal("0.00") for account in accounts}
        self.accounts = accounts
        self.entries = 0
        self.done: dict[str, list[Call]] = {}  # the requests that succeeded, by kind
        self.reversed: set[int] = set()
        self.keys = itertools.count(1)

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    # --- Doing things ----------------------------------------------------------------------

    def invoke(self, kind: str, arguments: dict) -> int:
        """Make the request; the id of what it returns (an entry, or a trade)."""
        if kind == "top_up":
            return funding.top_up_card(market=self.market, by=self.operator, **arguments).pk
        if kind == "withdraw":
            # Every withdrawal waits for a supervisor: the operator asks, the supervisor approves.
            request = funding.withdraw_from_card(market=self.market, by=self.operator, **arguments)
            return funding.approve_funding_request(
                market=self.market, by=self.supervisor, request_id=request.pk
            ).entry_id
        if kind == "trade":
            return counter_trades.settle_trade(
                market=self.market, by=self.operator, product=self.product, **arguments
            ).pk
        if kind == "reverse":
            return counter_trades.reverse_trade(by=self.supervisor, **arguments).pk
        if kind == "payout":
            return pay_out(by=self.supervisor, **arguments).pk
        raise AssertionError(kind)

    def refused(self, kind: str, arguments: dict, refusal: type[Exception]) -> None:
        before = snapshot()
        with pytest.raises(refusal):
            self.invoke(kind, arguments)
        assert snapshot() == before

    def succeeded(self, kind: str, arguments: dict, moves: dict, trade: dict | None = None):
        result = self.invoke(kind, arguments)
        for account, change in moves.items():
            self.expected[account] += change
        self.entries += 1
        self.done.setdefault(kind, []).append(Call(kind, arguments, result, trade or {}))

    def earlier(self, data, kinds=None) -> "Call":
        """One of the requests that succeeded, of a kind drawn first (so rare kinds come up)."""
        kind = data.draw(st.sampled_from(sorted(kinds or self.done)))
        return data.draw(st.sampled_from(self.done[kind]))

    def key(self) -> str:
        return f"k{next(self.keys)}"

    # --- Rules -----------------------------------------------------------------------------

    @initialize(amounts=st.lists(amounts, min_size=BUYERS, max_size=BUYERS))
    def fund_the_cards(self, amounts):
        for buyer, amount in enumerate(amounts):
            self.top_up(buyer, amount, "cash")

    @rule(buyer=st.integers(0, BUYERS - 1), amount=amounts, method=methods)
    def top_up(self, buyer, amount, method):
        arguments = {
            "card_number": self.buyers[buyer].card_number,
            "amount": amount,
            "method": method,
            "idempotency_key": self.key(),
        }
        moves = {self.cards[buyer].pk: amount, self.clearing[method].pk: amount}
        self.succeeded("top_up", arguments, moves)

    @rule(buyer=st.integers(0, BUYERS - 1), share=shares, method=methods)
    def withdraw(self, buyer, share, method):
        amount = max(money(self.expected[self.cards[buyer].pk] * share / 100), CENT)
        arguments = {
            "card_number": self.buyers[buyer].card_number,
            "amount": amount,
            "method": method,
            "idempotency_key": self.key(),
        }
        card = self.cards[buyer].pk
        if amount > self.expected[card]:
            self.refused("withdraw", arguments, InsufficientBalance)
        else:
            self.succeeded(
                "withdraw", arguments, {card: -amount, self.clearing[method].pk: -amount}
            )

    @rule(
        buyer=st.integers(0, BUYERS - 1),
        seller=st.integers(0, SELLERS - 1),
        net=kilos,
        tare=tares,
        price=prices,
    )
    def trade(self, buyer, seller, net, tare, price):
        arguments = {
            "buyer_card": self.buyers[buyer].card_number,
            "seller_card": self.sellers[seller].card_number,
            "gross_kg": str(net + tare),
            "tare_kg": str(tare),
            "unit_price": str(price),
            "idempotency_key": self.key(),
        }
        amount = money(net * price)
        buyer_fee, seller_fee = fee(amount, 1), min(fee(amount, 2), amount)
        figures = {
            self.cards[buyer].pk: -(amount + buyer_fee),
            self.payables[seller].pk: amount - seller_fee,
            self.revenue.pk: buyer_fee + seller_fee,
        }
        if amount + buyer_fee > self.expected[self.cards[buyer].pk]:
            self.refused("trade", arguments, InsufficientBalance)
        else:
            self.succeeded("trade", arguments, figures, trade=figures)

    @precondition(lambda self: "trade" in self.done)
    @rule(data=st.data(), reason=st.sampled_from(["称错了", "wrong buyer"]))
    def reverse(self, data, reason):
        trade = self.earlier(data, ["trade"])
        arguments = {"trade_id": trade.result, "reason": reason, "idempotency_key": self.key()}
        if trade.result in self.reversed:
            self.refused("reverse", arguments, TradeAlreadyReversed)
        else:
            moves = {account: -change for account, change in trade.trade.items()}
            self.succeeded("reverse", arguments, moves)
            self.reversed.add(trade.result)

    @rule(seller=st.integers(0, SELLERS - 1))
    def pay_out(self, seller):
        payable = self.payables[seller]
        arguments = {"account": payable, "idempotency_key": self.key()}
        owed = self.expected[payable.pk]
        if owed <= 0:
            self.refused("payout", arguments, NothingToPay)
        else:
            self.succeeded(
                "payout", arguments, {payable.pk: -owed, self.clearing["bank"].pk: -owed}
            )

    @precondition(lambda self: self.done)
    @rule(data=st.data())
    def retry(self, data):
        """The same request again, under its key: the first result, and nothing written."""
        call = self.earlier(data)
        before = snapshot()

        assert self.invoke(call.kind, call.arguments) == call.result

        assert snapshot() == before

    @precondition(lambda self: self.done)
    @rule(data=st.data())
    def retry_with_another_request(self, data):
        """The key of an earlier request with other content: 409, and nothing written."""
        call = self.earlier(data)
        arguments = dict(call.arguments)
        if call.kind in ("top_up", "withdraw"):
            arguments["amount"] += CENT
        elif call.kind == "trade":
            arguments["unit_price"] = str(Decimal(arguments["unit_price"]) + CENT)
        elif call.kind == "reverse":
            arguments["reason"] += "（再次）"
        elif call.kind == "payout":
            others = [p for p in self.payables if p != arguments["account"]]
            arguments["account"] = others[0]
        self.refused(call.kind, arguments, IdempotencyConflict)

    # --- What must hold after every step ---------------------------------------------------

    @invariant()
    def the_ledger_balances_and_no_card_is_overdrawn(self):
        assert_ledger_consistent()

    @invariant()
    def every_balance_is_what_the_model_expects(self):
        actual = {account.pk: balance_of(account).amount for account in self.accounts}
        assert actual == self.expected
        assert JournalEntry.objects.filter(book=self.market.book).count() == self.entries


@pytest.mark.django_db
def test_random_days_at_a_market_keep_the_ledger_right():
    run_state_machine_as_test(
        MarketDays,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            database=None,
            # No "explain" phase: it traces every line of a failing case, which takes minutes.
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
