"""Posting through the ledger's services: balances, idempotency, refusals, the hash chain.

The market's buyer card holds ¥10,000.00 (a cash top-up) and its commission rule takes 1 %
from the buyer and 2 % from the seller, at least ¥1 a side. The default trade (98 kg net at
¥1.20) is ¥117.60: the buyer pays ¥118.78, the seller is owed ¥115.25, the market keeps ¥3.53.
"""

from decimal import Decimal

import pytest
from django.db import transaction
from moneyed import Money

from common.exceptions import RefusalKind
from marketplace.markets import services as markets
from settlement.accounts import book_account, open_account
from settlement.chain import GENESIS_HASH, chain_hash, content_hash, seal_entries
from settlement.choices import AccountKind, EntryKind
from settlement.exceptions import (
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAmount,
    NothingToPay,
    NotReversible,
    TradeAlreadyReversed,
)
from settlement.funding import pay_out, top_up, withdraw
from settlement.models import BalanceSlot, JournalEntry, Posting
from settlement.posting import Leg, find_entry, post_entry, reverse_entry
from settlement.selectors import balance_of
from tests.settlement.ledger_state import assert_ledger_consistent, snapshot

pytestmark = pytest.mark.django_db

BUYER_PAYS = Decimal("118.78")
SELLER_GETS = Decimal("115.25")
COMMISSION = Decimal("3.53")


def cny(amount: str) -> Money:
    return Money(Decimal(amount), "CNY")


@pytest.fixture
def card(buyer_trader):
    return markets.settlement_account(buyer_trader)


@pytest.fixture
def payable(seller_trader):
    return markets.settlement_account(seller_trader)


@pytest.fixture
def cash(market):
    return book_account(market.book, AccountKind.CASH)


@pytest.fixture
def bank(market):
    return book_account(market.book, AccountKind.BANK)


@pytest.fixture
def revenue(market):
    return book_account(market.book, AccountKind.COMMISSION)


@pytest.fixture
def second_card(market):
    """Another buyer of the market, her card empty."""
    trader = markets.register_trader(
        market=market, kind="buyer", name="赵六", card_number="6200000000000002"
    )
    return markets.settlement_account(trader)


def postings_of(entry: JournalEntry) -> list[tuple[int, Decimal]]:
    return sorted((p.account_id, p.amount.amount) for p in entry.postings.all())


# --- Top-up --------------------------------------------------------------------------------


def test_top_up_credits_the_card_and_debits_the_clearing_account_of_its_method(
    card, cash, bank, operator
):
    entry = top_up(
        account=card, amount="250.50", method="bank", by=operator, idempotency_key="tu-1"
    )

    assert balance_of(card) == cny("10250.50")
    assert balance_of(bank) == cny("250.50")
    assert balance_of(cash) == cny("10000.00")  # the fixture's cash top-up, untouched
    assert entry.kind == EntryKind.TOP_UP
    assert entry.created_by == operator
    assert entry.reference == f"account:{card.pk}"
    assert postings_of(entry) == sorted(
        [(bank.pk, Decimal("250.50")), (card.pk, Decimal("-250.50"))]
    )
    assert_ledger_consistent()


@pytest.mark.parametrize(
    ("given", "taken"),
    [("7.5", "7.50"), (12, "12.00"), (Decimal("0.01"), "0.01"), (cny("3.20"), "3.20")],
)
def test_top_up_takes_amounts_in_cents(card, operator, given, taken):
    top_up(account=card, amount=given, method="cash", by=operator, idempotency_key="tu-cents")

    assert balance_of(card) == cny("10000.00") + cny(taken)


def test_top_up_retried_with_the_same_key_returns_the_first_entry_and_writes_nothing(
    card, operator
):
    first = top_up(account=card, amount="80.00", method="cash", by=operator, idempotency_key="k")
    before = snapshot()

    again = top_up(account=card, amount="80.00", method="cash", by=operator, idempotency_key="k")

    assert again.pk == first.pk
    assert snapshot() == before
    assert balance_of(card) == cny("10080.00")


@pytest.mark.parametrize(
    "change",
    [{"amount": "80.01"}, {"method": "bank"}, {"account": "second_card"}],
    ids=["amount", "method", "account"],
)
def test_top_up_with_a_used_key_and_another_request_is_refused_and_writes_nothing(
    card, second_card, operator, change
):
    top_up(account=card, amount="80.00", method="cash", by=operator, idempotency_key="k")
    before = snapshot()
    arguments = {"account": card, "amount": "80.00", "method": "cash", **change}
    if arguments["account"] == "second_card":
        arguments["account"] = second_card

    with pytest.raises(IdempotencyConflict) as refusal:
        top_up(**arguments, by=operator, idempotency_key="k")

    assert refusal.value.kind == RefusalKind.CONFLICT
    assert refusal.value.field == "idempotency_key"
    assert snapshot() == before


