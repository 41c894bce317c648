"""PostgreSQL itself keeps the ledger's rules, whatever client writes to it (migration 0004).

Every test writes raw SQL through Django's connection, as a careless script or a tampering
hand would. The balance rule is a deferred constraint trigger that fires at COMMIT, so its
tests run real transactions that commit; the other rules refuse the statement itself, and
their tests run in a savepoint of the test's transaction. A refused write leaves the
database exactly as it was.
"""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from marketplace.markets import services as markets
from settlement.accounts import book_account
from settlement.chain import seal_entries
from settlement.choices import AccountKind
from settlement.funding import top_up
from settlement.models import JournalEntry
from tests.settlement.ledger_state import snapshot

pytestmark = pytest.mark.django_db
commits = pytest.mark.django_db(transaction=True)

CHECK_VIOLATION = "23514"  # the balance trigger, the CHECK constraints
RESTRICT_VIOLATION = "23001"  # the triggers that keep postings and entries as written


@pytest.fixture
def ledger(market, operator):
    """A market book with a buyer's card holding ¥500.00 (one committed top-up entry)."""
    buyer = markets.register_trader(
        market=market, kind="buyer", name="张三", card_number="6200000000009001"
    )
    card = markets.settlement_account(buyer)
    entry = top_up(
        account=card, amount="500.00", method="cash", by=operator, idempotency_key="funding"
    )
    return {
        "book": market.book.pk,
        "card": card.pk,
        "cash": book_account(market.book, AccountKind.CASH).pk,
        "entry": entry.pk,
        "posting": entry.postings.order_by("id").first().pk,
    }


def refused(sqlstate: str):
    """pytest.raises for the IntegrityError Django raises, checked for PostgreSQL's code."""

    class Refused:
        def __enter__(self):
            self._raises = pytest.raises(IntegrityError)
            self.caught = self._raises.__enter__()
            return self

        def __exit__(self, *exc_info):
            handled = self._raises.__exit__(*exc_info)
            assert self.caught.value.__cause__.sqlstate == sqlstate, self.caught.value
            return handled

    return Refused()


def run(sql: str, params=()) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def insert_entry(book: int, key: str) -> int:
    return run(
        "INSERT INTO marketplace_journalentry (book_id, kind, memo, business_date, created_at,"
        " reference, idempotency_key, request_hash, content_hash, chain_hash)"
        " VALUES (%s, 'trade', 'raw', CURRENT_DATE, now(), '', %s, '', '', '') RETURNING id",
        [book, key],
    )[0][0]


def insert_posting(entry: int, account: int, amount: str) -> None:
    run(
        "INSERT INTO marketplace_posting (entry_id, account_id, slot, amount, amount_currency)"
        " VALUES (%s, %s, 0, %s, 'CNY')",
        [entry, account, Decimal(amount)],
    )


# --- Every entry balances, checked at commit -----------------------------------------------


@commits
def test_a_balanced_entry_written_in_raw_sql_commits(ledger):
    with transaction.atomic():
        entry = insert_entry(ledger["book"], "raw-balanced")
        insert_posting(entry, ledger["cash"], "5.00")
        insert_posting(entry, ledger["card"], "-5.00")

    assert run(
        "SELECT sum(amount), count(*) FROM marketplace_posting WHERE entry_id = %s", [entry]
    ) == [(Decimal("0.00"), 2)]


@commits
@pytest.mark.parametrize(
    "amounts",
    [("5.00", "-4.99"), ("5.00",), (), ("5.00", "-5.00", "0.01")],
    ids=["off-by-a-cent", "one-posting", "no-posting", "three-postings-off"],
)
def test_an_unbalanced_entry_is_refused_at_commit(ledger, amounts):
    before = snapshot()

    with refused(CHECK_VIOLATION) as refusal, transaction.atomic():
        entry = insert_entry(ledger["book"], "raw-unbalanced")
        accounts = [ledger["cash"], ledger["card"], ledger["cash"]]
        for account, amount in zip(accounts, amounts, strict=False):
            insert_posting(entry, account, amount)

    assert "does not balance" in str(refusal.caught.value)
    assert snapshot() == before


@commits
def test_two_unbalanced_entries_cannot_make_up_for_each_other(ledger):
    before = snapshot()

    with refused(CHECK_VIOLATION), transaction.atomic():
        first = insert_entry(ledger["book"], "raw-first")
        second = insert_entry(ledger["book"], "raw-second")
        insert_posting(first, ledger["cash"], "5.00")
        insert_posting(first, ledger["card"], "-2.00")
        insert_posting(second, ledger["cash"], "-3.00")
        insert_posting(second, ledger["card"], "0.01")
        insert_posting(second, ledger["card"], "-0.01")

    assert snapshot() == before


@commits
def test_with_immediate_constraints_the_unbalanced_statement_itself_is_refused(ledger):
    before = snapshot()

    with refused(CHECK_VIOLATION), transaction.atomic():
        run("SET CONSTRAINTS ALL IMMEDIATE")
        entry = insert_entry(ledger["book"], "raw-immediate")  # no postings yet: refused here
        insert_posting(entry, ledger["cash"], "5.00")

    assert snapshot() == before


@commits
def test_a_posting_of_zero_is_refused(ledger):
    before = snapshot()

    with refused(CHECK_VIOLATION), transaction.atomic():
        entry = insert_entry(ledger["book"], "raw-zero")
        insert_posting(entry, ledger["cash"], "5.00")
        insert_posting(entry, ledger["card"], "-5.00")
        insert_posting(entry, ledger["card"], "0.00")

    assert snapshot() == before


# --- Postings and entries are never changed or deleted -------------------------------------


