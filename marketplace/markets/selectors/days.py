"""Reads of business days for the market's operators: the days, their reports, statements.

An operator sees only the market she works for; everything here starts from that market.
"""

from collections.abc import Sequence
from datetime import date

from django.db.models import QuerySet

from accounts.models import User

from ..models import DailyReport, Market, MarketDay, MarketStaff, Statement


def staff_post_of(user: User) -> MarketStaff | None:
    """Where the user works (her market, whether she supervises), or None."""
    if not user.is_authenticated:
        return None
    return MarketStaff.objects.select_related("market").filter(user=user).first()


def business_days_of(market: Market) -> QuerySet[MarketDay]:
    """The market's business days, newest first."""
    return MarketDay.objects.filter(market=market).order_by("-business_date")


def with_reports(days: Sequence[MarketDay]) -> Sequence[MarketDay]:
    """Sets `day.report` (a DailyReport, or None while the day is not closed) on each day,
    in one query."""
    if not days:
        return days
    market_ids = {day.market_id for day in days}
    reports = {
        (report.market_id, report.business_date): report
        for report in DailyReport.objects.filter(
            market_id__in=market_ids, business_date__in={day.business_date for day in days}
        )
    }
    for day in days:
        day.report = reports.get((day.market_id, day.business_date))
    return days


def statements_of_day(market: Market, business_date: date) -> QuerySet[Statement]:
    """Each trader's statement of the day: sellers first, then buyers, by name."""
    return (
        Statement.objects.filter(trader__market=market, business_date=business_date)
        .select_related("trader")
        .order_by("-trader__kind", "trader__name", "trader_id")
    )
