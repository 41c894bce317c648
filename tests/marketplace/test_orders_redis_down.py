"""With Redis stopped, every order step still answers its success and keeps its notifications.

The steps commit first and push after; a push that fails is logged (common/realtime.py),
never turned into an error for a change that happened. Transactional tests: the after-commit
pushes run only when a real commit happens.
"""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Notification
from marketplace.choices import OrderStatus
from marketplace.models import Order
from marketplace.realtime import ORDER_PLACED, ORDER_STATUS_CHANGED
from marketplace.tasks import expire_overdue_orders
from tests.marketplace.factories import ListingFactory
from tests.marketplace.order_factories import client_for, order_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listing(db):
    return ListingFactory()


def news_for(user, kind: str) -> int:
    return Notification.objects.filter(user=user, kind=kind).count()


def test_placing_an_order_answers_201_and_the_seller_is_notified(
    listing, buyer, channel_layer_down, caplog
):
    with caplog.at_level(logging.WARNING, logger="common.realtime"):
        response = client_for(buyer).post(
            "/api/orders/",
            {"lines": [{"listing_id": listing.pk, "quantity_kg": "3"}]},
            format="json",
        )

    assert response.status_code == 201, response.content
    assert Order.objects.get().status == OrderStatus.PLACED
    assert news_for(listing.seller, ORDER_PLACED) == 1
    [warning] = [r for r in caplog.records if r.name == "common.realtime"]
    assert f"push {ORDER_PLACED} to user.{listing.seller.pk} failed" in warning.getMessage()
    assert warning.exc_info is None  # one line, no traceback


STEPS = {
    # action: (state before, who takes it, body, state after)
    "accept": (OrderStatus.PLACED, "seller", {}, OrderStatus.ACCEPTED),
    "reject": (OrderStatus.PLACED, "seller", {"reason": "sold"}, OrderStatus.REJECTED),
    "cancel": (OrderStatus.PLACED, "buyer", {}, OrderStatus.CANCELLED),
    "ready": (OrderStatus.ACCEPTED, "seller", {}, OrderStatus.READY),
    "hand-over": (OrderStatus.READY, "seller", "LINE", OrderStatus.HANDED_OVER),
    "confirm-weights": (
        OrderStatus.AWAITING_BUYER,
        "buyer",
        {"accept": True},
        OrderStatus.HANDED_OVER,
    ),
    "complete": (OrderStatus.HANDED_OVER, "buyer", {}, OrderStatus.COMPLETED),
}


@pytest.mark.parametrize("action", list(STEPS))
def test_every_order_step_answers_200_and_the_buyer_is_notified(
    listing, buyer, channel_layer_down, action
):
    before, actor, body, after = STEPS[action]
    order = order_in(before, buyer=buyer, listing=listing)
    if body == "LINE":  # hand-over settles the order from the buyer's wallet
        body = {"packed_kg": {str(order.lines.get().pk): "10"}}
    news_before = news_for(buyer, ORDER_STATUS_CHANGED)
    user = {"buyer": buyer, "seller": listing.seller}[actor]

    response = client_for(user).post(f"/api/orders/{order.pk}/{action}/", body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == after
    assert Order.objects.get(pk=order.pk).status == after
    assert news_for(buyer, ORDER_STATUS_CHANGED) == news_before + 1


def test_the_expiry_task_expires_and_notifies_with_redis_down(listing, buyer, channel_layer_down):
    order = order_in(OrderStatus.PLACED, buyer=buyer, listing=listing)
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=5))

    result = expire_overdue_orders.apply()

    assert result.successful(), result.traceback
    assert result.result == [order.pk]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXPIRED
    assert news_for(buyer, ORDER_STATUS_CHANGED) == 1
    assert news_for(listing.seller, ORDER_STATUS_CHANGED) == 1