def test_the_same_key_in_another_market_is_another_top_up(card, other_market, operator):
    stranger = markets.register_trader(
        market=other_market, kind="buyer", name="周七", card_number="6200000000000077"
    )
    other_card = markets.settlement_account(stranger)
    top_up(account=card, amount="10.00", method="cash", by=operator, idempotency_key="k")

    top_up(account=other_card, amount="20.00", method="cash", by=operator, idempotency_key="k")

    assert balance_of(card) == cny("10010.00")
    assert balance_of(other_card) == cny("20.00")


INVALID_AMOUNTS = [
    0,
    "0.00",
    -5,
    "-0.01",
    "1.005",
    "0.001",
    "abc",
    "",
    None,
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "100000000.01",
    cny("2.001"),
    Money("5.00", "USD"),
    [1],
]


@pytest.mark.parametrize("amount", INVALID_AMOUNTS, ids=repr)
def test_top_up_refuses_an_invalid_amount_and_writes_nothing(card, operator, amount):
    before = snapshot()

    with pytest.raises(InvalidAmount) as refusal:
        top_up(account=card, amount=amount, method="cash", by=operator, idempotency_key="bad")

    assert refusal.value.field == "amount"
    assert refusal.value.as_dict() == {"amount": [str(InvalidAmount.default_message)]}
    assert snapshot() == before


# --- Withdrawal ----------------------------------------------------------------------------


def test_withdraw_pays_back_part_of_the_card(card, cash, operator):
    entry = withdraw(
        account=card, amount="400.00", method="cash", by=operator, idempotency_key="w-1"
    )

    assert balance_of(card) == cny("9600.00")
    assert balance_of(cash) == cny("9600.00")
    assert entry.kind == EntryKind.WITHDRAWAL
    assert postings_of(entry) == sorted(
        [(card.pk, Decimal("400.00")), (cash.pk, Decimal("-400.00"))]
    )
    assert_ledger_consistent()


def test_withdraw_of_the_whole_balance_leaves_the_card_at_zero(card, operator):
    withdraw(account=card, amount="10000.00", method="bank", by=operator, idempotency_key="w")

    assert balance_of(card) == cny("0.00")
    assert_ledger_consistent()


@pytest.mark.parametrize("amount", ["10000.01", "99999.00"])
def test_withdraw_over_the_balance_is_refused_with_the_balance_shown(card, operator, amount):
    before = snapshot()

    with pytest.raises(InsufficientBalance) as refusal:
        withdraw(account=card, amount=amount, method="cash", by=operator, idempotency_key="w")

    assert refusal.value.field == "amount"
    assert refusal.value.details == {"balance": cny("10000.00"), "needed": cny(amount)}
    assert "10000.00" in str(refusal.value.message)
    assert amount in str(refusal.value.message)
    assert snapshot() == before
    # The key was not used up: a right request under it goes through.
    withdraw(account=card, amount="1.00", method="cash", by=operator, idempotency_key="w")
    assert balance_of(card) == cny("9999.00")


def test_withdraw_retried_returns_the_first_entry_and_another_amount_is_refused(card, operator):
    first = withdraw(account=card, amount="5.00", method="cash", by=operator, idempotency_key="w")
    before = snapshot()

    again = withdraw(account=card, amount="5.00", method="cash", by=operator, idempotency_key="w")
    with pytest.raises(IdempotencyConflict):
        withdraw(account=card, amount="6.00", method="cash", by=operator, idempotency_key="w")

    assert again.pk == first.pk
    assert snapshot() == before


def test_withdraw_and_top_up_keys_do_not_collide(card, operator):
    top_up(account=card, amount="5.00", method="cash", by=operator, idempotency_key="same")

    withdraw(account=card, amount="5.00", method="cash", by=operator, idempotency_key="same")

    assert balance_of(card) == cny("10000.00")
    assert JournalEntry.objects.filter(kind=EntryKind.WITHDRAWAL).count() == 1


@pytest.mark.parametrize("amount", ["0", "-1.00", "0.005", "many"])
def test_withdraw_refuses_an_invalid_amount(card, operator, amount):
    before = snapshot()

    with pytest.raises(InvalidAmount) as refusal:
        withdraw(account=card, amount=amount, method="cash", by=operator, idempotency_key="w")

    assert refusal.value.field == "amount"
    assert snapshot() == before


