"""verify_ledger: a clean ledger verifies; a tampered one is caught, and says where.

Tampering tests commit real data and then do what a hand with database access could: switch
off the trigger that keeps entries as written, change a row, switch it back on.
"""

from contextlib import contextmanager
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import F
from django.utils import translation

from marketplace.markets import funding
from marketplace.markets import trades as counter_trades
from settlement.accounts import book_account
from settlement.chain import GENESIS_HASH, content_hash, seal_entries
from settlement.choices import AccountKind
from settlement.findings import CHECK_BALANCES, CHECK_CHAIN, CHECK_CONTENT, CHECK_ENTRIES
from settlement.models import BalanceSlot, JournalEntry, Posting
from settlement.verification import verify_ledger


@pytest.fixture(autouse=True)
def in_english():
    """Findings carry messages in the active language; these tests read the English ones."""
    with translation.override("en"):
        yield


@pytest.fixture
def trading_day(settle, commission, supervisor, buyer_trader):
    """A funded card, three trades, one of them reversed, another top-up: six entries."""
    first = settle("t1")
    settle("t2", unit_price="2.00")
    settle("t3", gross_kg="50.000", tare_kg="0")
    counter_trades.reverse_trade(
        trade_id=first.pk, by=supervisor, reason="wrong buyer", idempotency_key="r1"
    )
    funding.top_up_card(
        market=first.market,
        by=supervisor,
        card_number=buyer_trader.card_number,
        amount="300.00",
        method="bank",
        idempotency_key="second-funding",
    )
    return first.market


