"""A seller asks her order's buyer to call back: she sees the buyer's number masked
(138****0001), never in full; the buyer is told in the app, with the seller's number."""

from django.utils.translation import gettext as _

from accounts.models import CallbackRequest, User
from accounts.services.callbacks import request_callback

from ..exceptions import OrderNotYours
from ..models import Order
from ..realtime import order_url
from ..selectors.orders import is_seller_side


def order_callback_key(order_id: int) -> str:
    return f"marketplace.order:{order_id}"


def ask_buyer_to_call_back(*, by: User, order_id: int) -> CallbackRequest:
    """The seller's side of the order (the seller, or a manager of her co-operative) asks;
    once per order in CALLBACK_REQUEST_INTERVAL_MINUTES."""
    order = Order.objects.select_related("buyer").get(pk=order_id)
    if not is_seller_side(by, order):
        raise OrderNotYours()
    return request_callback(
        requester=by,
        person=order.buyer,
        requester_role=_("seller"),
        about_key=order_callback_key(order.pk),
        about=_("order #%(id)s") % {"id": order.pk},
        about_url=order_url(order),
    )