# --- Trades seen from the ledger -----------------------------------------------------------


def test_a_trade_moves_the_card_the_payable_and_the_revenue(
    settle, commission, card, payable, revenue
):
    trade = settle("t1")

    assert balance_of(card) == cny("10000.00") - cny(str(BUYER_PAYS))
    assert balance_of(payable) == cny(str(SELLER_GETS))
    assert balance_of(revenue) == cny(str(COMMISSION))
    assert postings_of(trade.entry) == sorted(
        [(card.pk, BUYER_PAYS), (payable.pk, -SELLER_GETS), (revenue.pk, -COMMISSION)]
    )
    assert_ledger_consistent()


# --- Payout --------------------------------------------------------------------------------


def test_pay_out_pays_the_seller_everything_she_is_owed(
    settle, commission, payable, bank, supervisor
):
    settle("t1")
    settle("t2")

    entry = pay_out(account=payable, by=supervisor, idempotency_key="day-1")

    assert entry.kind == EntryKind.PAYOUT
    assert balance_of(payable) == cny("0.00")
    assert balance_of(bank) == cny("-230.50")  # the market's bank paid it out
    assert postings_of(entry) == sorted(
        [(payable.pk, Decimal("230.50")), (bank.pk, Decimal("-230.50"))]
    )
    assert_ledger_consistent()


def test_pay_out_retried_returns_the_first_payout_even_after_new_trades(
    settle, commission, payable, supervisor
):
    settle("t1")
    first = pay_out(account=payable, by=supervisor, idempotency_key="day-1")
    settle("t2")
    before = snapshot()

    again = pay_out(account=payable, by=supervisor, idempotency_key="day-1")

    assert again.pk == first.pk
    assert snapshot() == before
    assert balance_of(payable) == cny(str(SELLER_GETS))  # left for the next payout


def test_pay_out_with_a_key_used_for_another_seller_is_refused(
    settle, commission, payable, market, supervisor
):
    other = markets.register_trader(
        market=market, kind="seller", name="孙八", card_number="6201000000000002"
    )
    settle("t1")
    pay_out(account=payable, by=supervisor, idempotency_key="day-1")
    before = snapshot()

    with pytest.raises(IdempotencyConflict):
        pay_out(account=markets.settlement_account(other), by=supervisor, idempotency_key="day-1")

    assert snapshot() == before


def test_pay_out_of_nothing_is_refused_and_writes_nothing(settle, commission, payable, supervisor):
    before = snapshot()
    with pytest.raises(NothingToPay) as refusal:
        pay_out(account=payable, by=supervisor, idempotency_key="never-traded")
    assert refusal.value.kind == RefusalKind.CONFLICT
    assert snapshot() == before

    settle("t1")
    pay_out(account=payable, by=supervisor, idempotency_key="day-1")
    before = snapshot()
    with pytest.raises(NothingToPay):
        pay_out(account=payable, by=supervisor, idempotency_key="day-1-again")
    assert snapshot() == before


# --- Reversal ------------------------------------------------------------------------------


def test_reverse_entry_negates_every_posting_and_restores_the_balances(
    settle, commission, card, payable, revenue, supervisor
):
    trade = settle("t1")

    reversal = reverse_entry(
        entry=trade.entry, by=supervisor, reason="wrong buyer", idempotency_key="r1"
    )

    assert reversal.kind == EntryKind.REVERSAL
    assert reversal.reverses == trade.entry
    assert reversal.memo == "wrong buyer"
    assert reversal.reference == trade.entry.reference
    assert postings_of(reversal) == sorted((a, -amount) for a, amount in postings_of(trade.entry))
    assert balance_of(card) == cny("10000.00")
    assert balance_of(payable) == cny("0.00")
    assert balance_of(revenue) == cny("0.00")
    assert_ledger_consistent()


def test_a_reversal_cannot_be_reversed(settle, commission, supervisor):
    trade = settle("t1")
    reversal = reverse_entry(entry=trade.entry, by=supervisor, reason="typo", idempotency_key="r1")
    before = snapshot()

    with pytest.raises(NotReversible) as refusal:
        reverse_entry(entry=reversal, by=supervisor, reason="undo", idempotency_key="r2")

    assert refusal.value.kind == RefusalKind.CONFLICT
    assert snapshot() == before


