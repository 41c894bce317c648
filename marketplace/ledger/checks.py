"""Checks of the ledger: is it still what was written, and does it add up. Reads only.

`verify_ledger()` recomputes every entry's content hash and the sealed hash chain, checks each
entry balances and each cached balance slot equals the sum of its postings; it returns the
chain head so it can be published (a head written down elsewhere makes even a rewrite of the
whole chain detectable). `reconcile()` is the accountant's view of a book and a business day:
the trial balance, balances against postings, and the day's trades against the day's
settlement entries. Both return findings, never raise for what they find, and stream or
aggregate in SQL so they stay fast on a large ledger.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import groupby

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from common.dates import business_today
from common.money import CENT

from ..markets.models import Market
from .choices import AccountKind, EntryKind, HoldStatus
from .models import Book, JournalEntry, Posting
from .services import GENESIS_HASH, chain_hash, content_hash

CHUNK = 2_000  # rows fetched per round trip while streaming
MAX_IDS = 50  # ids kept in one finding; its message gives the full count
ZERO = Decimal("0.00")

ERROR = "error"
INFO = "info"

# What each finding is about: the page shows one ✓/✗ per check.
CHECK_CONTENT = "content"
CHECK_CHAIN = "chain"
CHECK_ENTRIES = "entries"
CHECK_BALANCES = "balances"
CHECK_TRIAL_BALANCE = "trial_balance"
CHECK_TRADES = "trades"
CHECK_REVERSALS = "reversals"
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


def _finding(code: str, check: str, message: str, ids=(), severity: str = ERROR) -> Finding:
    return Finding(
        code=code, check=check, message=message, ids=tuple(ids)[:MAX_IDS], severity=severity
    )


def _cents(value) -> Decimal:
    """An amount summed by PostgreSQL (a bare 0 when there was nothing to sum) in cents."""
    return Decimal(value).quantize(CENT)


def _failed_checks(findings: list[Finding]) -> set[str]:
    return {finding.check for finding in findings if finding.is_error}


# --- Verification: hashes, chain, entries, balances ----------------------------------------


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
        return check not in _failed_checks(self.findings)


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
    with _snapshot():
        entries = _verify_entries(findings)
        sealed, head = _verify_chain(findings)
        unsealed = _count_unsealed(findings)
        balances = _verify_balance_slots(findings)
        _verify_holds(findings)
    return LedgerVerification(
        entries=entries,
        sealed=sealed,
        unsealed=unsealed,
        head=head,
        balances=balances,
        findings=findings,
    )


@contextmanager
def _snapshot() -> Iterator[None]:
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
            _finding(
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
            _finding(
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
    links = (
        JournalEntry.objects.filter(seal_seq__isnull=False)
        .order_by("seal_seq")
        .values_list("id", "seal_seq", "content_hash", "chain_hash")
        .iterator(chunk_size=CHUNK)
    )
    previous, expected = GENESIS_HASH, 1
    gaps: list[tuple[int, int, int]] = []  # (entry id, first missing seq, last missing seq)
    broken: list[int] = []
    broken_at_seq = None
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
            _finding(
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
            _finding(
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
            _finding(
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


def _verify_balance_slots(findings: list[Finding], book_ids: list[int] | None = None):
    figures, rows = balance_slots_against_postings(book_ids=book_ids)
    if rows:
        account_id, slot, cached, posted = rows[0]
        findings.append(
            _finding(
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
            _finding(
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
                    "balance": _cents(balance),
                    "held": _cents(held),
                },
                [row[0] for row in mismatched],
            )
        )
    if misfiled:
        findings.append(
            _finding(
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
        slots=slots, cached=_cents(cached), posted=_cents(posted), mismatched=len(rows)
    )
    return figures, rows


# --- Reconciliation: trial balance, balances, the day's trades -----------------------------


@dataclass(frozen=True)
class AccountKindTotal:
    """A line of a book's trial balance: the postings to its accounts of one kind."""

    kind: str
    label: str
    debits: Decimal
    credits: Decimal

    @property
    def balance(self) -> Decimal:
        """Debit-positive: a credit-normal kind (what the book owes) shows negative."""
        return self.debits - self.credits