@pytest.mark.parametrize(
    "change",
    ["amount = amount + 1", "amount = -amount", "account_id = account_id", "slot = 1"],
)
def test_a_posting_cannot_be_updated(ledger, change):
    before = snapshot()

    with refused(RESTRICT_VIOLATION) as refusal, transaction.atomic():
        run(f"UPDATE marketplace_posting SET {change} WHERE id = %s", [ledger["posting"]])

    assert "the ledger only grows" in str(refusal.caught.value)
    assert snapshot() == before


def test_a_posting_cannot_be_deleted(ledger):
    before = snapshot()

    with refused(RESTRICT_VIOLATION), transaction.atomic():
        run("DELETE FROM marketplace_posting WHERE id = %s", [ledger["posting"]])

    assert snapshot() == before


def test_an_entry_cannot_be_deleted(ledger):
    before = snapshot()

    with refused(RESTRICT_VIOLATION), transaction.atomic():
        run("DELETE FROM marketplace_journalentry WHERE id = %s", [ledger["entry"]])

    assert snapshot() == before


@pytest.mark.parametrize(
    "change",
    [
        "memo = 'Cash 5000.00'",
        "kind = 'withdrawal'",
        "reference = 'account:999'",
        "business_date = business_date - 1",
        "created_at = created_at - interval '1 day'",
        "created_by_id = NULL",
        "idempotency_key = 'top_up:other'",
        "request_hash = repeat('0', 64)",
        "content_hash = repeat('0', 64)",
        "seal_seq = 1, chain_hash = repeat('a', 64), memo = 'sealed and changed'",
    ],
)
def test_an_entry_cannot_change(ledger, change):
    before = snapshot()

    with refused(RESTRICT_VIOLATION) as refusal, transaction.atomic():
        run(f"UPDATE marketplace_journalentry SET {change} WHERE id = %s", [ledger["entry"]])

    assert "only its seal is written, once" in str(refusal.caught.value)
    assert snapshot() == before


@commits
def test_an_entry_is_sealed_once_and_its_seal_never_changes_again(ledger):
    with transaction.atomic():
        run(
            "UPDATE marketplace_journalentry SET seal_seq = 1, chain_hash = repeat('a', 64)"
            " WHERE id = %s",
            [ledger["entry"]],
        )
    sealed = snapshot()

    for change in (
        "chain_hash = repeat('b', 64)",
        "seal_seq = 2",
        "seal_seq = NULL, chain_hash = ''",
        "seal_seq = 1, chain_hash = repeat('a', 64)",  # even writing the same seal again
    ):
        with refused(RESTRICT_VIOLATION), transaction.atomic():
            run(f"UPDATE marketplace_journalentry SET {change} WHERE id = %s", [ledger["entry"]])

    assert snapshot() == sealed
    assert JournalEntry.objects.get(pk=ledger["entry"]).seal_seq == 1
    assert seal_entries() == 0  # the sealer does not touch a sealed entry either


# --- Balance slots -------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0.01", "500.00"])
def test_a_prepaid_balance_slot_cannot_be_overdrawn(ledger, amount):
    before = snapshot()

    with refused(CHECK_VIOLATION) as refusal, transaction.atomic():
        run(
            "UPDATE marketplace_balanceslot SET amount = %s WHERE account_id = %s",
            [Decimal(amount), ledger["card"]],
        )

    assert "ledger_prepaid_not_overdrawn" in str(refusal.caught.value)
    assert snapshot() == before


def test_a_prepaid_balance_slot_may_reach_zero(ledger):
    with transaction.atomic():
        run("UPDATE marketplace_balanceslot SET amount = 0 WHERE account_id = %s", [ledger["card"]])

    assert run(
        "SELECT amount FROM marketplace_balanceslot WHERE account_id = %s", [ledger["card"]]
    ) == [(Decimal("0.00"),)]


def test_a_balance_slot_cannot_be_deleted(ledger):
    before = snapshot()

    with refused(RESTRICT_VIOLATION), transaction.atomic():
        run("DELETE FROM marketplace_balanceslot WHERE account_id = %s", [ledger["card"]])

    assert snapshot() == before


def test_a_prepaid_slot_cannot_lose_its_overdraft_rule_to_be_overdrawn(ledger):
    before = snapshot()

    with refused(RESTRICT_VIOLATION), transaction.atomic():
        run(
            "UPDATE marketplace_balanceslot SET no_overdraft = false, amount = 100"
            " WHERE account_id = %s",
            [ledger["card"]],
        )

    assert snapshot() == before


def test_an_unsealed_entry_chain_hash_is_written_once(ledger):
    with transaction.atomic():
        run(
            "UPDATE marketplace_journalentry SET chain_hash = 'forged' WHERE id = %s",
            [ledger["entry"]],
        )
    before = snapshot()

    with refused(RESTRICT_VIOLATION), transaction.atomic():
        run(
            "UPDATE marketplace_journalentry SET chain_hash = 'forged again' WHERE id = %s",
            [ledger["entry"]],
        )

    assert snapshot() == before


@pytest.mark.parametrize(
    ("slot", "currency", "sqlstate"),
    [(99, "CNY", "23503"), (0, "USD", CHECK_VIOLATION)],  # 23503: foreign key violation
)
def test_a_posting_names_a_real_slot_in_cny(ledger, slot, currency, sqlstate):
    before = snapshot()

    with refused(sqlstate), transaction.atomic():
        entry = insert_entry(ledger["book"], f"raw-{slot}-{currency}")
        run(
            "INSERT INTO marketplace_posting (entry_id, account_id, slot, amount, amount_currency)"
            " VALUES (%s, %s, %s, 5, %s)",
            [entry, ledger["cash"], slot, currency],
        )

    assert snapshot() == before