def test_an_entry_is_reversed_once_whatever_the_key(settle, commission, supervisor):
    trade = settle("t1")
    reverse_entry(entry=trade.entry, by=supervisor, reason="typo", idempotency_key="r1")
    before = snapshot()

    with pytest.raises(TradeAlreadyReversed) as refusal:
        reverse_entry(entry=trade.entry, by=supervisor, reason="typo", idempotency_key="r2")

    assert refusal.value.kind == RefusalKind.CONFLICT

    assert snapshot() == before


def test_reverse_entry_retried_returns_the_first_reversal_and_another_reason_is_refused(
    settle, commission, supervisor
):
    trade = settle("t1")
    first = reverse_entry(entry=trade.entry, by=supervisor, reason="typo", idempotency_key="r1")
    before = snapshot()

    again = reverse_entry(entry=trade.entry, by=supervisor, reason="typo", idempotency_key="r1")
    with pytest.raises(IdempotencyConflict):
        reverse_entry(entry=trade.entry, by=supervisor, reason="other", idempotency_key="r1")

    assert again.pk == first.pk
    assert snapshot() == before


def test_reversing_a_top_up_already_spent_is_refused_with_the_balance(card, operator, supervisor):
    entry = top_up(account=card, amount="100.00", method="cash", by=operator, idempotency_key="k")
    withdraw(account=card, amount="10050.00", method="cash", by=operator, idempotency_key="w")
    before = snapshot()

    with pytest.raises(InsufficientBalance) as refusal:
        reverse_entry(entry=entry, by=supervisor, reason="bounced", idempotency_key="r")

    assert refusal.value.details == {"balance": cny("50.00"), "needed": cny("100.00")}
    assert snapshot() == before


# --- post_entry itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "amounts",
    [("5.00",), ("5.00", "-4.00"), ("5.00", "0.00", "-5.00"), ("5.005", "-5.005"), ()],
    ids=["one-leg", "unbalanced", "zero-leg", "sub-cent", "no-leg"],
)
def test_post_entry_refuses_legs_that_do_not_make_an_entry(market, card, cash, amounts):
    accounts = [cash, card, card]
    legs = [Leg(account, Decimal(a)) for account, a in zip(accounts, amounts, strict=False)]
    before = snapshot()

    with pytest.raises(ValueError, match="leg"):
        post_entry(
            book=market.book, kind=EntryKind.TOP_UP, legs=legs, idempotency_key="x", request={}
        )

    assert snapshot() == before


def test_post_entry_retried_returns_the_first_entry_and_another_request_is_refused(
    market, card, cash
):
    legs = [Leg(cash, Decimal("3.00")), Leg(card, Decimal("-3.00"))]
    first, created = post_entry(
        book=market.book, kind="top_up", legs=legs, idempotency_key="x", request={"n": 1}
    )
    before = snapshot()

    again, created_again = post_entry(
        book=market.book, kind="top_up", legs=legs, idempotency_key="x", request={"n": 1}
    )
    with pytest.raises(IdempotencyConflict):
        post_entry(
            book=market.book, kind="top_up", legs=legs, idempotency_key="x", request={"n": 2}
        )

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert find_entry("x", {"n": 1}) == first
    assert find_entry("y", {"n": 1}) is None
    assert snapshot() == before


def test_post_entry_refusal_leaves_the_callers_transaction_usable(market, card, cash, operator):
    legs = [Leg(card, Decimal("10000.01")), Leg(cash, Decimal("-10000.01"))]

    with transaction.atomic():
        before = snapshot()
        with pytest.raises(InsufficientBalance):
            post_entry(
                book=market.book, kind="withdrawal", legs=legs, idempotency_key="x", request={}
            )
        assert snapshot() == before
        top_up(account=card, amount="1.00", method="cash", by=operator, idempotency_key="after")

    assert balance_of(card) == cny("10001.00")


def test_post_entry_takes_several_legs_on_one_account(market, card, cash, second_card):
    legs = [
        Leg(cash, Decimal("10.00")),
        Leg(card, Decimal("-4.00")),
        Leg(card, Decimal("-6.00")),
        Leg(second_card, Decimal("-1.00")),
        Leg(second_card, Decimal("1.00")),
    ]

    entry, _ = post_entry(
        book=market.book, kind="top_up", legs=legs, idempotency_key="x", request={}
    )

    assert entry.postings.count() == 5
    assert balance_of(card) == cny("10010.00")
    assert balance_of(second_card) == cny("0.00")
    assert_ledger_consistent()


