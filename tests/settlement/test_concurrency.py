"""Counters settling at the same moment, each thread with its own database connection.

The balances come out exact to the cent, no deadlock or serialization failure reaches a
counter, and a card never pays more than it holds. The default trade (98 kg net at ¥1.20,
1 % + 2 % commission) has the buyer pay ¥118.78 and the seller get ¥115.25.
"""

import contextlib
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from moneyed import Money

from marketplace.markets import services as markets
from marketplace.models import Trade
from settlement.accounts import book_account
from settlement.choices import AccountKind, EntryKind
from settlement.exceptions import InsufficientBalance, NothingToPay
from settlement.funding import pay_out, top_up
from settlement.models import JournalEntry
from settlement.selectors import balance_of
from tests.settlement.ledger_state import assert_ledger_consistent

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20
BUYER_PAYS = Decimal("118.78")
SELLER_GETS = Decimal("115.25")
COMMISSION = Decimal("3.53")


def cny(amount) -> Money:
    return Money(Decimal(amount), "CNY")


def run_at_once(jobs: list[Callable[[], object]]) -> list[tuple[str, object]]:
    """Run each job in its own thread, all released together; ("ok", result) or
    ("error", exception) per job, in the jobs' order."""
    start = threading.Barrier(len(jobs))
    outcomes: list[tuple[str, object]] = [("error", TimeoutError())] * len(jobs)

    def work(n: int) -> None:
        try:
            start.wait(timeout=30)
            outcomes[n] = ("ok", jobs[n]())
        except Exception as error:  # every outcome is asserted by the test
            outcomes[n] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def errors(outcomes) -> list:
    return [value for status, value in outcomes if status == "error"]


@pytest.fixture
def funded_buyer(market, operator):
    """fund(card_number, amount) → a new buyer whose card holds that amount."""

    def fund(card_number: str, amount: str):
        trader = markets.register_trader(
            market=market, kind="buyer", name=f"买家{card_number[-3:]}", card_number=card_number
        )
        top_up(
            account=markets.settlement_account(trader),
            amount=amount,
            method="cash",
            by=operator,
            idempotency_key=f"funding-{card_number}",
        )
        return trader

    return fund


def test_twenty_counters_settling_at_once_keep_every_balance_exact(
    settle, commission, market, buyer_trader, seller_trader
):
    per_thread = 3

    def three_trades(n: int):
        return lambda: [settle(f"c{n}-t{i}").pk for i in range(per_thread)]

    outcomes = run_at_once([three_trades(n) for n in range(THREADS)])

    assert errors(outcomes) == []
    trades = THREADS * per_thread
    assert len({pk for _, pks in outcomes for pk in pks}) == trades
    assert Trade.objects.filter(market=market).count() == trades
    assert JournalEntry.objects.filter(book=market.book, kind=EntryKind.TRADE).count() == trades
    assert JournalEntry.objects.filter(book=market.book).count() == trades + 1  # + the funding
    buyer = balance_of(markets.settlement_account(buyer_trader))
    assert buyer == cny("10000.00") - cny(BUYER_PAYS * trades) == cny("2873.20")
    assert balance_of(markets.settlement_account(seller_trader)) == cny(SELLER_GETS * trades)
    revenue = book_account(market.book, AccountKind.COMMISSION)
    assert balance_of(revenue) == cny(COMMISSION * trades) == cny("211.80")
    assert_ledger_consistent()


def test_a_card_that_covers_some_of_the_trades_pays_exactly_those(
    settle, commission, funded_buyer, seller_trader
):
    covered = 7
    buyer = funded_buyer("6200000000000700", str(BUYER_PAYS * covered + Decimal("100.00")))

    outcomes = run_at_once(
        [lambda n=n: settle(f"short-{n}", buyer_card=buyer.card_number) for n in range(THREADS)]
    )

    settled = [value for status, value in outcomes if status == "ok"]
    refused = errors(outcomes)
    assert len(settled) == covered
    assert len(refused) == THREADS - covered
    assert all(isinstance(refusal, InsufficientBalance) for refusal in refused), refused
    assert {refusal.details["needed"] for refusal in refused} == {cny(BUYER_PAYS)}
    assert all(refusal.details["balance"] < cny(BUYER_PAYS) for refusal in refused)
    assert balance_of(markets.settlement_account(buyer)) == cny("100.00")
    assert balance_of(markets.settlement_account(seller_trader)) == cny(SELLER_GETS * covered)
    assert Trade.objects.filter(buyer=buyer).count() == covered
    assert_ledger_consistent()


