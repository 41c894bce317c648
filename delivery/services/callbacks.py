"""A courier asks his task's consumer to call him back: he sees her number masked
(138****0001), never in full; she is told in the app, with his number to call."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import CallbackRequest
from accounts.services.callbacks import request_callback

from ..exceptions import OrderNotFound, StepNotAllowed
from ..models import Courier, DeliveryOrderStatus
from ..selectors.couriers import callback_key, courier_orders, door_visible_to_courier


def ask_consumer_to_call_back(*, courier: Courier, order_id: int) -> CallbackRequest:
    """Only for an order on one of his tasks, while he still sees its door (until a day
    after delivery); once per order in CALLBACK_REQUEST_INTERVAL_MINUTES."""
    order = courier_orders(courier).select_related("consumer").filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound
    if order.status == DeliveryOrderStatus.CANCELLED or not door_visible_to_courier(
        order, now=timezone.now()
    ):
        raise StepNotAllowed(_("This order's consumer can no longer be asked to call back."))
    return request_callback(
        requester=courier.user,
        person=order.consumer,
        requester_role=_("courier"),
        about_key=callback_key(order.pk),
        about=_("order %(number)s") % {"number": order.number},
        about_url=reverse("delivery:shop_order", args=[order.pk]),
    )
