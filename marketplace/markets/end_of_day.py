"""End of day: close a market's business day, pay sellers out (T+0), write statements and the
daily report.

Crash safety. The work is a row of small transactions, each idempotent, and the day's status
records how far it got:

1. OPEN → CLOSING, under the day's row lock (FOR UPDATE). Trades, reversals, top-ups and
   withdrawals hold that row FOR SHARE while they post, so this waits for the ones in flight
   and every later one finds the day CLOSING and is refused: from here on nothing new is
   dated this day except the payouts below.
2. One payout per seller, each in its own transaction, keyed by trader and day: a rerun finds
   the payouts already made and makes the missing ones.
3. The statements, then the report, read from the ledger once every payout exists, each
   written once (unique per trader/market and day): a rerun keeps those written and writes
   the rest, from the same postings, so they come out the same.
4. CLOSING → CLOSED.

A worker killed anywhere leaves the day CLOSING (or OPEN, before step 1 commits) with whole
payouts and whole statements only; running end of day again finishes it and produces what
one clean run produces. Earlier days of the market left open or half-closed (a missed night,
a crashed run) are closed first, oldest first, so each day's payouts and opening balances
follow the day before. Two closers of the same market at once (a retried task beside a late
one) meet at the same keys and unique rows and end with the same result.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from moneyed import Money

from accounts.models import User
from common.dates import BUSINESS_TIME_ZONE, business_today
from settlement.chain import seal_entries
from settlement.choices import EntryKind
from settlement.exceptions import NothingToPay
from settlement.funding import pay_out
from settlement.models import Account, JournalEntry, Posting

from ..exceptions import NotMarketStaff
from .choices import DayStatus, TraderKind
from .models import DailyReport, Market, MarketDay, MarketStaff, Statement, Trade, Trader
from .services import settlement_account

ZERO = Decimal("0.00")


# --- Which days to close ------------------------------------------------------------------


def end_of_day_time() -> time:
    """MARKET_END_OF_DAY: the time of day (Asia/Shanghai) the business day closes."""
    return settings.MARKET_END_OF_DAY


def due_business_date(now: datetime | None = None) -> date:
    """The latest business day whose end of day has come: today from MARKET_END_OF_DAY on,
    yesterday before it (a run delayed past midnight still closes the day it was meant for,
    not the one just begun)."""
    local = timezone.localtime(now or timezone.now(), BUSINESS_TIME_ZONE)
    if local.time() >= end_of_day_time():
        return local.date()
    return local.date() - timedelta(days=1)


@dataclass(frozen=True)
class DayToClose:
    market_id: int
    business_date: date


def days_to_close(now: datetime | None = None) -> list[DayToClose]:
    """Every market's due day, and each earlier day still open or closing (a missed night, a
    crashed run), oldest first within a market."""
    due = due_business_date(now)
    earlier = (
        MarketDay.objects.filter(business_date__lt=due)
        .exclude(status=DayStatus.CLOSED)
        .values_list("market_id", "business_date")
    )
    days = {(market_id, day) for market_id, day in earlier}
    days.update((market_id, due) for market_id in Market.objects.values_list("pk", flat=True))
    return [DayToClose(market_id, day) for market_id, day in sorted(days)]


# --- Closing a day -------------------------------------------------------------------------


def start_closing(*, market: Market, business_date: date, by: User | None = None) -> MarketDay:
    """Stop the day taking trades: OPEN → CLOSING, once the trades in flight have landed.

    Returns the day as it now stands (CLOSING, or CLOSED if it was already). `by`, when
    given, must be one of the market's supervisors (NotMarketStaff otherwise).
    """
    if by is not None:
        _require_supervisor(by, market)
    if business_date > business_today():
        raise ValueError(f"{business_date} has not begun; only a begun day can be closed")
    with transaction.atomic():
        day, _ = MarketDay.objects.get_or_create(market=market, business_date=business_date)
        # FOR UPDATE waits for trades in flight (they hold the row FOR SHARE while they post),
        # and once CLOSING commits every later trade reads it and is refused.
        day = MarketDay.objects.select_for_update().get(pk=day.pk)
        if day.status == DayStatus.OPEN:
            day.status = DayStatus.CLOSING
            day.save(update_fields=["status"])
    return day


def close_business_day(
    *, market: Market, business_date: date, by: User | None = None
) -> DailyReport:
    """Close the day (no more trades), pay every seller what she is owed up to that day,
    write each trader's statement and the market's report, then mark the day closed.

    Earlier days of the market not yet closed are closed first. Running it again, or after
    a crash, finishes what is missing and changes nothing that was written. `by` (a
    supervisor) is recorded on the payouts; the nightly task passes None.
    """
    if by is not None:
        _require_supervisor(by, market)
    earlier = (
        MarketDay.objects.filter(market=market, business_date__lt=business_date)
        .exclude(status=DayStatus.CLOSED)
        .order_by("business_date")
        .values_list("business_date", flat=True)
    )
    for day in list(earlier):
        _close_day(market, day, by=by)
    return _close_day(market, business_date, by=by)


def _close_day(market: Market, business_date: date, *, by: User | None) -> DailyReport:
    day = start_closing(market=market, business_date=business_date)
    if day.status == DayStatus.CLOSED:
        return write_daily_report(market, business_date=business_date)
    traders = list(Trader.objects.filter(market=market).order_by("id"))
    for trader in traders:
        if trader.kind == TraderKind.SELLER:
            pay_out_seller(trader, business_date=business_date, by=by)
    for trader in traders:
        write_statement(trader, business_date=business_date)
    report = write_daily_report(market, business_date=business_date)
    MarketDay.objects.filter(pk=day.pk, status=DayStatus.CLOSING).update(
        status=DayStatus.CLOSED, closed_at=timezone.now()
    )
    # Chain the day's entries now, so the closed day is sealed when anyone reads it.
    seal_entries()
    return report


def _require_supervisor(user: User, market: Market) -> None:
    if not MarketStaff.objects.filter(user=user, market=market, is_supervisor=True).exists():
        raise NotMarketStaff()


# --- Payouts ------------------------------------------------------------------------------


def payout_key(account: Account, business_date: date) -> str:
    """The payout's idempotency key: one payout per seller's account and day."""
    return f"payout:{account.book_id}:{account.trader_id}:{business_date.isoformat()}"


def pay_out_seller(trader: Trader, *, business_date: date, by: User | None) -> JournalEntry | None:
    """Pay the seller, by bank transfer, what her trades up to this day earned and was not
    paid yet; None when that is nothing (a reversal may even leave her owing the market).

    Trades of later days are left for their own day's payout (a missed night closed late
    pays only its own day). Nor is more paid than she is owed now (a later reversal may have
    taken some back): pay_out reads that, and the key, under the account's lock.
    """
    account = settlement_account(trader)
    try:
        return pay_out(
            account=account,
            by=by,
            idempotency_key=f"{account.trader_id}:{business_date.isoformat()}",
            business_date=business_date,
            at_most=_earned_unpaid(account, business_date=business_date),
            memo=f"T+0 {business_date.isoformat()}",
        )
    except NothingToPay:
        return None


def _earned_unpaid(account: Account, *, business_date: date) -> Decimal:
    """What the payable's entries up to the day credited, less every payout made so far."""
    postings = Posting.objects.filter(account=account)
    earned = postings.filter(entry__business_date__lte=business_date).exclude(
        entry__kind=EntryKind.PAYOUT
    )
    paid = postings.filter(entry__kind=EntryKind.PAYOUT)
    # Debit-positive: credits (what she earned) are negative, payouts positive.
    return -(_total(earned) + _total(paid))


