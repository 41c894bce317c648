"""What the ledger's tables hold, read with plain SQL, and the invariants they must keep."""

from decimal import Decimal

from django.db import connection


def snapshot() -> tuple:
    """Every row of the ledger's tables (and trades), as the database holds them."""
    tables = ("journalentry", "posting", "balanceslot", "account", "trade")
    rows = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT coalesce(json_agg(t ORDER BY t.id), '[]') FROM marketplace_{table} t"
            )
            rows.append(cursor.fetchone()[0])
    return tuple(rows)


def _rows(sql: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def unbalanced_entries() -> list:
    """Entries whose postings do not sum to zero or that have fewer than two."""
    return _rows(
        "SELECT e.id, coalesce(sum(p.amount), 0), count(p.id) FROM marketplace_journalentry e"
        " LEFT JOIN marketplace_posting p ON p.entry_id = e.id GROUP BY e.id"
        " HAVING coalesce(sum(p.amount), 0) <> 0 OR count(p.id) < 2"
    )


def trial_balance() -> Decimal:
    """The sum of every posting: zero in a double-entry ledger."""
    return _rows("SELECT coalesce(sum(amount), 0) FROM marketplace_posting")[0][0]


def slots_off_their_postings() -> list:
    """Balance slots whose cached amount is not the sum of their postings."""
    return _rows(
        "SELECT b.account_id, b.slot, b.amount, coalesce(sum(p.amount), 0)"
        " FROM marketplace_balanceslot b LEFT JOIN marketplace_posting p"
        " ON p.account_id = b.account_id AND p.slot = b.slot"
        " GROUP BY b.id HAVING b.amount <> coalesce(sum(p.amount), 0)"
    ) + _rows(
        # A posting to a slot that has no balance row is off too.
        "SELECT p.account_id, p.slot, NULL, sum(p.amount) FROM marketplace_posting p"
        " LEFT JOIN marketplace_balanceslot b ON b.account_id = p.account_id AND b.slot = p.slot"
        " WHERE b.id IS NULL GROUP BY p.account_id, p.slot"
    )


def overdrawn_prepaid_accounts() -> list:
    """Prepaid accounts (holders' money) with a debit balance, in total or in a slot."""
    return _rows(
        "SELECT a.id, sum(b.amount) FROM marketplace_account a"
        " JOIN marketplace_balanceslot b ON b.account_id = a.id WHERE a.kind = 'prepaid'"
        " GROUP BY a.id HAVING sum(b.amount) > 0 OR max(b.amount) > 0"
    )


def assert_ledger_consistent() -> None:
    assert trial_balance() == 0
    assert unbalanced_entries() == []
    assert slots_off_their_postings() == []
    assert overdrawn_prepaid_accounts() == []
