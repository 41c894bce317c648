"""The courier's page (/courier/), made for one hand on a phone outdoors: the shift switch,
the offer card with its countdown, the current task step by step, and today's earnings.

Every button is a plain form posting here: on success the page is shown again (303), on a
refusal it is shown with the message beside the button or field at fault. The page's script
(static/js/delivery/courier.js) sends the same forms with fetch and swaps the sections in
place, and fetches a section again (/courier/offer/, /courier/task/, /courier/today/) when a
live event says it changed. Couriers only; another courier's task, order or offer is not found.
"""

from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.choices import Role
from accounts.permissions import get_visible_or_404, role_required
from common.exceptions import DomainError
from common.photos import upload_body_limit
from common.refusals import status_for
from common.request_limits import request_body_limit

from ..selectors.couriers import (
    courier_day,
    courier_of,
    courier_offers,
    courier_orders,
    courier_tasks,
    current_task,
    pending_offer,
)
from ..services import couriers as courier_services
from ..services import offers
from ..services.callbacks import ask_consumer_to_call_back

couriers_only = role_required(Role.COURIER)  # platform admins pass, but need a courier row


@dataclass(frozen=True)
class PageError:
    """A refusal to show beside what caused it: `where` is shift, offer, pickup, code or
    photo; `order_id` says which order's form."""

    where: str
    message: str
    order_id: int | None = None


def _offer_context(courier) -> dict:
    offer = pending_offer(courier)
    if offer is None:
        return {"offer": None}
    seconds_left = max(0, int((offer.expires_at - timezone.now()).total_seconds()))
    return {
        "offer": offer,
        "offer_seconds_left": seconds_left,
        "offer_distance_km": round(offer.distance_m / 1000, 1),
    }


def _context(courier, *, error: PageError | None = None) -> dict:
    return {
        "courier": courier,
        "route": current_task(courier),
        "day": courier_day(courier),
        "error": error,
        **_offer_context(courier),
    }


def _page(request, courier, *, error: PageError | None = None, status: int = 200):
    context = {
        **_context(courier, error=error),
        "positions_url": reverse("delivery-courier-positions"),
    }
    return render(request, "delivery/courier/page.html", context, status=status)


def _refused(request, courier, refusal: DomainError, *, where: str, order_id=None):
    error = PageError(where=where, message=str(refusal.message), order_id=order_id)
    return _page(request, courier, error=error, status=status_for(refusal))


def _back() -> HttpResponse:
    response = redirect("delivery:courier")
    response.status_code = 303  # see other: the page, fetched with GET
    return response


def _couriers_page(view):
    """Couriers only; the view is given the courier's row (403 page without one)."""

    @wraps(view)
    @couriers_only
    def wrapped(request, *args, **kwargs):
        courier = courier_of(request.user)
        if courier is None:
            return render(request, "delivery/courier/not_registered.html", status=403)
        return view(request, courier, *args, **kwargs)

    return wrapped


# --- The page and its sections --------------------------------------------------------------


@require_GET
@_couriers_page
def courier_page(request, courier):
    return _page(request, courier)


@require_GET
@_couriers_page
def offer_section(request, courier):
    """The offer card alone (or nothing), fetched when an offer event arrives."""
    context = {"courier": courier, **_offer_context(courier)}
    return render(request, "delivery/courier/_offer.html", context)


@require_GET
@_couriers_page
def task_section(request, courier):
    context = {"courier": courier, "route": current_task(courier)}
    return render(request, "delivery/courier/_task.html", context)


@require_GET
@_couriers_page
def day_section(request, courier):
    return render(request, "delivery/courier/_day.html", {"day": courier_day(courier)})


# --- Buttons --------------------------------------------------------------------------------


@require_POST
@_couriers_page
def shift(request, courier):
    try:
        if request.POST.get("on_shift") == "1":
            courier_services.start_shift(courier=courier)
        else:
            courier_services.end_shift(courier=courier)
    except DomainError as refusal:
        return _refused(request, courier, refusal, where="shift")
    return _back()


@require_POST
@_couriers_page
def accept_offer(request, courier, pk: int):
    offer = get_visible_or_404(courier_offers(courier), pk=pk)
    try:
        offers.accept_offer(courier=courier, offer_id=offer.pk)
    except DomainError as refusal:
        return _refused(request, courier, refusal, where="offer")
    return _back()


@require_POST
@_couriers_page
def decline_offer(request, courier, pk: int):
    offer = get_visible_or_404(courier_offers(courier), pk=pk)
    try:
        offers.decline_offer(courier=courier, offer_id=offer.pk)
    except DomainError as refusal:
        return _refused(request, courier, refusal, where="offer")
    return _back()


@require_POST
@_couriers_page
def pick_up(request, courier, pk: int):
    task = get_visible_or_404(courier_tasks(courier), pk=pk)
    try:
        courier_services.pick_up(courier=courier, task_id=task.pk)
    except DomainError as refusal:
        return _refused(request, courier, refusal, where="pickup")
    return _back()


@request_body_limit(upload_body_limit)  # a photo of the order at the door
@require_POST
@_couriers_page
def deliver(request, courier, pk: int):
    """The code form sends `code`; the photo form (multipart, `proof=photo`) sends `photo`."""
    order = get_visible_or_404(courier_orders(courier), pk=pk)
    photo = request.FILES.get("photo")
    where = "photo" if photo is not None or request.POST.get("proof") == "photo" else "code"
    try:
        if where == "photo":
            courier_services.deliver_with_photo(courier=courier, order_id=order.pk, photo=photo)
        else:
            courier_services.deliver_with_code(
                courier=courier, order_id=order.pk, code=request.POST.get("code", "")
            )
    except DomainError as refusal:
        return _refused(request, courier, refusal, where=where, order_id=order.pk)
    return _back()


@require_POST
@_couriers_page
def ask_callback(request, courier, pk: int):
    """ "Ask her to call me back": she is notified with his number; he never sees hers."""
    order = get_visible_or_404(courier_orders(courier), pk=pk)
    try:
        ask_consumer_to_call_back(courier=courier, order_id=order.pk)
    except DomainError as refusal:
        return _refused(request, courier, refusal, where="callback", order_id=order.pk)
    messages.success(request, _("She is asked to call you back."))
    return _back()


urlpatterns = [
    path("courier/", courier_page, name="courier"),
    path("courier/offer/", offer_section, name="courier_offer"),
    path("courier/task/", task_section, name="courier_task"),
    path("courier/today/", day_section, name="courier_today"),
    path("courier/shift/", shift, name="courier_shift"),
    path("courier/offers/<int:pk>/accept/", accept_offer, name="courier_offer_accept"),
    path("courier/offers/<int:pk>/decline/", decline_offer, name="courier_offer_decline"),
    path("courier/tasks/<int:pk>/pick-up/", pick_up, name="courier_pick_up"),
    path("courier/orders/<int:pk>/deliver/", deliver, name="courier_deliver"),
    path("courier/orders/<int:pk>/callback/", ask_callback, name="courier_callback"),
]
