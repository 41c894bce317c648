"""With Redis stopped, a consumer's order is placed and cancelled with the normal answers: the
live pushes to her and the warehouse fail after commit and are only logged."""

from decimal import Decimal

import pytest

from delivery.models import DeliveryOrder, DeliveryOrderStatus, StockLot
from tests.delivery.shop_factories import HOME, receive

pytestmark = pytest.mark.django_db(transaction=True)


ORDERS = "/api/delivery/orders/"


def test_an_order_is_placed_and_cancelled_while_redis_is_down(
    api_as, chaoyang, chaoyang_staff, spinach, funded_consumer, channel_layer_down
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1, price="12.00")
    client = api_as(funded_consumer)

    placed = client.post(
        ORDERS,
        {
            **HOME,
            "address": "朝阳区建国路 88 号",
            "lines": [{"product_id": spinach.pk, "quantity_kg": "2"}],
        },
        format="json",
    )
    assert placed.status_code == 201, placed.content
    order_id = placed.json()["id"]

    cancelled = client.post(
        f"{ORDERS}{order_id}/cancel/", {"reason": "Wrong address"}, format="json"
    )

    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled"
    assert DeliveryOrder.objects.get(pk=order_id).status == DeliveryOrderStatus.CANCELLED
    assert StockLot.objects.get().quantity_kg == Decimal("10.000")