def test_an_overdraft_in_one_leg_refuses_the_whole_entry(market, card, second_card, cash):
    legs = [
        Leg(cash, Decimal("-1.00")),
        Leg(card, Decimal("0.50")),
        Leg(second_card, Decimal("0.50")),
    ]
    before = snapshot()

    with pytest.raises(InsufficientBalance) as refusal:
        post_entry(book=market.book, kind="trade", legs=legs, idempotency_key="x", request={})

    assert refusal.value.details == {"balance": cny("0.00"), "needed": cny("0.50")}
    assert snapshot() == before


# --- Accounts and balances -----------------------------------------------------------------


def test_open_account_opens_once_with_one_slot_per_party_and_more_for_the_book(
    market, seller_trader, payable, revenue, cash, bank
):
    again = open_account(
        book=market.book, kind=AccountKind.PAYABLE, name="again", trader_id=seller_trader.pk
    )

    assert again == payable
    assert payable.slots == 1
    assert {revenue.slots, cash.slots, bank.slots} == {8}
    assert BalanceSlot.objects.filter(account=revenue).count() == 8
    assert not BalanceSlot.objects.get(account=payable).no_overdraft
    assert (
        BalanceSlot.objects.filter(account__kind=AccountKind.PREPAID, no_overdraft=False).count()
        == 0
    )


def test_a_hot_book_account_spreads_over_its_slots_and_balance_of_sums_them(
    settle, commission, revenue
):
    trades = 30
    for n in range(trades):
        settle(f"t{n}")

    used = set(Posting.objects.filter(account=revenue).values_list("slot", flat=True))
    # 30 trades all landing in one of 8 slots has a chance of 8^-29.
    assert len(used) > 1
    assert used <= set(range(8))
    assert balance_of(revenue) == cny(str(COMMISSION * trades))
    slots = BalanceSlot.objects.filter(account=revenue)
    assert sum(slot.amount for slot in slots) == -COMMISSION * trades
    assert_ledger_consistent()


# --- The hash chain ------------------------------------------------------------------------


def recompute_chain() -> list[tuple[int, int]]:
    """Check every sealed entry against its content and its predecessor; (id, seq) in order."""
    previous, chained = GENESIS_HASH, []
    for entry in JournalEntry.objects.filter(seal_seq__isnull=False).order_by("seal_seq"):
        postings = entry.postings.values_list("account_id", "slot", "amount")
        assert content_hash(entry, postings) == entry.content_hash
        assert chain_hash(previous, entry.seal_seq, entry.content_hash) == entry.chain_hash
        previous = entry.chain_hash
        chained.append((entry.pk, entry.seal_seq))
    return chained


def test_seal_entries_chains_the_entries_in_the_order_they_were_written(
    settle, commission, supervisor, card, operator
):
    trade = settle("t1")
    settle("t2")
    reverse_entry(entry=trade.entry, by=supervisor, reason="typo", idempotency_key="r")
    withdraw(account=card, amount="1.00", method="cash", by=operator, idempotency_key="w")
    written = list(JournalEntry.objects.order_by("id").values_list("id", flat=True))

    sealed = seal_entries()

    assert sealed == len(written) == 5
    assert recompute_chain() == [(entry, seq) for seq, entry in enumerate(written, start=1)]


def test_sealing_again_seals_nothing_more_and_later_entries_extend_the_chain(settle, commission):
    settle("t1")
    seal_entries()
    chain = recompute_chain()
    before = snapshot()

    assert seal_entries() == 0
    assert snapshot() == before

    later = settle("t2").entry
    assert seal_entries() == 1
    assert recompute_chain() == [*chain, (later.pk, len(chain) + 1)]


def test_seal_entries_seals_at_most_its_limit_oldest_first(card, operator):
    for n in range(4):
        top_up(account=card, amount="1.00", method="cash", by=operator, idempotency_key=f"k{n}")

    assert seal_entries(limit=2) == 2
    assert seal_entries(limit=2) == 2
    assert seal_entries(limit=2) == 1
    assert [seq for _, seq in recompute_chain()] == [1, 2, 3, 4, 5]


def test_the_content_hash_covers_every_field_and_posting(settle, commission):
    entry = settle("t1").entry
    postings = list(entry.postings.values_list("account_id", "slot", "amount"))
    assert content_hash(entry, postings) == entry.content_hash

    entry.memo = entry.memo + "!"
    assert content_hash(entry, postings) != entry.content_hash
    entry.refresh_from_db()
    account, slot, amount = postings[0]
    tampered = [(account, slot, amount + Decimal("0.01")), *postings[1:]]
    assert content_hash(entry, tampered) != entry.content_hash
    moved = [(account, (slot + 1) % 8, amount), *postings[1:]]
    assert content_hash(entry, moved) != entry.content_hash
