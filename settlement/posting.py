"""Posting to the ledger: every movement of money on the platform goes through `post_entry`.

The rules, each kept here once:
- An entry's legs sum to zero (PostgreSQL checks it again at commit).
- Balance slots are locked in (account id, slot) order, checked, and changed in the same
  transaction as the postings, so balances and postings never disagree and two settlements
  never wait for each other in a cycle.
- Every entry carries an idempotency key: a retry with the same key and the same request gets
  the first entry back; with a different request it is refused (a conflict) and nothing is
  written.
- Entries are sealed into a hash chain after commit (`chain.seal_entries`), in the order they
  became visible, so settlements do not queue behind one chain head.
"""

import json
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from moneyed import Money

from accounts.choices import AuditAction
from accounts.models import User
from common.dates import business_today
from common.money import CENT

from .audit import audit_money_moved
from .chain import content_hash, sha256
from .choices import EntryKind
from .exceptions import (
    IdempotencyConflict,
    InsufficientBalance,
    NotReversible,
    TradeAlreadyReversed,
)
from .models import Account, Book, JournalEntry, Posting


@dataclass(frozen=True)
class AccountRef:
    """An account known by id and slot count only: what posting needs, without loading it."""

    pk: int
    slots: int


@dataclass(frozen=True)
class Leg:
    """One posting to be made: debit (positive) or credit (negative) of an account."""

    account: Account | AccountRef
    amount: Decimal


def request_hash(request: dict) -> str:
    """A stable hash of what a caller asked for, to tell a retry from a different request."""
    return sha256(json.dumps(request, sort_keys=True, default=str, separators=(",", ":")))


def post_entry(
    *,
    book: Book,
    kind: str,
    legs: Sequence[Leg],
    idempotency_key: str,
    request: dict,
    by: User | None = None,
    memo: str = "",
    reference: str = "",
    reverses: JournalEntry | None = None,
    business_date: date | None = None,
    savepoint: bool = True,
) -> tuple[JournalEntry, bool]:
    """Post a balanced entry and change the balances with it; return (entry, created).

    A retry with the same key and request returns the first entry and created=False. The
    same key with another request raises IdempotencyConflict. A prepaid account that would
    be overdrawn raises InsufficientBalance with its balance. Runs in its own savepoint, so a
    refusal leaves the caller's transaction as it was; a caller that owns the transaction
    may pass savepoint=False (two round trips fewer) and then hands an IntegrityError from
    its atomic block to `answer_for_refused_entry` itself.
    """
    # No look-up of the key first: the UNIQUE key catches a retry (the first entry is then
    # fetched), so the common case, a new entry, pays for no extra query.
    fingerprint = request_hash(request)
    _check_legs(legs)
    try:
        with transaction.atomic(savepoint=savepoint):
            entry, _row = _write_entry(
                book=book,
                kind=kind,
                legs=legs,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                by=by,
                memo=memo,
                reference=reference,
                reverses=reverses,
                business_date=business_date or business_today(),
            )
    except IntegrityError as error:
        if not savepoint:
            raise
        return answer_for_refused_entry(
            error, key=idempotency_key, request=request, legs=legs
        ), False
    return entry, True


@dataclass(frozen=True)
class EntryRow:
    """A row of the caller's that exists because of the entry (a counter trade), written by
    the entry's own statement: `values` by column, and `from_entry` the columns copied from
    the entry as written (`id` or `created_at`), e.g. {"entry_id": "id"}."""

    table: str
    values: dict[str, Any]
    from_entry: dict[str, str]


def post_entry_with_row(
    *,
    book: Book,
    kind: str,
    legs: Sequence[Leg],
    idempotency_key: str,
    request: dict,
    row: EntryRow,
    by: User | None = None,
    memo: str = "",
    business_date: date | None = None,
) -> tuple[JournalEntry, int]:
    """post_entry for a caller that owns the transaction (as with savepoint=False: an
    IntegrityError is the caller's to hand to `answer_for_refused_entry`) and writes a row
    with the entry: one round trip for both. Returns (entry, the row's id)."""
    if not connection.in_atomic_block:
        raise RuntimeError("post_entry_with_row runs inside the caller's transaction")
    _check_legs(legs)
    entry, row_id = _write_entry(
        book=book,
        kind=kind,
        legs=legs,
        idempotency_key=idempotency_key,
        fingerprint=request_hash(request),
        by=by,
        memo=memo,
        reference="",
        reverses=None,
        business_date=business_date or business_today(),
        row=row,
    )
    if row_id is None:  # the statement writes the row or fails
        raise ValueError(f"no row written in {row.table}")
    return entry, row_id


