"""Orders brought to a status through the services, as users would, and API clients."""

from decimal import Decimal

from rest_framework.test import APIClient

from marketplace.choices import OrderStatus
from marketplace.models import Order
from marketplace.services.orders import accept_order, hand_over, mark_ready, place_order

KG = Decimal


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=user)
    return client


def order_in(status: str, *, buyer, listing) -> Order:
    """An order of 10 kg brought to `status` through the services, as users would."""
    order = place_order(buyer=buyer, lines=[(listing.pk, KG("10"))])
    if status == OrderStatus.PLACED:
        return order
    accept_order(by=listing.seller, order_id=order.pk)
    if status == OrderStatus.ACCEPTED:
        return order
    mark_ready(by=listing.seller, order_id=order.pk)
    if status == OrderStatus.READY:
        return order
    line = order.lines.get()
    packed = KG("12") if status == OrderStatus.AWAITING_BUYER else KG("10")
    return hand_over(by=listing.seller, order_id=order.pk, packed_kg={line.pk: packed})
