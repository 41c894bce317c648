"""A market's business day not closed, or its payouts not all made, by the deadline: the end
of day (MARKET_END_OF_DAY, Asia/Shanghai) plus `grace_minutes`. End of day sets a day CLOSED
only once every seller is paid and the statements are written (marketplace.markets.end_of_day),
so a day still OPEN was never closed and one still CLOSING has payouts or statements missing.
"""

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from common.dates import BUSINESS_TIME_ZONE
from marketplace.markets.choices import DayStatus
from marketplace.markets.end_of_day import end_of_day_time
from marketplace.markets.models import MarketDay

from . import Finding, minutes_between


def evaluate(rule, *, now: datetime) -> list[Finding]:
    grace = timedelta(minutes=rule.threshold("grace_minutes"))
    closing = end_of_day_time()
    days = (
        MarketDay.objects.exclude(status=DayStatus.CLOSED)
        .filter(business_date__lte=now.astimezone(BUSINESS_TIME_ZONE).date())
        .select_related("market")
        .order_by("business_date", "pk")
    )
    if rule.market_id is not None:
        days = days.filter(market_id=rule.market_id)
    found = []
    for day in days:
        deadline = datetime.combine(day.business_date, closing, tzinfo=BUSINESS_TIME_ZONE) + grace
        if now <= deadline:
            continue
        found.append(
            Finding(
                subject=day,
                key=f"market_day:{day.pk}",
                figures={
                    "market_id": day.market_id,
                    "market": day.market.name,
                    "business_date": day.business_date.isoformat(),
                    "status": day.status,
                    "deadline": deadline.isoformat(),
                    "overdue_minutes": minutes_between(deadline, now),
                },
            )
        )
    return found


def describe(figures: dict) -> str:
    words = {
        "market": figures["market"],
        "date": figures["business_date"],
        "minutes": figures["overdue_minutes"],
    }
    if figures["status"] == DayStatus.CLOSING:
        return (
            _(
                "%(market)s, business day %(date)s: payouts or statements still not finished, "
                "%(minutes)s minutes past the deadline."
            )
            % words
        )
    return (
        _("%(market)s, business day %(date)s: not closed, %(minutes)s minutes past the deadline.")
        % words
    )