def _total(postings: QuerySet) -> Decimal:
    return postings.aggregate(total=Sum("amount"))["total"] or ZERO


# --- Statements and the report ------------------------------------------------------------


def _standing_on(business_date: date) -> Q:
    """Trades not reversed by the end of the day (a later reversal belongs to a later day)."""
    return Q(reversal__isnull=True) | Q(reversal__business_date__gt=business_date)


def write_statement(trader: Trader, *, business_date: date) -> Statement | None:
    """The trader's statement of the day, from her account's postings; written once.

    Balances are the holder's: what the market owes her (a buyer's card balance, a seller's
    unpaid takings). The opening balance is what her entries of earlier days left; the lines
    are the day's entries (trades, reversals, top-ups, withdrawals, the payout), each with the
    balance after it. A trader with no entry that day and nothing owed gets none.
    """
    existing = Statement.objects.filter(trader=trader, business_date=business_date).first()
    if existing is not None:
        return existing
    account = settlement_account(trader)
    sign = -1 if account.credit_normal else 1
    postings = Posting.objects.filter(account=account)
    opening = sign * _total(postings.filter(entry__business_date__lt=business_date))
    todays = list(
        postings.filter(entry__business_date=business_date)
        .select_related("entry__trade__product", "entry__reversed_trade__product")
        .order_by("entry_id", "id")
    )
    if not todays and opening == 0:
        return None
    lines, balance = [], opening
    for posting in todays:
        change = sign * posting.amount.amount
        balance += change
        lines.append(_statement_line(posting, change=change, balance=balance))
    figures = (
        Trade.objects.filter(business_date=business_date)
        .filter(Q(seller=trader) | Q(buyer=trader))
        .filter(_standing_on(business_date))
        .aggregate(count=Count("id"), volume=Sum("net_kg"))
    )
    statement, _ = Statement.objects.get_or_create(
        trader=trader,
        business_date=business_date,
        defaults={
            "opening_balance": Money(opening, "CNY"),
            "closing_balance": Money(balance, "CNY"),
            "trade_count": figures["count"],
            "volume_kg": figures["volume"] or Decimal("0"),
            "lines": lines,
        },
    )
    return statement


