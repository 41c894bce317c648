"""Celery entry points of the marketplace: ids in, one service call, harmless when run twice."""

from celery import shared_task

from .services import orders as order_services


@shared_task(
    name="marketplace.expire_overdue_orders",
    acks_late=True,  # safe: a second run finds the orders already expired
    autoretry_for=(ConnectionError,),
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
