"""Business dates: the calendar of harvests, trades and end of day is Asia/Shanghai's."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

BUSINESS_TIME_ZONE = ZoneInfo("Asia/Shanghai")


def business_today() -> date:
    """Today's date in Asia/Shanghai."""
    return timezone.localdate(timezone=BUSINESS_TIME_ZONE)


def business_date_of(moment: datetime) -> date:
    """The Asia/Shanghai date of an aware moment."""
    return timezone.localdate(moment, timezone=BUSINESS_TIME_ZONE)