@dataclass(frozen=True)
class EntryKindTotal:
    """The day's entries of one kind in a book: how many, and the money they moved."""

    kind: str
    label: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class BookFigures:
    book_id: int
    code: str
    name: str
    lines: list[AccountKindTotal]
    movements: list[EntryKindTotal]

    @property
    def debits(self) -> Decimal:
        return sum((line.debits for line in self.lines), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((line.credits for line in self.lines), ZERO)

    @property
    def balanced(self) -> bool:
        return self.debits == self.credits


@dataclass(frozen=True)
class Comparison:
    """A figure as the trades have it and as the ledger's entries have it."""

    trades: Decimal | int
    entries: Decimal | int

    @property
    def matches(self) -> bool:
        return self.trades == self.entries


@dataclass(frozen=True)
class DayFigures:
    """A market's business day: its trades against its settlement entries."""

    market_id: int
    market_code: str
    market_name: str
    count: Comparison  # trades against TRADE entries
    buyers_paid: Comparison  # amount + buyer commission against the buyers' debits
    sellers_owed: Comparison  # amount - seller commission against the sellers' credits
    commission: Comparison  # both commissions against the commission account's credits
    reversals: Comparison  # trades reversed this day against REVERSAL entries of trades
    trades_ok: bool  # the figures match and every trade matches its own entry
    reversals_ok: bool  # and every reversal undoes its own trade's entry exactly


@dataclass(frozen=True)
class Reconciliation:
    business_date: date
    books: list[BookFigures]
    balances: BalanceFigures
    days: list[DayFigures]
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(finding.is_error for finding in self.findings)

    def passed(self, check: str) -> bool:
        return check not in _failed_checks(self.findings)


def reconcile(*, market: Market | None = None, business_date: date | None = None) -> Reconciliation:
    """The trial balance of each book (of the market's book only, given a market) up to the
    end of the business day, its balance slots against its postings, and for each market
    (or the one given) the day's trades against the day's settlement entries.

    The business day is today in Asia/Shanghai unless given.
    """
    day = business_date or business_today()
    findings: list[Finding] = []
    with _snapshot():
        books = list(Book.objects.filter(pk=market.book_id) if market else Book.objects.all())
        book_ids = [book.pk for book in books]
        figures = _book_figures(books, day)
        findings.extend(
            _finding(
                "trial_balance",
                CHECK_TRIAL_BALANCE,
                _(
                    "The trial balance of %(book)s does not balance: debits %(debits)s, "
                    "credits %(credits)s."
                )
                % {"book": book.name, "debits": book.debits, "credits": book.credits},
                [book.book_id],
            )
            for book in figures
            if not book.balanced
        )
        balances = _verify_balance_slots(findings, book_ids=book_ids)
        markets = [market] if market else list(Market.objects.order_by("code"))
        days = [_day_figures(each, day, findings) for each in markets]
    return Reconciliation(
        business_date=day, books=figures, balances=balances, days=days, findings=findings
    )


def _book_figures(books: list[Book], day: date) -> list[BookFigures]:
    book_ids = [book.pk for book in books]
    with connection.cursor() as cursor:
        # Grouped by the accounts' book: a posting to another book's account shows as an
        # imbalance in both.
        cursor.execute(
            """
            SELECT a.book_id, a.kind,
                   coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0),
                   coalesce(-sum(p.amount) FILTER (WHERE p.amount < 0), 0)
              FROM marketplace_posting p
              JOIN marketplace_account a ON a.id = p.account_id
              JOIN marketplace_journalentry e ON e.id = p.entry_id
             WHERE a.book_id = ANY(%s) AND e.business_date <= %s
             GROUP BY a.book_id, a.kind
            """,
            [book_ids, day],
        )
        lines = cursor.fetchall()
        cursor.execute(
            """
            SELECT e.book_id, e.kind, count(DISTINCT e.id),
                   coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0)
              FROM marketplace_journalentry e
              JOIN marketplace_posting p ON p.entry_id = e.id
             WHERE e.book_id = ANY(%s) AND e.business_date = %s
             GROUP BY e.book_id, e.kind
            """,
            [book_ids, day],
        )
        movements = cursor.fetchall()
    account_order = list(AccountKind.values)
    entry_order = list(EntryKind.values)
    result = []
    for book in books:
        book_lines = sorted(
            (
                AccountKindTotal(
                    kind=kind,
                    label=_label(AccountKind, kind),
                    debits=_cents(debits),
                    credits=_cents(credits),
                )
                for book_id, kind, debits, credits in lines
                if book_id == book.pk
            ),
            key=lambda line: _position(account_order, line.kind),
        )
        book_movements = sorted(
            (
                EntryKindTotal(
                    kind=kind, label=_label(EntryKind, kind), count=count, amount=_cents(amount)
                )
                for book_id, kind, count, amount in movements
                if book_id == book.pk
            ),
            key=lambda movement: _position(entry_order, movement.kind),
        )
        result.append(
            BookFigures(
                book_id=book.pk,
                code=book.code,
                name=book.name,
                lines=book_lines,
                movements=book_movements,
            )
        )
    return result


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _position(order: list[str], value: str) -> int:
    return order.index(value) if value in order else len(order)


def _day_figures(market: Market, day: date, findings: list[Finding]) -> DayFigures:
    params = {
        "market": market.pk,
        "book": market.book_id,
        "day": day,
        "trade": EntryKind.TRADE.value,
        "reversal": EntryKind.REVERSAL.value,
        "prepaid": AccountKind.PREPAID.value,
        "payable": AccountKind.PAYABLE.value,
        "commission": AccountKind.COMMISSION.value,
    }
    with connection.cursor() as cursor:
        # The trades' side, each trade against its own entry: the entry must be a TRADE entry
        # of the market's book on the trade's day, debit the buyer what she pays and credit
        # the seller and the commission account what they get.
        cursor.execute(
            """
            WITH each_trade AS (
                SELECT t.id,
                       t.amount + t.buyer_fee AS pays,
                       t.amount - t.seller_fee AS owed,
                       t.buyer_fee + t.seller_fee AS fees,
                       (e.book_id = %(book)s AND e.kind = %(trade)s
                        AND e.business_date = t.business_date) AS entry_fits,
                       coalesce(sum(p.amount) FILTER (
                           WHERE a.trader_id = t.buyer_id AND a.kind = %(prepaid)s), 0) AS paid,
                       coalesce(-sum(p.amount) FILTER (
                           WHERE a.trader_id = t.seller_id AND a.kind = %(payable)s), 0)
                           AS credited,
                       coalesce(-sum(p.amount) FILTER (
                           WHERE a.book_id = %(book)s AND a.trader_id IS NULL
                             AND a.user_id IS NULL AND a.kind = %(commission)s), 0) AS earned
                  FROM marketplace_trade t
                  JOIN marketplace_journalentry e ON e.id = t.entry_id
                  LEFT JOIN marketplace_posting p ON p.entry_id = t.entry_id
                  LEFT JOIN marketplace_account a ON a.id = p.account_id
                 WHERE t.market_id = %(market)s AND t.business_date = %(day)s
                 GROUP BY t.id, e.id
            )
            SELECT count(*), coalesce(sum(pays), 0), coalesce(sum(owed), 0),
                   coalesce(sum(fees), 0),
                   array_agg(id ORDER BY id) FILTER (
                       WHERE NOT entry_fits OR pays <> paid OR owed <> credited OR fees <> earned)
              FROM each_trade
            """,
            params,
        )
        trades, pays, owed, fees, unfit_trades = cursor.fetchone()
        pays, owed, fees = _cents(pays), _cents(owed), _cents(fees)
        # The entries' side: the day's TRADE entries of the market's book, each belonging to
        # a trade of this market and day.
        cursor.execute(
            """
            WITH each_entry AS (
                SELECT e.id,
                       bool_or(t.id IS NOT NULL AND t.market_id = %(market)s
                               AND t.business_date = e.business_date) AS has_trade,
                       coalesce(sum(p.amount) FILTER (WHERE a.kind = %(prepaid)s), 0) AS paid,
                       coalesce(-sum(p.amount) FILTER (WHERE a.kind = %(payable)s), 0)
                           AS credited,
                       coalesce(-sum(p.amount) FILTER (WHERE a.kind = %(commission)s), 0)
                           AS earned
                  FROM marketplace_journalentry e
                  LEFT JOIN marketplace_trade t ON t.entry_id = e.id
                  LEFT JOIN marketplace_posting p ON p.entry_id = e.id
                  LEFT JOIN marketplace_account a ON a.id = p.account_id
                 WHERE e.book_id = %(book)s AND e.kind = %(trade)s AND e.business_date = %(day)s
                 GROUP BY e.id
            )
            SELECT count(*), coalesce(sum(paid), 0), coalesce(sum(credited), 0),
                   coalesce(sum(earned), 0),
                   array_agg(id ORDER BY id) FILTER (WHERE NOT has_trade)
              FROM each_entry
            """,
            params,
        )
        entries, paid, credited, earned, orphan_entries = cursor.fetchone()
        paid, credited, earned = _cents(paid), _cents(credited), _cents(earned)
        # Reversals recorded this day: trades marked reversed by an entry of this day, against
        # the REVERSAL entries of this day that undo a TRADE entry.
        cursor.execute(
            """
            SELECT
              (SELECT count(*) FROM marketplace_trade t JOIN marketplace_journalentry r ON r.id = t.reversal_id
                WHERE t.market_id = %(market)s AND r.business_date = %(day)s),
              (SELECT count(*) FROM marketplace_journalentry r JOIN marketplace_journalentry o ON o.id = r.reverses_id
                WHERE r.book_id = %(book)s AND r.kind = %(reversal)s
                  AND r.business_date = %(day)s AND o.kind = %(trade)s)
            """,
            params,
        )
        reversed_trades, reversal_entries = cursor.fetchone()
        # A reversed trade (of this day, or reversed this day) whose reversal is not a
        # REVERSAL of its own entry in the market's book.
        cursor.execute(
            """
            SELECT t.id FROM marketplace_trade t JOIN marketplace_journalentry r ON r.id = t.reversal_id
             WHERE t.market_id = %(market)s
               AND (t.business_date = %(day)s OR r.business_date = %(day)s)
               AND (r.kind <> %(reversal)s OR r.reverses_id IS DISTINCT FROM t.entry_id
                    OR r.book_id <> %(book)s)
             ORDER BY t.id
            """,
            params,
        )
        wrong_reversals = [row[0] for row in cursor.fetchall()]
        # A REVERSAL entry of this day undoing a trade's entry, which no trade records.
        cursor.execute(
            """
            SELECT r.id FROM marketplace_journalentry r
              JOIN marketplace_journalentry o ON o.id = r.reverses_id
              LEFT JOIN marketplace_trade t ON t.reversal_id = r.id
             WHERE r.book_id = %(book)s AND r.kind = %(reversal)s
               AND r.business_date = %(day)s AND o.kind = %(trade)s
               AND (t.id IS NULL OR t.entry_id <> o.id)
             ORDER BY r.id
            """,
            params,
        )
        unrecorded_reversals = [row[0] for row in cursor.fetchall()]
        # A REVERSAL entry of this day that does not exactly undo, account by account, the
        # entry it reverses.
        cursor.execute(
            """
            SELECT DISTINCT r.id FROM marketplace_journalentry r
              JOIN marketplace_posting p ON p.entry_id = r.id OR p.entry_id = r.reverses_id
             WHERE r.book_id = %(book)s AND r.kind = %(reversal)s
               AND r.business_date = %(day)s
             GROUP BY r.id, p.account_id
            HAVING sum(p.amount) <> 0
             ORDER BY r.id
            """,
            params,
        )
        inexact_reversals = [row[0] for row in cursor.fetchall()]

    count = Comparison(trades=trades, entries=entries)
    buyers_paid = Comparison(trades=pays, entries=paid)
    sellers_owed = Comparison(trades=owed, entries=credited)
    commission = Comparison(trades=fees, entries=earned)
    reversals = Comparison(trades=reversed_trades, entries=reversal_entries)
    found: list[Finding] = []
    names = {"market": market.name, "day": day.isoformat()}
    if not all(each.matches for each in (count, buyers_paid, sellers_owed, commission)):
        found.append(
            _finding(
                "trade_totals",
                CHECK_TRADES,
                _(
                    "%(market)s, %(day)s: the trades and the settlement entries differ. "
                    "Trades against entries: count %(trades)d against %(entries)d, buyers "
                    "paid %(pays)s against %(paid)s, sellers owed %(owed)s against "
                    "%(credited)s, commission %(fees)s against %(earned)s."
                )
                % {
                    **names,
                    "trades": trades,
                    "entries": entries,
                    "pays": pays,
                    "paid": paid,
                    "owed": owed,
                    "credited": credited,
                    "fees": fees,
                    "earned": earned,
                },
                [market.pk],
            )
        )
    if unfit_trades:
        found.append(
            _finding(
                "trade_entry_mismatch",
                CHECK_TRADES,
                ngettext(
                    "%(market)s, %(day)s: trade #%(first)d does not match its settlement "
                    "entry (another day, book or kind, or other amounts).",
                    "%(market)s, %(day)s: %(count)d trades do not match their settlement entry "
                    "(another day, book or kind, or other amounts; first: trade #%(first)d).",
                    len(unfit_trades),
                )
                % {**names, "count": len(unfit_trades), "first": unfit_trades[0]},
                unfit_trades,
            )
        )
    if orphan_entries:
        found.append(
            _finding(
                "entry_without_trade",
                CHECK_TRADES,
                ngettext(
                    "%(market)s, %(day)s: trade entry #%(first)d belongs to no trade of this day.",
                    "%(market)s, %(day)s: %(count)d trade entries belong to no trade of this "
                    "day (first: entry #%(first)d).",
                    len(orphan_entries),
                )
                % {**names, "count": len(orphan_entries), "first": orphan_entries[0]},
                orphan_entries,
            )
        )
    if not reversals.matches:
        found.append(
            _finding(
                "reversal_count",
                CHECK_REVERSALS,
                _(
                    "%(market)s, %(day)s: trades reversed this day: %(trades)d; reversal "
                    "entries of trades this day: %(entries)d."
                )
                % {**names, "trades": reversed_trades, "entries": reversal_entries},
                [market.pk],
            )
        )
    if wrong_reversals:
        found.append(
            _finding(
                "reversal_missing",
                CHECK_REVERSALS,
                ngettext(
                    "%(market)s, %(day)s: reversed trade #%(first)d has no reversal entry of "
                    "its own settlement entry.",
                    "%(market)s, %(day)s: %(count)d reversed trades have no reversal entry of "
                    "their own settlement entry (first: trade #%(first)d).",
                    len(wrong_reversals),
                )
                % {**names, "count": len(wrong_reversals), "first": wrong_reversals[0]},
                wrong_reversals,
            )
        )
    if unrecorded_reversals:
        found.append(
            _finding(
                "reversal_without_trade",
                CHECK_REVERSALS,
                ngettext(
                    "%(market)s, %(day)s: reversal entry #%(first)d undoes a trade that is "
                    "not marked reversed.",
                    "%(market)s, %(day)s: %(count)d reversal entries undo a trade that is not "
                    "marked reversed (first: entry #%(first)d).",
                    len(unrecorded_reversals),
                )
                % {
                    **names,
                    "count": len(unrecorded_reversals),
                    "first": unrecorded_reversals[0],
                },
                unrecorded_reversals,
            )
        )
    if inexact_reversals:
        found.append(
            _finding(
                "reversal_amounts",
                CHECK_REVERSALS,
                ngettext(
                    "%(market)s, %(day)s: reversal entry #%(first)d does not exactly undo the "
                    "entry it reverses.",
                    "%(market)s, %(day)s: %(count)d reversal entries do not exactly undo the "
                    "entry they reverse (first: entry #%(first)d).",
                    len(inexact_reversals),
                )
                % {**names, "count": len(inexact_reversals), "first": inexact_reversals[0]},
                inexact_reversals,
            )
        )
    findings.extend(found)
    failed = _failed_checks(found)
    return DayFigures(
        market_id=market.pk,
        market_code=market.code,
        market_name=market.name,
        count=count,
        buyers_paid=buyers_paid,
        sellers_owed=sellers_owed,
        commission=commission,
        reversals=reversals,
        trades_ok=CHECK_TRADES not in failed,
        reversals_ok=CHECK_REVERSALS not in failed,
    )
