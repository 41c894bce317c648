"""Mobile pages of the marketplace: parse the form, call one service or selector, render.

A refusal of a service (DomainError) becomes a form error or a message; an object the user
may not see is a 404, never a 403, so ids of other people's listings and orders stay hidden.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from moneyed import Money

from accounts.choices import Role
from accounts.permissions import get_visible_or_404, role_required, user_has_role
from accounts.phone import mask_phone
from common.exceptions import DomainError
from common.forms import add_service_error
from common.money import price_per_unit
from common.photos import upload_body_limit
from common.request_limits import request_body_limit
from common.units import WeightUnit, unit_of
from farms.choices import Certification
from farms.selectors import lots_visible_to
from marketplace.choices import ListingStatus, OrderStatus
from marketplace.models import Listing
from marketplace.selectors import listings as listing_selectors
from marketplace.selectors.orders import (
    OrderSide,
    is_buyer_side,
    is_seller_side,
    orders_visible_to,
)
from marketplace.selectors.pickup import (
    distance_shown_km,
    listings_with_exact_pickup_for,
    pickup_point_shown,
)
from marketplace.selectors.wallet import hold_of_order, wallet_figures
from marketplace.services import listings as listing_services
from marketplace.services import orders as order_services
from marketplace.services.callbacks import ask_buyer_to_call_back

from .filters import ListingSearchFilter
from .forms import (
    ConfirmWeightsForm,
    HandOverForm,
    ListingForm,
    ListingSearchForm,
    OrderForm,
    ReasonForm,
)

SELLERS = (Role.FARMER, Role.COOPERATIVE_MANAGER)  # platform admins hold every role
PAGE_SIZE = 20
# A seller's buttons; which states each starts from is listing_services.LISTING_ACTIONS.
LISTING_BUTTONS = {
    "publish": gettext_lazy("Publish"),
    "pause": gettext_lazy("Pause"),
    "resume": gettext_lazy("Resume"),
    "close": gettext_lazy("Close"),
}


def price_label(price: Money, user) -> str:
    """ "¥2.40/jin (斤)": a price per kg shown per the user's unit, rounded once."""
    unit = unit_of(user)
    shown = price_per_unit(price, unit)
    return _("¥%(amount)s/%(unit)s") % {"amount": shown.amount, "unit": WeightUnit(unit).label}


def _with_labels(listings, user) -> list:
    """Facts a listing card shows, computed here so the template stays plain."""
    exact_pickup = listings_with_exact_pickup_for(user, listings)
    for listing in listings:
        exact = listing.pk in exact_pickup
        listing.price_label = price_label(listing.price_per_kg, user)
        thumbnail = getattr(listing, "thumbnail_name", None)
        listing.thumbnail_url = default_storage.url(thumbnail) if thumbnail else ""
        listing.distance_km = distance_shown_km(listing, exact=exact) or ""
        listing.pickup_exact = exact
        listing.pickup_shown = pickup_point_shown(listing, exact=exact)
        listing.certification_labels = [
            Certification(code).label for code in listing.certifications
        ]
        listing.actions = [
            (action, label)
            for action, label in LISTING_BUTTONS.items()
            if listing.status in listing_services.LISTING_ACTIONS[action][0]
        ]
    return listings


# Selling


