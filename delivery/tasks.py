"""Celery entry points of delivery: ids in, one call into dispatch or replenishment, harmless
when run twice (at-least-once delivery; a lost task is caught by the dispatch sweep)."""

from celery import shared_task

from .services import dispatch, offers


@shared_task(name="delivery.dispatch_order", acks_late=True, ignore_result=True)
def dispatch_order(order_id: int) -> int | None:
    """An order looks for a courier (sent at packing, or at placing with a countdown when
    dispatch goes ahead of packing); returns its task's id. A second run finds the order
    already on a task and does nothing."""
    task = dispatch.dispatch_order(order_id=order_id)
    return task.pk if task is not None else None


@shared_task(name="delivery.expire_offer", acks_late=True, ignore_result=True)
def expire_offer(offer_id: int) -> None:
    """The offer's countdown ran out: if still unanswered it expires and the task is offered
    to the next candidate. An answered offer is left alone."""
    offers.expire_offer(offer_id=offer_id)


@shared_task(name="delivery.sweep_dispatch", acks_late=True)
def sweep_dispatch() -> dict:
    """Beat's safety net: overdue offers, packed orders without a task, unassigned tasks."""
    return dispatch.sweep().as_dict()


@shared_task(name="delivery.suggest_replenishment", acks_late=True)
def suggest_replenishment() -> list[int]:
    """Tomorrow's suggested purchases for every active warehouse; returns the plans' ids. A
    plan already approved is never changed."""
    from .services import replenishment

    return [plan.pk for plan in replenishment.suggest_for_all_warehouses()]
