"""The markets' metrics: trades settled count once each (a retry counts nothing), and end of day
overdue is read from the business days when Prometheus asks."""

from datetime import date, datetime, time

import pytest
import time_machine

from common.dates import BUSINESS_TIME_ZONE
from marketplace.markets.choices import DayStatus
from marketplace.models import MarketDay


@pytest.mark.django_db
def test_a_settled_trade_is_counted_once_and_its_retry_not_at_all(
    settle, metrics, django_capture_on_commit_callbacks
):
    before = metrics.value("freshchain_trades_settled_total")

    with django_capture_on_commit_callbacks(execute=True):
        settle("t1")
        settle("t2")
        settle("t1")  # a retry of the first: the same trade back

    assert metrics.value("freshchain_trades_settled_total") == before + 2


@pytest.mark.django_db
def test_a_refused_trade_is_not_counted(settle, metrics, django_capture_on_commit_callbacks):
    before = metrics.value("freshchain_trades_settled_total")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):  # noqa: B017, PT011
        settle("t1", buyer_card="NO-SUCH-CARD")

    assert metrics.value("freshchain_trades_settled_total") == before


def beijing(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BUSINESS_TIME_ZONE)


@pytest.mark.django_db
def test_end_of_day_overdue_counts_from_the_oldest_unclosed_day(market, metrics, settings):
    settings.MARKET_END_OF_DAY = time(23, 30)
    MarketDay.objects.create(
        market=market, business_date=date(2026, 12, 1), status=DayStatus.CLOSED
    )
    MarketDay.objects.create(
        market=market, business_date=date(2026, 12, 2), status=DayStatus.CLOSING
    )
    MarketDay.objects.create(market=market, business_date=date(2026, 12, 3), status=DayStatus.OPEN)

    with time_machine.travel(beijing(date(2026, 12, 3), 10), tick=False):
        assert metrics.value("freshchain_market_days_unclosed") == 1
        # 2 December closed at 23:30; it is 10:30 hours later.
        assert metrics.value("freshchain_market_end_of_day_overdue_seconds") == 10.5 * 3600

    with time_machine.travel(beijing(date(2026, 12, 3), 23, 45), tick=False):
        assert metrics.value("freshchain_market_days_unclosed") == 2


@pytest.mark.django_db
def test_nothing_is_overdue_while_every_due_day_is_closed(market, metrics, settings):
    settings.MARKET_END_OF_DAY = time(23, 30)
    MarketDay.objects.create(
        market=market, business_date=date(2026, 12, 2), status=DayStatus.CLOSED
    )
    MarketDay.objects.create(market=market, business_date=date(2026, 12, 3), status=DayStatus.OPEN)

    with time_machine.travel(beijing(date(2026, 12, 3), 23, 0), tick=False):
        assert metrics.value("freshchain_market_days_unclosed") == 0
        assert metrics.value("freshchain_market_end_of_day_overdue_seconds") == 0