def _statement_line(posting: Posting, *, change: Decimal, balance: Decimal) -> dict:
    entry = posting.entry
    # A trade's own entry, or the reversal of one (reversed_trade is set on the reversal).
    trade = getattr(entry, "trade", None) or getattr(entry, "reversed_trade", None)
    return {
        "entry": entry.pk,
        "time": timezone.localtime(entry.created_at, BUSINESS_TIME_ZONE).strftime("%H:%M:%S"),
        "kind": entry.kind,
        "memo": entry.memo,
        "trade": trade.pk if trade else None,
        "product": trade.product.name_zh if trade else "",
        "net_kg": str(trade.net_kg) if trade else "",
        "unit_price": str(trade.unit_price.amount) if trade else "",
        "credit": str(change) if change > 0 else "",
        "debit": str(-change) if change < 0 else "",
        "balance": str(balance),
    }


def write_daily_report(market: Market, *, business_date: date) -> DailyReport:
    """The market's figures of the day; written once.

    trade_count and reversed_count: the day's trades still standing at its close, and the
    trades reversed that day (of whatever day). Volume, turnover and commission: what the
    day booked, net of the reversals booked that day, so they agree with the ledger (a
    correction of an earlier day shows on the day it was made). Top-ups, payouts and
    withdrawals: what the day's entries of each kind moved on traders' accounts.
    """
    existing = DailyReport.objects.filter(market=market, business_date=business_date).first()
    if existing is not None:
        return existing
    trades = Trade.objects.filter(market=market)
    booked = trades.filter(business_date=business_date)
    reversed_that_day = trades.filter(reversal__business_date=business_date)

    def net(field: str) -> Decimal:
        return _sum(booked, field) - _sum(reversed_that_day, field)

    flows = Posting.objects.filter(
        entry__book=market.book, entry__business_date=business_date, account__trader__isnull=False
    )

    def moved(kind: str) -> Money:
        """What the day's entries of this kind moved into or out of traders' accounts."""
        return Money(abs(_total(flows.filter(entry__kind=kind))), "CNY")

    report, _ = DailyReport.objects.get_or_create(
        market=market,
        business_date=business_date,
        defaults={
            "trade_count": booked.filter(_standing_on(business_date)).count(),
            "reversed_count": reversed_that_day.count(),
            "volume_kg": net("net_kg"),
            "turnover": Money(net("amount"), "CNY"),
            "commission": Money(net("buyer_fee") + net("seller_fee"), "CNY"),
            "top_ups": moved(EntryKind.TOP_UP),
            "payouts": moved(EntryKind.PAYOUT),
            "withdrawals": moved(EntryKind.WITHDRAWAL),
        },
    )
    return report


def _sum(trades: QuerySet, field: str) -> Decimal:
    return trades.aggregate(total=Sum(field))["total"] or Decimal("0")