def answer_for_refused_entry(
    error: IntegrityError, *, key: str, request: dict, legs: Sequence[Leg]
) -> JournalEntry:
    """After the database refused an entry (its transaction rolled back): the first entry of
    a retry, IdempotencyConflict, InsufficientBalance, or the error itself."""
    constraint = violated_constraint(error)
    if constraint == "marketplace_journalentry_idempotency_key_key":
        # A retry, or the same key sent twice at once: the first entry is the answer.
        existing = find_entry(key, request)
        if existing is not None:
            return existing
    elif constraint == "ledger_prepaid_not_overdrawn":
        # A retry that waited behind its first request finds the card already spent by it:
        # the first entry is the answer, not a refusal.
        existing = find_entry(key, request)
        if existing is not None:
            return existing
        raise _overdraft(legs) from None
    raise error


def violated_constraint(error: IntegrityError) -> str:
    """The name of the constraint the database refused on: read from the error's fields, not
    its text, which quotes the ledger function's statement (and so every column name)."""
    diagnostics = getattr(error.__cause__, "diag", None)
    return (getattr(diagnostics, "constraint_name", None) or "") if diagnostics else ""


def find_entry(key: str, request: dict) -> JournalEntry | None:
    """The entry written for this key, if any; IdempotencyConflict if it was for another
    request."""
    # Every settlement asks this first, and almost always gets no row: one plain query.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, request_hash FROM marketplace_journalentry WHERE idempotency_key = %s",
            [key],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    if row[1] != request_hash(request):
        raise IdempotencyConflict()
    return JournalEntry.objects.get(pk=row[0])


def _check_legs(legs: Sequence[Leg]) -> None:
    if len(legs) < 2 or sum(leg.amount for leg in legs) != 0:
        raise ValueError(f"an entry needs at least two legs summing to zero, got {legs!r}")
    for leg in legs:
        if leg.amount == 0 or leg.amount != leg.amount.quantize(CENT):
            raise ValueError(f"a leg must be a non-zero amount in cents, got {leg.amount!r}")


def _overdraft(legs: Sequence[Leg]) -> InsufficientBalance:
    """The refusal for the prepaid slot these legs would overdraw, with its balance."""
    with connection.cursor() as cursor:
        for leg in legs:
            if leg.amount <= 0:
                continue
            cursor.execute(
                "SELECT sum(amount), bool_or(no_overdraft) FROM marketplace_balanceslot"
                " WHERE account_id = %s",
                [leg.account.pk],
            )
            amount, no_overdraft = cursor.fetchone()
            if no_overdraft and amount + leg.amount > 0:
                return InsufficientBalance(
                    balance=Money(-amount, "CNY"), needed=Money(leg.amount, "CNY")
                )
    return InsufficientBalance(balance=Money(0, "CNY"), needed=Money(0, "CNY"))


def _pick_slot(account: Account | AccountRef) -> int:
    return 0 if account.slots == 1 else random.randrange(account.slots)


def _write_entry(
    *,
    book: Book,
    kind: str,
    legs: Sequence[Leg],
    idempotency_key: str,
    fingerprint: str,
    by: User | None,
    memo: str,
    reference: str,
    reverses: JournalEntry | None,
    business_date: date,
    row: EntryRow | None = None,
) -> tuple[JournalEntry, int | None]:
    """Apply the legs to their balance slots and write the entry with its postings (and the
    caller's row), in one statement: every settlement's hot path, so one round trip."""
    postings = [(leg.account.pk, _pick_slot(leg.account), leg.amount) for leg in legs]
    deltas: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for account_id, slot, amount in postings:
        deltas[account_id, slot] += amount
    entry = JournalEntry(
        book=book,
        kind=kind,
        memo=memo[:200],
        business_date=business_date,
        created_at=timezone.now(),
        created_by=by,
        reference=reference,
        reverses=reverses,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
    )
    entry.content_hash = content_hash(entry, postings)
    with connection.cursor() as cursor:
        cursor.execute(
            _post_entry_sql(row),
            {
                **({f"row_{column}": value for column, value in row.values.items()} if row else {}),
                "slot_accounts": [account_id for account_id, _ in deltas],
                "slot_numbers": [slot for _, slot in deltas],
                "slot_deltas": list(deltas.values()),
                "book": book.pk,
                "kind": entry.kind,
                "memo": entry.memo,
                "business_date": entry.business_date,
                "created_at": entry.created_at,
                "created_by": by.pk if by else None,
                "reference": entry.reference,
                "reverses": reverses.pk if reverses else None,
                "key": entry.idempotency_key,
                "request_hash": entry.request_hash,
                "content_hash": entry.content_hash,
                "accounts": [account_id for account_id, _, _ in postings],
                "slots": [slot for _, slot, _ in postings],
                "amounts": [amount for _, _, amount in postings],
            },
        )
        entry.pk, applied, row_id = cursor.fetchone()
    if applied != len(deltas):
        raise ValueError(f"balance slots missing among {sorted(deltas)}")
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry, row_id


