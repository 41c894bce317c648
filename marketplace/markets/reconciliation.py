"""Reconciliation of the wholesale markets: the accountant's view of a book and a business
day. Reads only.

`reconcile()` gives the trial balance of each book, its balance slots against its postings
(both the ledger's, `settlement.trial_balance` and `settlement.verification`), and each
market's trades of the day against the day's settlement entries. It returns findings, never
raises for what it finds, and aggregates in SQL so it stays fast on a large ledger.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from common.dates import business_today
from settlement.choices import AccountKind, EntryKind
from settlement.findings import (
    CHECK_TRIAL_BALANCE,
    Finding,
    cents,
    failed_checks,
    finding,
    read_only_snapshot,
)
from settlement.models import Book
from settlement.trial_balance import BookFigures, book_figures
from settlement.verification import BalanceFigures, verify_balance_slots

from .models import Market

# What each market finding is about (the ledger's checks are in settlement.findings).
CHECK_TRADES = "trades"
CHECK_REVERSALS = "reversals"


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
        return check not in failed_checks(self.findings)


def reconcile(*, market: Market | None = None, business_date: date | None = None) -> Reconciliation:
    """The trial balance of each book (of the market's book only, given a market) up to the
    end of the business day, its balance slots against its postings, and for each market
    (or the one given) the day's trades against the day's settlement entries.

    The business day is today in Asia/Shanghai unless given.
    """
    day = business_date or business_today()
    findings: list[Finding] = []
    with read_only_snapshot():
        books = list(Book.objects.filter(pk=market.book_id) if market else Book.objects.all())
        book_ids = [book.pk for book in books]
        figures = book_figures(books, day)
        findings.extend(
            finding(
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
        balances = verify_balance_slots(findings, book_ids=book_ids)
        markets = [market] if market else list(Market.objects.order_by("code"))
        days = [_day_figures(each, day, findings) for each in markets]
    return Reconciliation(
        business_date=day, books=figures, balances=balances, days=days, findings=findings
    )


def _day_figures(market: Market, day: date, findings: list[Finding]) -> DayFigures:
    params: dict[str, int | str | date] = {
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
        pays, owed, fees = cents(pays), cents(owed), cents(fees)
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
        paid, credited, earned = cents(paid), cents(credited), cents(earned)
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
            finding(
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
            finding(
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
            finding(
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
            finding(
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
            finding(
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
            finding(
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
            finding(
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
    failed = failed_checks(found)
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
