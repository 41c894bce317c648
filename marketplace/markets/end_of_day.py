"""End of day: close a market's business day, pay sellers out (T+0), write statements and the
daily report.

Every step is idempotent and the day's status records how far it got, so a worker killed
halfway leaves the day CLOSING and a rerun finishes it: payouts carry a key per trader and
day, statements and the report are unique per day and written once from the ledger.
"""

import contextlib
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from moneyed import Money

from accounts.models import User
from common.dates import BUSINESS_TIME_ZONE

from ..exceptions import NothingToPay
from ..ledger.choices import EntryKind
from ..ledger.models import Posting
from ..ledger.services import pay_out, seal_entries
from .choices import DayStatus, TraderKind
from .models import DailyReport, Market, MarketDay, Statement, Trade, Trader
from .services import settlement_account

ZERO = Decimal("0.00")


def close_business_day(
    *, market: Market, business_date: date, by: User | None = None
) -> DailyReport:
    """Close the day (no more trades), pay every seller what she is owed, write each
    trader's statement and the market's report, then mark the day closed.

    Running it again on a closed day returns the report and changes nothing.
    """
    with transaction.atomic():
        day, _ = MarketDay.objects.get_or_create(market=market, business_date=business_date)
        # FOR UPDATE waits for trades in flight (they hold the row FOR SHARE), then shuts
        # new ones out once CLOSING commits.
        day = MarketDay.objects.select_for_update().get(pk=day.pk)
        if day.status == DayStatus.CLOSED:
            return DailyReport.objects.get(market=market, business_date=business_date)
        if day.status == DayStatus.OPEN:
            day.status = DayStatus.CLOSING
            day.save(update_fields=["status"])

    traders = list(Trader.objects.filter(market=market).order_by("id"))
    for trader in traders:
        if trader.kind == TraderKind.SELLER:
            _pay_out_seller(trader, business_date=business_date, by=by)
    for trader in traders:
        write_statement(trader, business_date=business_date)
    report = write_daily_report(market, business_date=business_date)
    seal_entries()
    with transaction.atomic():
        MarketDay.objects.filter(pk=day.pk).update(
            status=DayStatus.CLOSED, closed_at=timezone.now()
        )
    return report


def _pay_out_seller(trader: Trader, *, business_date: date, by: User | None) -> None:
    with contextlib.suppress(NothingToPay):
        pay_out(
            account=settlement_account(trader),
            by=by,
            idempotency_key=f"{trader.pk}:{business_date.isoformat()}",
            business_date=business_date,
        )


def write_statement(trader: Trader, *, business_date: date) -> Statement | None:
    """The trader's statement of the day, from her account's postings; written once.

    A trader with no movement that day and a zero balance gets none.
    """
    existing = Statement.objects.filter(trader=trader, business_date=business_date).first()
    if existing is not None:
        return existing
    account = settlement_account(trader)
    postings = Posting.objects.filter(account=account)
    before = (
        postings.filter(entry__business_date__lt=business_date).aggregate(total=Sum("amount"))[
            "total"
        ]
        or ZERO
    )
    todays = list(
        postings.filter(entry__business_date=business_date)
        .select_related("entry__trade__product", "entry__reversed_trade")
        .order_by("entry_id", "id")
    )
    opening = -before  # settlement accounts are credit-normal: what the market owes her
    if not todays and opening == 0:
        return None
    lines, balance = [], opening
    for posting in todays:
        change = -posting.amount.amount
        balance += change
        lines.append(_statement_line(posting, change=change, balance=balance))
    trades = Trade.objects.filter(business_date=business_date, reversal__isnull=True).filter(
        Q(seller=trader) | Q(buyer=trader)
    )
    figures = trades.aggregate(count=Count("id"), volume=Sum("net_kg"))
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
    """The market's figures of the day: trades, volume, turnover, commission, cash flows."""
    existing = DailyReport.objects.filter(market=market, business_date=business_date).first()
    if existing is not None:
        return existing
    trades = Trade.objects.filter(market=market, business_date=business_date)
    settled = trades.filter(reversal__isnull=True).aggregate(
        count=Count("id"),
        volume=Sum("net_kg"),
        turnover=Sum("amount"),
        buyer_fees=Sum("buyer_fee"),
        seller_fees=Sum("seller_fee"),
    )
    entries = Posting.objects.filter(
        entry__book=market.book, entry__business_date=business_date, account__trader__isnull=False
    )

    def flow(kind: str) -> Money:
        """What the day's entries of this kind moved into or out of traders' accounts."""
        total = entries.filter(entry__kind=kind).aggregate(total=Sum("amount"))["total"]
        return Money(abs(total or ZERO), "CNY")

    report, _ = DailyReport.objects.get_or_create(
        market=market,
        business_date=business_date,
        defaults={
            "trade_count": settled["count"],
            "reversed_count": trades.filter(reversal__isnull=False).count(),
            "volume_kg": settled["volume"] or Decimal("0"),
            "turnover": Money(settled["turnover"] or ZERO, "CNY"),
            "commission": Money(
                (settled["buyer_fees"] or ZERO) + (settled["seller_fees"] or ZERO), "CNY"
            ),
            "top_ups": flow(EntryKind.TOP_UP),
            "payouts": flow(EntryKind.PAYOUT),
            "withdrawals": flow(EntryKind.WITHDRAWAL),
        },
    )
    return report
