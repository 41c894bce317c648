"""Celery entry points of the marketplace: ids in, one service call, harmless when run twice."""

from datetime import date

from celery import shared_task
from django.db import OperationalError  # the database's, e.g. a dropped connection

from accounts.models import User
from common.tasks import BROKER_ERRORS

from .markets import end_of_day
from .markets.models import Market
from .services import orders as order_services


@shared_task(
    name="marketplace.expire_overdue_orders",
    acks_late=True,  # safe: a second run finds the orders already expired
    autoretry_for=BROKER_ERRORS,
    retry_backoff=True,
    max_retries=3,
)
def expire_overdue_orders() -> list[int]:
    """Expire placed orders their seller did not accept in time; returns the expired ids.

    Works in bounded batches; when a batch was full, it queues itself again for the rest.
    """
    expired = order_services.expire_overdue_orders()
    if len(expired) >= order_services.EXPIRY_BATCH:
        expire_overdue_orders.delay()
    return expired


@shared_task(name="marketplace.close_business_days")
def close_business_days() -> list[dict]:
    """End of day for every market: queue one close per market and day due (today's, from
    MARKET_END_OF_DAY on, and any earlier day left open or half-closed). Returns what was
    queued, with each task's id. Queuing twice only queues closes that find nothing to do."""
    queued = []
    for day in end_of_day.days_to_close():
        result = close_business_day.delay(day.market_id, day.business_date.isoformat())
        queued.append(
            {
                "market": day.market_id,
                "business_date": day.business_date.isoformat(),
                "task_id": result.id,
            }
        )
    return queued


@shared_task(
    name="marketplace.close_business_day",
    # A worker killed halfway puts the task back on the queue; the rerun finishes the day.
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(*BROKER_ERRORS, OperationalError),
    retry_backoff=True,
    max_retries=5,
)
def close_business_day(market_id: int, business_date: str, by_id: int | None = None) -> dict:
    """Close one market's business day (earlier unclosed days first): payouts, statements,
    the daily report. Harmless when run twice or after a crash: it finishes what is missing."""
    market = Market.objects.get(pk=market_id)
    by = User.objects.get(pk=by_id) if by_id is not None else None
    report = end_of_day.close_business_day(
        market=market, business_date=date.fromisoformat(business_date), by=by
    )
    return {"market": market_id, "business_date": business_date, "report": report.pk}
