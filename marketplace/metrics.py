"""The marketplace's and the wholesale markets' metrics (common/metrics.py says how they are
counted and served)."""

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from prometheus_client.core import Metric

from common.dates import BUSINESS_TIME_ZONE
from common.metrics import counter, gauge, gauges_at_scrape

from .markets.choices import DayStatus
from .markets.end_of_day import due_business_date, end_of_day_time
from .markets.models import MarketDay

ORDERS_PLACED = counter("orders_placed_total", "Buyers' orders placed from listings")
TRADES_SETTLED = counter("trades_settled_total", "Trades weighed and settled at market counters")


@gauges_at_scrape
def end_of_day_gauges() -> Iterable[Metric]:
    """How late end of day is: the business days whose closing time has come and that are not
    closed yet, and how long ago the oldest of them should have closed."""
    now = timezone.now()
    unclosed = (
        MarketDay.objects.filter(business_date__lte=due_business_date(now))
        .exclude(status=DayStatus.CLOSED)
        .order_by("business_date")
        .values_list("business_date", flat=True)
    )
    days = list(unclosed)
    overdue = 0.0
    if days:
        closing = datetime.combine(days[0], end_of_day_time(), tzinfo=BUSINESS_TIME_ZONE)
        overdue = max(0.0, (now - closing).total_seconds())
    yield gauge(
        "market_days_unclosed", "Market business days past their end of day, not closed", len(days)
    )
    yield gauge(
        "market_end_of_day_overdue_seconds",
        "Seconds since the oldest unclosed business day should have closed (0: none)",
        overdue,
    )
