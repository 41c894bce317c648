"""Verification of the ledger: is it still what was written? Reads only.

`verify_ledger()` recomputes every entry's content hash and the sealed hash chain, checks each
entry balances and each cached balance slot equals the sum of its postings; it returns the
chain head so it can be published (a head written down elsewhere makes even a rewrite of the
whole chain detectable). It returns findings, never raises for what it finds, and streams or
aggregates in SQL so it stays fast on a large ledger.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from typing import cast

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .chain import GENESIS_HASH, chain_hash, content_hash
from .choices import AccountKind, HoldStatus
from .findings import (
    CHECK_BALANCES,
    CHECK_CHAIN,
    CHECK_CONTENT,
    CHECK_ENTRIES,
    CHECK_HOLDS,
    INFO,
    MAX_IDS,
    Finding,
    cents,
    failed_checks,
    finding,
    read_only_snapshot,
)
from .models import JournalEntry, Posting

CHUNK = 2_000  # rows fetched per round trip while streaming
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ChainHead:
    """The last sealed link: publish it, and a later rewrite of the chain cannot match it."""

    seal_seq: int
    chain_hash: str


@dataclass(frozen=True)
class BalanceFigures:
    """Cached balance slots against the sum of their postings (debit-positive)."""

    slots: int
    cached: Decimal
    posted: Decimal
    mismatched: int


@dataclass(frozen=True)
class LedgerVerification:
    entries: int
    sealed: int
    unsealed: int
    head: ChainHead
    balances: BalanceFigures
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(finding.is_error for finding in self.findings)

    def passed(self, check: str) -> bool:
        return check not in failed_checks(self.findings)


def verify_ledger() -> LedgerVerification:
    """Recompute what the ledger can prove about itself and report every mismatch.

    - each entry's content hash, from its stored fields and postings;
    - the chain of sealed entries in seal order, from GENESIS_HASH: no gap in the seal
      numbers, each chain hash following from the one before (the first broken link is
      reported; it and everything sealed after it cannot be trusted);
    - each entry's postings sum to zero, with at least two of them;
    - each balance slot equals the sum of its postings;
    - each held-funds account holds exactly the sum of its open payment holds.
    Unsealed entries are counted (information: the next sealing run chains them).
    """
    findings: list[Finding] = []
    with read_only_snapshot():
        entries = _verify_entries(findings)
        sealed, head = _verify_chain(findings)
        unsealed = _count_unsealed(findings)
        balances = verify_balance_slots(findings)
        _verify_holds(findings)
    return LedgerVerification(
        entries=entries,
        sealed=sealed,
        unsealed=unsealed,
        head=head,
        balances=balances,
        findings=findings,
    )


ENTRY_FIELDS = (
    "id",
    "book_id",
    "kind",
    "memo",
    "business_date",
    "created_at",
    "created_by_id",
    "reference",
    "reverses_id",
    "idempotency_key",
    "request_hash",
    "content_hash",
)


def _postings_by_entry() -> Iterator[tuple[int, list[tuple[int, int, Decimal]]]]:
    rows = (
        Posting.objects.order_by("entry_id", "id")
        .values_list("entry_id", "account_id", "slot", "amount")
        .iterator(chunk_size=CHUNK)
    )
    for entry_id, group in groupby(rows, key=lambda row: row[0]):
        yield entry_id, [(account_id, slot, amount) for _, account_id, slot, amount in group]


def _verify_entries(findings: list[Finding]) -> int:
    """Stream entries and their postings side by side (both in entry id order)."""
    entries = (
        JournalEntry.objects.order_by("id")
        .values_list(*ENTRY_FIELDS, named=True)
        .iterator(chunk_size=CHUNK)
    )
    postings = _postings_by_entry()
    pending = next(postings, None)
    changed: list[int] = []
    unbalanced: list[int] = []
    count = 0
    for entry in entries:
        count += 1
        while pending is not None and pending[0] < entry.id:
            pending = next(postings, None)
        legs = pending[1] if pending is not None and pending[0] == entry.id else []
        if content_hash(entry, legs) != entry.content_hash:
            changed.append(entry.id)
        if len(legs) < 2 or sum((amount for _, _, amount in legs), ZERO) != 0:
            unbalanced.append(entry.id)
    if changed:
        findings.append(
            finding(
                "content_mismatch",
                CHECK_CONTENT,
                ngettext(
                    "Entry #%(first)d no longer matches its content hash: its fields or "
                    "postings were changed after it was written.",
                    "%(count)d entries no longer match their content hash: their fields or "
                    "postings were changed after they were written (first: entry #%(first)d).",
                    len(changed),
                )
                % {"count": len(changed), "first": changed[0]},
                changed,
            )
        )
    if unbalanced:
        findings.append(
            finding(
                "entry_unbalanced",
                CHECK_ENTRIES,
                ngettext(
                    "Entry #%(first)d does not balance: its postings do not sum to zero or "
                    "it has fewer than two.",
                    "%(count)d entries do not balance: their postings do not sum to zero or "
                    "they have fewer than two (first: entry #%(first)d).",
                    len(unbalanced),
                )
                % {"count": len(unbalanced), "first": unbalanced[0]},
                unbalanced,
            )
        )
    return count


def _verify_chain(findings: list[Finding]) -> tuple[int, ChainHead]:
    """Walk the sealed entries by seal number. Each link is checked against the stored hash
    before it, so the first broken link is found exactly and later independent breaks too."""
    # Only sealed entries: their seal number is never None here.
    links = cast(
        Iterator[tuple[int, int, str, str]],
        JournalEntry.objects.filter(seal_seq__isnull=False)
        .order_by("seal_seq")
        .values_list("id", "seal_seq", "content_hash", "chain_hash")
        .iterator(chunk_size=CHUNK),
    )
    previous, expected = GENESIS_HASH, 1
    gaps: list[tuple[int, int, int]] = []  # (entry id, first missing seq, last missing seq)
    broken: list[int] = []
    broken_at_seq: int | None = None
    sealed = after_break = 0
    head = ChainHead(seal_seq=0, chain_hash=GENESIS_HASH)
    for entry_id, seq, entry_hash, stored in links:
        sealed += 1
        if seq != expected:
            gaps.append((entry_id, expected, seq - 1))
        if chain_hash(previous, seq, entry_hash) != stored:
            broken.append(entry_id)
            if broken_at_seq is None:
                broken_at_seq = seq
        if broken_at_seq is not None and seq > broken_at_seq:
            after_break += 1
        previous, expected = stored, seq + 1
        head = ChainHead(seal_seq=seq, chain_hash=stored)
    if gaps:
        entry_id, first, last = gaps[0]
        findings.append(
            finding(
                "seal_gap",
                CHECK_CHAIN,
                _(
                    "Seal numbers %(first)d to %(last)d are missing before entry #%(entry)d "
                    "(gaps in all: %(count)d)."
                )
                % {"first": first, "last": last, "entry": entry_id, "count": len(gaps)},
                [gap[0] for gap in gaps],
            )
        )
    if broken:
        findings.append(
            finding(
                "chain_mismatch",
                CHECK_CHAIN,
                _(
                    "The hash chain breaks at entry #%(entry)d (seal %(seq)d): its chain hash "
                    "does not follow from the link before it. It and the entries sealed after "
                    "it (%(after)d) cannot be trusted (broken links in all: %(count)d)."
                )
                % {
                    "entry": broken[0],
                    "seq": broken_at_seq,
                    "after": after_break,
                    "count": len(broken),
                },
                broken,
            )
        )
    return sealed, head


def _count_unsealed(findings: list[Finding]) -> int:
    unsealed = JournalEntry.objects.filter(seal_seq__isnull=True)
    count = unsealed.count()
    if count:
        findings.append(
            finding(
                "unsealed",
                CHECK_CHAIN,
                ngettext(
                    "%(count)d entry is not sealed yet (the next sealing run chains it).",
                    "%(count)d entries are not sealed yet (the next sealing run chains them).",
                    count,
                )
                % {"count": count},
                unsealed.order_by("id").values_list("id", flat=True)[:MAX_IDS],
                severity=INFO,
            )
        )
    return count


def verify_balance_slots(
    findings: list[Finding], book_ids: list[int] | None = None
) -> BalanceFigures:
    """Add a finding when balance slots differ from their postings; return the figures."""
    figures, rows = balance_slots_against_postings(book_ids=book_ids)
    if rows:
        account_id, slot, cached, posted = rows[0]
        findings.append(
            finding(
                "balance_mismatch",
                CHECK_BALANCES,
                ngettext(
                    "A balance slot differs from the sum of its postings: account "
                    "#%(account)d slot %(slot)d holds %(cached)s, its postings sum to "
                    "%(posted)s.",
                    "%(count)d balance slots differ from the sum of their postings (first: "
                    "account #%(account)d slot %(slot)d holds %(cached)s, its postings sum "
                    "to %(posted)s).",
                    len(rows),
                )
                % {
                    "count": len(rows),
                    "account": account_id,
                    "slot": slot,
                    "cached": "—" if cached is None else cached,
                    "posted": posted,
                },
                sorted({row[0] for row in rows}),
            )
        )
    return figures


def _verify_holds(findings: list[Finding]) -> None:
    """Every held-funds account against its holders' open holds, and every open hold's
    money in the held-funds account of its own wallet's holder."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH held AS (
                SELECT a.id, -coalesce(sum(b.amount), 0) AS balance
                  FROM marketplace_account a
                  LEFT JOIN marketplace_balanceslot b ON b.account_id = a.id
                 WHERE a.kind = %(held)s
                 GROUP BY a.id
            ), open_holds AS (
                SELECT held_account_id AS id, sum(amount) AS total
                  FROM marketplace_paymenthold WHERE status = %(open)s
                 GROUP BY held_account_id
            )
            SELECT id, coalesce(held.balance, 0), coalesce(open_holds.total, 0)
              FROM held FULL JOIN open_holds USING (id)
             WHERE coalesce(held.balance, 0) <> coalesce(open_holds.total, 0)
             ORDER BY id
            """,
            {"held": AccountKind.HELD.value, "open": HoldStatus.HELD.value},
        )
        mismatched = cursor.fetchall()
        cursor.execute(
            """
            SELECT h.id FROM marketplace_paymenthold h
              JOIN marketplace_account w ON w.id = h.wallet_id
              JOIN marketplace_account a ON a.id = h.held_account_id
             WHERE a.kind <> %(held)s OR w.kind <> %(prepaid)s OR a.user_id <> w.user_id
                OR a.book_id <> w.book_id
             ORDER BY h.id
            """,
            {"held": AccountKind.HELD.value, "prepaid": AccountKind.PREPAID.value},
        )
        misfiled = [row[0] for row in cursor.fetchall()]
    if mismatched:
        account_id, balance, held = mismatched[0]
        findings.append(
            finding(
                "held_funds_mismatch",
                CHECK_HOLDS,
                ngettext(
                    "Held funds account #%(account)d holds %(balance)s, its open payment "
                    "holds come to %(held)s.",
                    "%(count)d held funds accounts differ from their open payment holds "
                    "(first: account #%(account)d holds %(balance)s, its open holds come to "
                    "%(held)s).",
                    len(mismatched),
                )
                % {
                    "count": len(mismatched),
                    "account": account_id,
                    "balance": cents(balance),
                    "held": cents(held),
                },
                [row[0] for row in mismatched],
            )
        )
    if misfiled:
        findings.append(
            finding(
                "hold_misfiled",
                CHECK_HOLDS,
                ngettext(
                    "Payment hold #%(first)d is not between a wallet and the held funds of "
                    "the same holder.",
                    "%(count)d payment holds are not between a wallet and the held funds of "
                    "the same holder (first: hold #%(first)d).",
                    len(misfiled),
                )
                % {"count": len(misfiled), "first": misfiled[0]},
                misfiled,
            )
        )


def balance_slots_against_postings(
    *, book_ids: list[int] | None = None
) -> tuple[BalanceFigures, list[tuple[int, int, Decimal | None, Decimal]]]:
    """Every balance slot against the sum of its postings, in one GROUP BY query.

    Returns the figures and the mismatched (account, slot, cached, posted) rows; a slot with
    postings but no balance row has cached None.
    """
    in_books = "account_id IN (SELECT id FROM marketplace_account WHERE book_id = ANY(%s))"
    where = f"WHERE {in_books}" if book_ids is not None else ""
    params = [book_ids, book_ids] if book_ids is not None else []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH posted AS (
                SELECT account_id, slot, sum(amount) AS total
                  FROM marketplace_posting {where}
                 GROUP BY account_id, slot
            ), cached AS (
                SELECT account_id, slot, amount FROM marketplace_balanceslot {where}
            ), joined AS (
                SELECT account_id, slot, cached.amount AS cached,
                       coalesce(posted.total, 0) AS posted
                  FROM cached FULL JOIN posted USING (account_id, slot)
            )
            SELECT count(cached), coalesce(sum(cached), 0), coalesce(sum(posted), 0),
                   array_agg(ARRAY[account_id, slot] ORDER BY account_id, slot)
                       FILTER (WHERE cached IS DISTINCT FROM posted),
                   array_agg(cached ORDER BY account_id, slot)
                       FILTER (WHERE cached IS DISTINCT FROM posted),
                   array_agg(posted ORDER BY account_id, slot)
                       FILTER (WHERE cached IS DISTINCT FROM posted)
              FROM joined
            """,
            params,
        )
        slots, cached, posted, keys, cached_list, posted_list = cursor.fetchone()
    rows = [
        (key[0], key[1], cached_value, posted_value)
        for key, cached_value, posted_value in zip(
            keys or [], cached_list or [], posted_list or [], strict=True
        )
    ]
    figures = BalanceFigures(
        slots=slots, cached=cents(cached), posted=cents(posted), mismatched=len(rows)
    )
    return figures, rows