# The entry's statement: the ledger's function (settlement migration 0003: locks the slots in
# (account, slot) order, changes them, writes the entry and its postings), and the caller's
# row, if any, naming the entry.
_POST_ENTRY = """
WITH entry AS MATERIALIZED (
    SELECT o_entry AS id, o_applied AS applied, %(created_at)s::timestamptz AS created_at
      FROM ledger_post_entry(
        %(slot_accounts)s::bigint[], %(slot_numbers)s::int[], %(slot_deltas)s::numeric[],
        %(book)s, %(kind)s, %(memo)s, %(business_date)s, %(created_at)s, %(created_by)s,
        %(reference)s, %(reverses)s, %(key)s, %(request_hash)s, %(content_hash)s,
        %(accounts)s::bigint[], %(slots)s::int[], %(amounts)s::numeric[])
){row}
SELECT id, applied, {row_id} FROM entry
"""
_ROW = """, attached AS (
    INSERT INTO {table} ({columns}) SELECT {values} FROM entry RETURNING id
)"""
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_ENTRY_COLUMNS = {"id", "created_at"}


@cache
def _entry_sql(table: str | None, columns: tuple[str, ...], from_entry: tuple) -> str:
    if table is None:
        return _POST_ENTRY.format(row="", row_id="NULL")
    names = [table, *columns, *(column for column, _ in from_entry)]
    if not all(_IDENTIFIER.fullmatch(name) for name in names) or not all(
        source in _ENTRY_COLUMNS for _, source in from_entry
    ):
        raise ValueError(f"not a row the entry's statement writes: {names} {from_entry}")
    row = _ROW.format(
        table=table,
        columns=", ".join([*columns, *(column for column, _ in from_entry)]),
        values=", ".join(
            [*(f"%(row_{column})s" for column in columns), *(f"entry.{s}" for _, s in from_entry)]
        ),
    )
    return _POST_ENTRY.format(row=row, row_id="(SELECT id FROM attached)")


def _post_entry_sql(row: EntryRow | None) -> str:
    if row is None:
        return _entry_sql(None, (), ())
    return _entry_sql(row.table, tuple(row.values), tuple(row.from_entry.items()))


def reverse_entry(
    *,
    entry: JournalEntry,
    by: User,
    reason: str,
    idempotency_key: str,
    address: str | None = None,
) -> JournalEntry:
    """A new entry with every posting of `entry` negated, in the same slots' accounts.

    Nothing is deleted. The caller checks who may reverse what. An entry is reversed once
    (TradeAlreadyReversed; the database's one-to-one `reverses` settles a race), and a
    reversal itself is never reversed (the mistake it undid is recorded again instead).
    Audited once (by `by`, from `address`), with the amount and the account it credits back.
    """
    if entry.kind == EntryKind.REVERSAL:
        raise NotReversible()
    request = {"reverses": entry.pk, "reason": reason}
    retried = find_entry(idempotency_key, request)
    if retried is not None:
        return retried
    if JournalEntry.objects.filter(reverses=entry).exists():
        raise TradeAlreadyReversed()
    postings = list(entry.postings.select_related("account").order_by("id"))
    legs = [Leg(posting.account, -posting.amount.amount) for posting in postings]
    try:
        reversal, created = post_entry(
            book=entry.book,
            kind=EntryKind.REVERSAL,
            legs=legs,
            idempotency_key=idempotency_key,
            request=request,
            by=by,
            memo=reason,
            reference=entry.reference,
            reverses=entry,
        )
    except IntegrityError as error:
        # Another reversal of the entry, under another key, committed while this one waited.
        if violated_constraint(error) != "marketplace_journalentry_reverses_id_key":
            raise
        raise TradeAlreadyReversed() from None
    if created:
        _audit_reversal(reversal=reversal, undone=postings, by=by, address=address, reverses=entry)
    return reversal


def _audit_reversal(
    *,
    reversal: JournalEntry,
    undone: list[Posting],
    by: User,
    address: str | None,
    reverses: JournalEntry,
) -> None:
    # The account the reversal pays back (the one the entry debited most: a buyer's card)
    # is the one it concerns; the reason stays on the entry: free text may name a person.
    paid_back = max(undone, key=lambda posting: (posting.amount.amount, -posting.account_id))
    audit_money_moved(
        action=AuditAction.REVERSAL,
        entry=reversal,
        account=paid_back.account,
        amount=sum(
            (posting.amount.amount for posting in undone if posting.amount.amount > 0),
            Decimal(0),
        ),
        by=by,
        address=address,
        reverses=reverses.pk,
    )