def _save_listing(request, form: ListingForm, save) -> Listing | None:
    """Save the listing and the form's photo together, or neither: a refused photo must
    not leave a listing behind that the seller's second try would double."""
    try:
        with transaction.atomic():
            listing = save()
            if photo := form.cleaned_data.get("photo"):
                listing_services.add_listing_photo(
                    added_by=request.user,
                    listing_id=listing.pk,
                    upload=photo,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
    except DomainError as error:
        add_service_error(form, error, ListingForm.SERVICE_FIELDS)
        return None
    return listing


@request_body_limit(upload_body_limit)
@role_required(*SELLERS)
def listing_create(request, lot_pk: int):
    """Sell from a harvest lot: price, quantity, minimum order, until when, a photo."""
    lot = get_visible_or_404(lots_visible_to(request.user).select_related("product"), pk=lot_pk)
    form = ListingForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = _save_listing(
            request,
            form,
            lambda: listing_services.create_listing(
                listed_by=request.user,
                lot=lot,
                idempotency_key=form.cleaned_data["idempotency_key"],
                **form.service_arguments(),
            ),
        )
        if saved:
            messages.success(request, _("%(product)s is on sale.") % {"product": lot.product})
            return redirect("marketplace:my_listings")
    return render(request, "marketplace/listing_form.html", {"form": form, "lot": lot})


@request_body_limit(upload_body_limit)
@role_required(*SELLERS)
def listing_edit(request, pk: int):
    """Change the price, quantity, minimum or end of one listing, or add a photo."""
    listing = get_visible_or_404(
        listing_selectors.listings_visible_to(request.user).select_related("lot", "product"),
        pk=pk,
    )
    form = ListingForm(
        request.POST or None,
        request.FILES or None,
        user=request.user,
        initial=ListingForm.initial_for(listing, user=request.user),
    )
    if request.method == "POST" and form.is_valid():
        saved = _save_listing(
            request,
            form,
            lambda: listing_services.update_listing(
                updated_by=request.user, listing_id=listing.pk, **form.service_arguments()
            ),
        )
        if saved:
            messages.success(request, _("%(product)s is saved.") % {"product": listing.product})
            return redirect("marketplace:my_listings")
    return render(
        request,
        "marketplace/listing_form.html",
        {"form": form, "lot": listing.lot, "listing": listing},
    )


@role_required(*SELLERS)
def my_listings(request):
    listings = listing_selectors.with_display_facts(
        listing_selectors.seller_listings_for(request.user)
    )
    page = Paginator(listings, PAGE_SIZE).get_page(request.GET.get("page"))
    _with_labels(page.object_list, request.user)
    return render(request, "marketplace/my_listings.html", {"page": page})


@require_POST
@role_required(*SELLERS)
def listing_status(request, pk: int, action: str):
    """Pause, resume, publish or close one of the seller's listings."""
    if action not in LISTING_BUTTONS:
        raise Http404
    listing = get_visible_or_404(listing_selectors.listings_visible_to(request.user), pk=pk)
    try:
        listing = listing_services.change_listing_status(
            changed_by=request.user, listing_id=listing.pk, action=action
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(product)s: %(status)s.")
            % {"product": listing.product, "status": listing.get_status_display()},
        )
    return redirect("marketplace:my_listings")


# Buying


@login_required
def search(request):
    """Find produce on sale by words, category, grade, certification, price and distance."""
    form = ListingSearchForm(request.GET or None, user=request.user)
    listings = listing_selectors.listings_for_buyers().order_by("-harvest_date", "-id")
    point = None
    if form.is_valid():
        point = form.point()
        # The API's filters, so the page and the API find exactly the same listings.
        found = ListingSearchFilter(form.filter_params(point), queryset=listings)
        if found.is_valid():
            listings = found.qs
        else:
            for errors in found.errors.values():
                for error in errors:
                    form.add_error(None, error)
    page = Paginator(listings.only("pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    results = _with_labels(listing_selectors.display_facts_for(list(page)), request.user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "marketplace/search.html",
        {
            "form": form,
            "page": page,
            "results": results,
            "located": point is not None,
            "query": query.urlencode(),
        },
    )


@login_required
def listing_detail(request, pk: int):
    """A listing on sale, with the buyer's order form."""
    listing = get_visible_or_404(
        listing_selectors.listings_for_viewer(request.user).prefetch_related("photos"), pk=pk
    )
    may_order = user_has_role(request.user, Role.BUYER) and listing.seller_id != request.user.pk
    form = OrderForm(request.POST or None, user=request.user) if may_order else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                order = order_services.place_order(
                    buyer=request.user,
                    lines=[(listing.pk, form.quantity_kg())],
                    weight_tolerance_pct=form.cleaned_data["weight_tolerance_pct"],
                    buyer_note=form.cleaned_data["note"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except DomainError as error:
                add_service_error(form, error, OrderForm.SERVICE_FIELDS)
            else:
                messages.success(
                    request, _("Order #%(id)s placed; the seller is told.") % {"id": order.pk}
                )
                return redirect("marketplace:order_detail", pk=order.pk)
    _with_labels([listing], request.user)
    return render(
        request,
        "marketplace/listing_detail.html",
        {
            "listing": listing,
            "photos": list(listing.photos.all()),
            "form": form,
            # A lot held everywhere (a recall) is shown with the reason, not sold.
            "on_sale": listing.status == ListingStatus.ACTIVE and not listing.held_reason,
            # The order's total is held from what is available: the buyer sees both first.
            "wallet": wallet_figures(request.user) if form is not None else None,
        },
    )


# Orders


def _side(request) -> str:
    side = request.GET.get("side")
    if side in OrderSide.CHOICES:
        return side
    return OrderSide.SELLING if user_has_role(request.user, *SELLERS) else OrderSide.BUYING


def _orders_context(request) -> dict:
    side = _side(request)
    orders = orders_visible_to(request.user, side=side)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    for order in page.object_list:
        order.summary = ", ".join(str(line.listing.product.name_zh) for line in order.lines.all())
    return {
        "page": page,
        "side": side,
        "sides": OrderSide,
        "may_sell": user_has_role(request.user, *SELLERS),
    }


@login_required
def order_list(request):
    return render(request, "marketplace/order_list.html", _orders_context(request))


@login_required
def order_rows(request):
    """The list's rows alone: live.js fetches them again when an order arrives or moves."""
    return render(request, "marketplace/_order_rows.html", _orders_context(request))


def _order_actions(user, order) -> dict:
    """Which steps this user may take on the order now (the services check them again)."""
    seller, buyer = is_seller_side(user, order), is_buyer_side(user, order)
    status = order.status
    return {
        "accept": seller and status == OrderStatus.PLACED,
        "reject": seller and status == OrderStatus.PLACED,
        "ready": seller and status == OrderStatus.ACCEPTED,
        "hand_over": seller and status == OrderStatus.READY,
        "cancel": buyer and status == OrderStatus.PLACED,
        "confirm_weights": buyer and status == OrderStatus.AWAITING_BUYER,
        "complete": buyer and status == OrderStatus.HANDED_OVER,
    }


def _render_order(request, order, *, hand_over_form=None, status=200):
    actions = _order_actions(request.user, order)
    lines = list(order.lines.all())
    for line in lines:
        line.price_label = price_label(line.unit_price, request.user)
    if actions["hand_over"] and hand_over_form is None:
        hand_over_form = HandOverForm(lines=lines)
    return render(
        request,
        "marketplace/order_detail.html",
        {
            "order": order,
            "lines": lines,
            "actions": actions,
            "hand_over_form": hand_over_form,
            "reason_form": ReasonForm(),
            "hold": hold_of_order(order),
            # The seller's side sees the buyer's number masked, and asks for a call back.
            "buyer_phone": mask_phone(order.buyer.phone)
            if is_seller_side(request.user, order)
            else "",
        },
        status=status,
    )


@login_required
def order_detail(request, pk: int):
    order = get_visible_or_404(orders_visible_to(request.user), pk=pk)
    return _render_order(request, order)


ORDER_STEPS = {
    "accept": order_services.accept_order,
    "reject": order_services.reject_order,
    "cancel": order_services.cancel_order,
    "ready": order_services.mark_ready,
    "hand-over": order_services.hand_over,
    "confirm-weights": order_services.confirm_weights,
    "complete": order_services.complete_order,
}


@require_POST
@login_required
def order_callback(request, pk: int):
    """ "Ask her to call me back": the buyer is notified with the seller's number."""
    order = get_visible_or_404(orders_visible_to(request.user), pk=pk)
    try:
        ask_buyer_to_call_back(by=request.user, order_id=order.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The buyer is asked to call you back."))
    return redirect("marketplace:order_detail", pk=order.pk)


@require_POST
@login_required
def order_step(request, pk: int, step: str):
    """One step of an order, a POST calling its service; a refusal comes back as a message."""
    if step not in ORDER_STEPS:
        raise Http404
    order = get_visible_or_404(orders_visible_to(request.user), pk=pk)
    arguments = {}
    if step in ("reject", "cancel"):
        form = ReasonForm(request.POST)
        arguments["reason"] = form.cleaned_data["reason"] if form.is_valid() else ""
    elif step == "hand-over":
        form = HandOverForm(request.POST, lines=list(order.lines.all()))
        if not form.is_valid():
            return _render_order(request, order, hand_over_form=form, status=400)
        arguments["packed_kg"] = form.packed_kg()
    elif step == "confirm-weights":
        form = ConfirmWeightsForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose to accept or decline the packed weights."))
            return redirect("marketplace:order_detail", pk=order.pk)
        arguments["accept"] = form.cleaned_data["accept"]
    try:
        order = ORDER_STEPS[step](by=request.user, order_id=order.pk, **arguments)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Order #%(id)s: %(status)s.")
            % {"id": order.pk, "status": order.get_status_display()},
        )
    return redirect("marketplace:order_detail", pk=order.pk)
