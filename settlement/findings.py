"""What the ledger's checks report: findings, one per kind of mismatch, grouped by check.

`verification.verify_ledger` and the markets' reconciliation both return findings and never
raise for what they find.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

from common.money import CENT

MAX_IDS = 50  # ids kept in one finding; its message gives the full count

ERROR = "error"
INFO = "info"

# What each finding is about: the page shows one ✓/✗ per check.
CHECK_CONTENT = "content"
CHECK_CHAIN = "chain"
CHECK_ENTRIES = "entries"
CHECK_BALANCES = "balances"
CHECK_TRIAL_BALANCE = "trial_balance"
CHECK_HOLDS = "holds"


@dataclass(frozen=True)
class Finding:
    """One thing a check found: a code for programs, a translated message for people, and the
    ids it is about (entries, accounts, trades or books, as the code says)."""

    code: str
    check: str
    message: str
    ids: tuple[int, ...] = ()
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def finding(
    code: str, check: str, message: str, ids: Iterable[int] = (), severity: str = ERROR
) -> Finding:
    return Finding(
        code=code, check=check, message=message, ids=tuple(ids)[:MAX_IDS], severity=severity
    )


def cents(value: Decimal | int) -> Decimal:
    """An amount summed by PostgreSQL (a bare 0 when there was nothing to sum) in cents."""
    return Decimal(value).quantize(CENT)


def failed_checks(findings: list[Finding]) -> set[str]:
    return {each.check for each in findings if each.is_error}


@contextmanager
def read_only_snapshot() -> Iterator[None]:
    """One consistent, read-only view of the ledger for all the checks' queries, so entries
    committed while they run are either wholly seen or not at all. Inside a caller's
    transaction the caller's view is used."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