def test_one_trade_sent_by_twenty_counters_at_once_is_settled_once(
    settle, commission, funded_buyer, buyer_trader, seller_trader
):
    # The card covers the trade once: a retry must find the first trade, not the empty card.
    buyer = funded_buyer("6200000000000701", str(BUYER_PAYS))
    settle("opens-the-day")  # so the counters meet on the card's lock, not on the day's row

    outcomes = run_at_once([lambda: settle("the-same-key", buyer_card=buyer.card_number)] * THREADS)

    assert errors(outcomes) == []
    assert len({trade.pk for _, trade in outcomes}) == 1
    assert Trade.objects.filter(buyer=buyer).count() == 1
    assert balance_of(markets.settlement_account(buyer)) == cny("0.00")
    assert balance_of(markets.settlement_account(seller_trader)) == cny(SELLER_GETS * 2)
    assert_ledger_consistent()


def test_one_payout_sent_twenty_times_at_once_pays_once(
    settle, commission, seller_trader, supervisor
):
    settle("t1")
    settle("t2")
    payable = markets.settlement_account(seller_trader)

    outcomes = run_at_once(
        [lambda: pay_out(account=payable, by=supervisor, idempotency_key="day-1")] * THREADS
    )

    assert errors(outcomes) == []
    assert len({entry.pk for _, entry in outcomes}) == 1
    assert JournalEntry.objects.filter(kind=EntryKind.PAYOUT).count() == 1
    assert balance_of(payable) == cny("0.00")
    assert_ledger_consistent()


def test_payouts_top_ups_and_trades_at_once_neither_deadlock_nor_lose_a_cent(
    settle, commission, market, buyer_trader, seller_trader, operator, supervisor
):
    """Payouts (the seller and the bank), bank top-ups (the bank and the card) and trades (the
    card and the seller) lock the same rows: taken in one order (account, slot) or they
    deadlock, as payouts did when they locked the seller's row first."""
    card = markets.settlement_account(buyer_trader)
    payable = markets.settlement_account(seller_trader)
    rounds = 5

    def trades(n):
        return lambda: [settle(f"mix-{n}-{i}") for i in range(rounds)]

    def top_ups(n):
        return lambda: [
            top_up(
                account=card,
                amount="10.00",
                method="bank",
                by=operator,
                idempotency_key=f"mix-{n}-{i}",
            )
            for i in range(rounds)
        ]

    def payouts(n):
        def pay():
            paid = []
            for i in range(rounds):
                with contextlib.suppress(NothingToPay):
                    paid.append(pay_out(account=payable, by=supervisor, idempotency_key=f"{n}-{i}"))
            return paid

        return pay

    jobs = [make(n) for n in range(THREADS // 3) for make in (trades, top_ups, payouts)]

    outcomes = run_at_once(jobs)

    assert errors(outcomes) == []
    traded = topped = THREADS // 3 * rounds
    assert Trade.objects.filter(market=market).count() == traded
    payouts_made = [
        entry.pk
        for job, (_, result) in zip(jobs, outcomes, strict=True)
        if job.__name__ == "pay"
        for entry in result
    ]
    assert sorted(payouts_made) == sorted(payout_entries(market).values_list("pk", flat=True))
    paid = sum(
        (entry.postings.get(account=payable).amount.amount for entry in payout_entries(market)),
        Decimal("0.00"),
    )
    assert balance_of(card) == cny("10000.00") + cny(10 * topped) - cny(BUYER_PAYS * traded)
    assert balance_of(payable) == cny(SELLER_GETS * traded - paid)
    bank = book_account(market.book, AccountKind.BANK)
    assert balance_of(bank) == cny(Decimal(10 * topped) - paid)
    assert_ledger_consistent()


def payout_entries(market):
    return JournalEntry.objects.filter(book=market.book, kind=EntryKind.PAYOUT)