@contextmanager
def entries_unprotected():
    """What a tamperer would do first: switch off the trigger keeping entries as written."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE marketplace_journalentry DISABLE TRIGGER ledger_entry_immutable"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE marketplace_journalentry ENABLE TRIGGER ledger_entry_immutable"
            )


def tamper(sql: str, params: list) -> None:
    with entries_unprotected(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def codes(result) -> set[str]:
    return {finding.code for finding in result.findings}


def finding(result, code: str):
    return next(each for each in result.findings if each.code == code)


def middle_entry() -> JournalEntry:
    entries = list(JournalEntry.objects.order_by("seal_seq"))
    return entries[len(entries) // 2]


def run_command(*args) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("verify_ledger", *args, stdout=out, no_color=True)
    return out.getvalue()


# A clean ledger


@pytest.mark.django_db
def test_a_clean_sealed_ledger_verifies_and_gives_its_chain_head(trading_day):
    seal_entries()

    result = verify_ledger()

    last = JournalEntry.objects.order_by("-seal_seq").first()
    assert result.ok
    assert result.findings == []
    assert result.entries == JournalEntry.objects.count() == 6
    assert (result.sealed, result.unsealed) == (6, 0)
    assert (result.head.seal_seq, result.head.chain_hash) == (6, last.chain_hash)
    assert result.balances.mismatched == 0
    assert result.balances.slots == BalanceSlot.objects.count()
    assert result.balances.cached == result.balances.posted == Decimal("0.00")


@pytest.mark.django_db
def test_unsealed_entries_are_reported_as_information_not_as_errors(trading_day):
    result = verify_ledger()

    assert result.ok
    assert (result.sealed, result.unsealed) == (0, 6)
    assert (result.head.seal_seq, result.head.chain_hash) == (0, GENESIS_HASH)
    unsealed = finding(result, "unsealed")
    assert not unsealed.is_error
    assert "6 entries are not sealed yet" in unsealed.message
    assert set(unsealed.ids) == set(JournalEntry.objects.values_list("id", flat=True))


@pytest.mark.django_db
def test_an_empty_ledger_verifies(db):
    result = verify_ledger()

    assert result.ok
    assert (result.entries, result.sealed, result.unsealed) == (0, 0, 0)
    assert result.head.chain_hash == GENESIS_HASH


# Tampering, on committed data


@pytest.mark.django_db(transaction=True)
def test_a_changed_memo_is_reported_as_a_content_mismatch_of_that_entry(trading_day):
    seal_entries()
    victim = middle_entry()

    tamper("UPDATE marketplace_journalentry SET memo = %s WHERE id = %s", ["退款", victim.pk])

    result = verify_ledger()
    assert not result.ok
    assert codes(result) == {"content_mismatch"}
    mismatch = finding(result, "content_mismatch")
    assert mismatch.ids == (victim.pk,)
    assert mismatch.check == CHECK_CONTENT
    assert f"Entry #{victim.pk} no longer matches its content hash" in mismatch.message
    assert not result.passed(CHECK_CONTENT)
    assert result.passed(CHECK_CHAIN)
    assert result.passed(CHECK_BALANCES)


@pytest.mark.django_db(transaction=True)
def test_a_rewritten_content_hash_breaks_the_chain_at_that_entry(trading_day):
    """A careful tamperer changes the memo and recomputes the entry's own hash: the content
    matches again, but the chain sealed over the old hash does not."""
    seal_entries()
    victim = middle_entry()
    victim.memo = "退款"
    legs = Posting.objects.filter(entry=victim).values_list("account_id", "slot", "amount")
    forged = content_hash(victim, legs)

    tamper(
        "UPDATE marketplace_journalentry SET memo = %s, content_hash = %s WHERE id = %s",
        ["退款", forged, victim.pk],
    )

    result = verify_ledger()
    assert not result.ok
    assert codes(result) == {"chain_mismatch"}
    broken = finding(result, "chain_mismatch")
    assert broken.ids == (victim.pk,)
    after = JournalEntry.objects.filter(seal_seq__gt=victim.seal_seq).count()
    assert f"breaks at entry #{victim.pk} (seal {victim.seal_seq})" in broken.message
    assert f"the entries sealed after it ({after}) cannot be trusted" in broken.message


@pytest.mark.django_db(transaction=True)
def test_a_replaced_content_hash_is_both_a_content_and_a_chain_mismatch(trading_day):
    seal_entries()
    victim = middle_entry()

    tamper(
        "UPDATE marketplace_journalentry SET content_hash = %s WHERE id = %s",
        ["f" * 64, victim.pk],
    )

    result = verify_ledger()
    assert codes(result) == {"content_mismatch", "chain_mismatch"}
    assert finding(result, "content_mismatch").ids == (victim.pk,)
    assert finding(result, "chain_mismatch").ids == (victim.pk,)


@pytest.mark.django_db(transaction=True)
def test_a_renumbered_seal_is_reported_as_a_gap(trading_day):
    seal_entries()
    last = JournalEntry.objects.order_by("-seal_seq").first()

    tamper("UPDATE marketplace_journalentry SET seal_seq = 9 WHERE id = %s", [last.pk])

    result = verify_ledger()
    gap = finding(result, "seal_gap")
    assert gap.ids == (last.pk,)
    assert f"Seal numbers 6 to 8 are missing before entry #{last.pk}" in gap.message
    # The link was made with seal number 6, so it no longer follows either.
    assert finding(result, "chain_mismatch").ids == (last.pk,)
    assert result.head.seal_seq == 9


@pytest.mark.django_db
def test_a_changed_balance_slot_is_reported_as_a_balance_mismatch(trading_day):
    seal_entries()
    commission = book_account(trading_day.book, AccountKind.COMMISSION)
    BalanceSlot.objects.filter(account=commission, slot=3).update(amount=F("amount") - 50)

    result = verify_ledger()

    assert codes(result) == {"balance_mismatch"}
    mismatch = finding(result, "balance_mismatch")
    assert mismatch.ids == (commission.pk,)
    assert f"account #{commission.pk} slot 3" in mismatch.message
    assert result.balances.mismatched == 1
    assert result.balances.cached == result.balances.posted - 50


@pytest.mark.django_db
def test_a_posting_slipped_into_an_entry_unbalances_it(trading_day):
    """Inside this test's transaction the deferred balance trigger has not fired yet (it
    would refuse at COMMIT), so the slipped posting is there to be found."""
    seal_entries()
    victim = middle_entry()
    cash = book_account(trading_day.book, AccountKind.CASH)
    slip(victim, cash, "10.00")

    result = verify_ledger()

    assert finding(result, "entry_unbalanced").ids == (victim.pk,)
    assert not result.passed(CHECK_ENTRIES)
    # Its content changed too, and the cash slot no longer equals its postings.
    assert finding(result, "content_mismatch").ids == (victim.pk,)
    assert finding(result, "balance_mismatch").ids == (cash.pk,)
    # Even it out again: the test's teardown checks the deferred constraints.
    slip(victim, cash, "-10.00")


def slip(entry: JournalEntry, account, amount: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO marketplace_posting (entry_id, account_id, slot, amount, amount_currency)"
            " VALUES (%s, %s, 0, %s, 'CNY')",
            [entry.pk, account.pk, amount],
        )


# The command


@pytest.mark.django_db
def test_the_command_prints_a_clean_report_and_the_chain_head(trading_day):
    output = run_command("--seal")

    head = JournalEntry.objects.order_by("-seal_seq").first()
    assert "Sealed 6 entries." in output
    assert "Entries: 6 (6 sealed, 0 not sealed yet)" in output
    assert f"Chain head: seal 6 {head.chain_hash}" in output
    assert "✓ Content hashes match the entries" in output
    assert "✓ Hash chain links from genesis, without gaps" in output
    assert "✓ Every entry balances" in output
    assert "✓ Balance slots equal their postings" in output
    assert "✗" not in output
    assert output.rstrip().endswith("The ledger verifies.")


@pytest.mark.django_db
def test_the_command_mentions_unsealed_entries_without_failing(trading_day):
    output = run_command()

    assert "i 6 entries are not sealed yet" in output
    assert "The ledger verifies." in output


@pytest.mark.django_db(transaction=True)
def test_the_command_reports_a_tampered_entry_and_fails(trading_day):
    seal_entries()
    victim = middle_entry()
    tamper("UPDATE marketplace_journalentry SET memo = %s WHERE id = %s", ["退款", victim.pk])

    out = StringIO()
    with translation.override("en"), pytest.raises(CommandError) as failure:
        call_command("verify_ledger", stdout=out, no_color=True)

    output = out.getvalue()
    assert failure.value.returncode == 1
    assert "The ledger does not verify: 1 problem found." in str(failure.value)
    assert "✗ Content hashes match the entries" in output
    assert f"[content_mismatch] ids: {victim.pk}" in output
    assert "✓ Hash chain links from genesis, without gaps" in output
    assert "The ledger verifies." not in output


@pytest.mark.django_db(transaction=True)
def test_manage_py_verify_ledger_exits_0_when_clean_and_1_when_tampered(trading_day, capsys):
    """The command line itself, as cron or an operator runs it: the exit status says it."""
    with translation.override("en"):
        ManagementUtility(["manage.py", "verify_ledger", "--seal", "--no-color"]).execute()
    assert "The ledger verifies." in capsys.readouterr().out

    commission = book_account(trading_day.book, AccountKind.COMMISSION)
    BalanceSlot.objects.filter(account=commission, slot=0).update(amount=F("amount") - 1)
    with translation.override("en"), pytest.raises(SystemExit) as exit_status:
        ManagementUtility(["manage.py", "verify_ledger", "--no-color"]).execute()

    assert exit_status.value.code == 1
    captured = capsys.readouterr()
    assert "✗ Balance slots equal their postings" in captured.out
    assert "The ledger does not verify: 1 problem found." in captured.err
