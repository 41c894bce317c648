"""Live events of delivery, pushed after commit over each person's own channel (ws/me/).

A courier's phone hears of offers and task changes; a consumer's status page hears of her
order's status and her courier's position. The events name ids only where the screen then
refetches what it may see; a position carries its coordinates, and only to the consumers whose
open order that courier carries. Events marked quiet move a screen without counting as a
notification (static/js/live.js). Pushes are best effort (common/realtime.py): the
database has it all, and screens refetch.
"""

from accounts.realtime import push_to_user_after_commit

OFFER_EVENT = "delivery.offer"  # a new offer, or one withdrawn, expired or answered
TASK_EVENT = "delivery.task"  # the courier's current task changed
ORDER_EVENT = "delivery.order"  # an order's status changed (consumer and warehouse pages)
POSITION_EVENT = "delivery.position"  # the courier carrying the order moved


def push_offer(offer) -> None:
    """To the offered courier: a card to show (or to take away, when no longer pending)."""
    push_to_user_after_commit(
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
    push_to_user_after_commit(
        task.courier.user_id,
        TASK_EVENT,
        {"quiet": True, "task_id": task.pk, "status": task.status},
    )


def push_order(order) -> None:
    """To the consumer (and the warehouse's staff): the order's new status."""
    payload = {"quiet": True, "order_id": order.pk, "status": order.status}
    push_to_user_after_commit(order.consumer_id, ORDER_EVENT, payload)
    for user_id in order.warehouse.staff.values_list("user_id", flat=True):
        push_to_user_after_commit(user_id, ORDER_EVENT, payload)


def push_position(*, courier, orders) -> None:
    """To each consumer whose order the courier is carrying or coming to fetch."""
    if courier.position is None:
        return
    for order in orders:
        push_to_user_after_commit(
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
