"""Live events of delivery, pushed after commit over each person's own channel (ws/me/).

A courier's phone hears of offers and task changes; a consumer's status page hears of her
order's status and her courier's position. The events name ids only where the screen then
refetches what it may see; a position carries its coordinates, and only to the consumers whose
open order that courier carries. Events marked quiet move a screen without counting as a
notification (static/js/live.js).
"""

import logging

from django.db import transaction

from accounts.realtime import push_to_user

OFFER_EVENT = "delivery.offer"  # a new offer, or one withdrawn, expired or answered
TASK_EVENT = "delivery.task"  # the courier's current task changed
ORDER_EVENT = "delivery.order"  # an order's status changed (consumer and warehouse pages)
POSITION_EVENT = "delivery.position"  # the courier carrying the order moved


logger = logging.getLogger(__name__)


def _push_on_commit(user_id: int, event: str, payload: dict) -> None:
    def push() -> None:
        try:
            push_to_user(user_id, event, payload)
        except Exception:  # the channel layer is down: the database has it all, screens refetch
            logger.warning("delivery push %s to user %s failed", event, user_id, exc_info=True)

    transaction.on_commit(push)


def push_offer(offer) -> None:
    """To the offered courier: a card to show (or to take away, when no longer pending)."""
    _push_on_commit(
        offer.courier.user_id,
        OFFER_EVENT,
        {
            "quiet": True,
            "offer_id": offer.pk,
            "task_id": offer.task_id,
            "status": offer.status,
            "expires_at": offer.expires_at.isoformat(),
        },
    )


def push_task(task) -> None:
    if task.courier_id is None:
        return
    _push_on_commit(
        task.courier.user_id,
        TASK_EVENT,
        {"quiet": True, "task_id": task.pk, "status": task.status},
    )


def push_order(order) -> None:
    """To the consumer (and the warehouse's staff): the order's new status."""
    payload = {"quiet": True, "order_id": order.pk, "status": order.status}
    _push_on_commit(order.consumer_id, ORDER_EVENT, payload)
    for user_id in order.warehouse.staff.values_list("user_id", flat=True):
        _push_on_commit(user_id, ORDER_EVENT, payload)


def push_position(*, courier, orders) -> None:
    """To each consumer whose order the courier is carrying or coming to fetch."""
    if courier.position is None:
        return
    for order in orders:
        _push_on_commit(
            order.consumer_id,
            POSITION_EVENT,
            {
                "quiet": True,
                "order_id": order.pk,
                "longitude": courier.position.x,
                "latitude": courier.position.y,
                "at": courier.position_at.isoformat() if courier.position_at else None,
            },
        )
