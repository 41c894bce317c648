"""The consumer's shop on the phone: where she is (her location, the serving warehouse and its
promise), what it sells, her wallet, placing an order; her orders; an order's live status
page with the courier on a map.

Consumers only (a platform admin too); another consumer's order is simply not found (404).
The photo of a delivery at the door is also shown to the courier who took it and to the
warehouse's staff (order_photo).
A refusal of the service (outside every zone, short stock, a short wallet) comes back as a
form error at the field it concerns, and nothing has changed.
"""

import uuid
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.choices import Role
from accounts.permissions import get_visible_or_404, role_required
from common.exceptions import DomainError
from settlement.selectors import wallet_balance

from ..downloads import proof_photo_response
from ..selectors import shop as shop_selectors
from ..selectors.history import order_history, order_reader
from ..services import orders as order_services

PAGE_SIZE = 20
consumers_only = role_required(Role.CONSUMER)


class LocationForm(forms.Form):
    """Where to deliver: filled by the phone's location, a tap on the map, or typed (the
    street address is asked for with the order)."""

    longitude = forms.FloatField(
        label=gettext_lazy("Longitude"),
        min_value=-180,
        max_value=180,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "id": "shop-longitude"}),
    )
    latitude = forms.FloatField(
        label=gettext_lazy("Latitude"),
        min_value=-90,
        max_value=90,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "id": "shop-latitude"}),
    )


class ShopOrderForm(forms.Form):
    """The order: the address, one quantity (kg) per product of the catalogue, and a key
    made when the form is drawn, so a second click or a resent form makes no second order."""

    longitude = forms.FloatField(widget=forms.HiddenInput)
    latitude = forms.FloatField(widget=forms.HiddenInput)
    address = forms.CharField(
        label=gettext_lazy("Delivery address"),
        max_length=order_services.MAX_ADDRESS,
        error_messages={"required": gettext_lazy("Give the delivery address.")},
        widget=forms.TextInput(attrs={"autocomplete": "street-address", "id": "order-address"}),
    )
    idempotency_key = forms.CharField(max_length=order_services.MAX_KEY, widget=forms.HiddenInput)

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["idempotency_key"].initial = lambda: uuid.uuid4().hex
        for item in items:
            self.fields[self.quantity_field(item.product_id)] = forms.DecimalField(
                label=item.name,
                required=False,
                min_value=Decimal(0),
                max_digits=12,
                decimal_places=3,
                widget=forms.NumberInput(
                    attrs={
                        "step": "0.1",
                        "min": "0",
                        "inputmode": "decimal",
                        "placeholder": "0",
                        "data-testid": f"quantity-{item.product_id}",
                        "data-price": str(item.price_per_kg.amount),
                    }
                ),
            )

    @staticmethod
    def quantity_field(product_id) -> str:
        return f"kg_{product_id}"

    def clean(self):
        data = super().clean()
        if not self.errors and not self.lines():
            raise forms.ValidationError(_("Choose at least one product: enter how many kg."))
        return data

    def lines(self) -> list[tuple[int, Decimal]]:
        return [
            (int(name.removeprefix("kg_")), value)
            for name, value in self.cleaned_data.items()
            if name.startswith("kg_") and value
        ]

    def show_refusal(self, error: DomainError) -> None:
        """The service's refusal at the input it concerns: a product's quantity, the address,
        or above the form (the location, the wallet, the opening hours)."""
        product_id = getattr(error, "product_id", None)
        field = self.quantity_field(product_id) if product_id is not None else error.field
        if field not in self.fields or self.fields[field].widget.is_hidden:
            field = None
        self.add_error(field, str(error.message))


def _location_from(data) -> tuple[LocationForm, float | None, float | None]:
    form = LocationForm(data if "longitude" in data or "latitude" in data else None)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["longitude"], form.cleaned_data["latitude"]
    return form, None, None


@consumers_only
def shop(request):
    """The shop for a location: GET with ?longitude=&latitude= shows the serving warehouse,
    its promise and catalogue; POST places the order."""
    source = request.POST if request.method == "POST" else request.GET
    location_form, longitude, latitude = _location_from(source)
    warehouse, location_error, items, order_form = None, "", [], None
    if longitude is not None:
        try:
            warehouse = shop_selectors.serving_warehouse(longitude=longitude, latitude=latitude)
        except DomainError as error:
            location_error = str(error.message)
    if warehouse is not None:
        items = shop_selectors.catalogue(warehouse)
        initial = {"longitude": longitude, "latitude": latitude}
        order_form = ShopOrderForm(
            request.POST if request.method == "POST" else None, items=items, initial=initial
        )
        if request.method == "POST" and order_form.is_valid():
            try:
                order = order_services.place_order(
                    consumer=request.user,
                    longitude=order_form.cleaned_data["longitude"],
                    latitude=order_form.cleaned_data["latitude"],
                    address=order_form.cleaned_data["address"],
                    lines=order_form.lines(),
                    idempotency_key=order_form.cleaned_data["idempotency_key"],
                )
            except DomainError as error:
                order_form.show_refusal(error)
            else:
                messages.success(
                    request,
                    _("Order %(number)s is placed and paid.") % {"number": order.number},
                )
                return redirect("delivery:shop_order", pk=order.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "delivery/shop/shop.html",
        {
            "location_form": location_form,
            "located": longitude is not None,
            "longitude": longitude,
            "latitude": latitude,
            "location_error": location_error,
            "warehouse": warehouse,
            "open_now": warehouse is not None and shop_selectors.is_open_now(warehouse),
            "rows": [
                (item, order_form[ShopOrderForm.quantity_field(item.product_id)]) for item in items
            ]
            if order_form is not None
            else [],
            "order_form": order_form,
            "wallet_balance": wallet_balance(request.user),
            "service_areas": shop_selectors.service_areas(),
        },
        status=status,
    )


@consumers_only
def shop_orders(request):
    """The consumer's own orders, newest first."""
    orders = shop_selectors.orders_visible_to(request.user).filter(consumer=request.user)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "delivery/shop/orders.html", {"page": page})


def _order_context(request, pk: int) -> dict:
    order = get_visible_or_404(
        shop_selectors.orders_visible_to(request.user).prefetch_related(
            "lines__product", "lines__picks__stock_lot__lot"
        ),
        pk=pk,
    )
    status = shop_selectors.order_status(order)
    lines = list(order.lines.all())
    for line in lines:
        line.name = shop_selectors.product_name(line.product)
    return {
        "order": order,
        "status": status,
        "lines": lines,
        "is_mine": order.consumer_id == request.user.pk,
        "history": order_history(order, reader=order_reader(request.user, order)),
        "may_cancel": shop_selectors.may_cancel(request.user, order),
        "map_config": {
            "orderId": order.pk,
            "warehouse": status["warehouse"],
            "home": status["home"],
            "courier": status["courier"]
            and {key: status["courier"][key] for key in ("name", "longitude", "latitude")},
        },
    }


@consumers_only
def shop_order(request, pk: int):
    """An order's live status: steps, promise, the delivery code, the courier on the map."""
    return render(request, "delivery/shop/order.html", _order_context(request, pk))


@consumers_only
def shop_order_status(request, pk: int):
    """The status panel alone: shop.js fetches it again when the order moves."""
    return render(request, "delivery/shop/_order_status.html", _order_context(request, pk))


@require_POST
@consumers_only
def shop_order_cancel(request, pk: int):
    order = get_visible_or_404(shop_selectors.orders_visible_to(request.user), pk=pk)
    try:
        order = order_services.cancel_order(
            by=request.user, order_id=order.pk, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("Order %(number)s is cancelled; %(total)s is back in your wallet.")
            % {"number": order.number, "total": f"¥{order.total.amount}"},
        )
    return redirect("delivery:shop_order", pk=order.pk)


@login_required
def order_photo(request, pk: int):
    """The photo of the delivery at the door, for the order's consumer, its warehouse's staff
    and the courier who took it; anyone else is told there is no such photo (404)."""
    order = get_visible_or_404(shop_selectors.proof_photos_visible_to(request.user), pk=pk)
    return proof_photo_response(order)


urlpatterns = [
    path("shop/", shop, name="shop"),
    path("shop/orders/", shop_orders, name="shop_orders"),
    path("shop/orders/<int:pk>/", shop_order, name="shop_order"),
    path("shop/orders/<int:pk>/status/", shop_order_status, name="shop_order_status"),
    path("shop/orders/<int:pk>/cancel/", shop_order_cancel, name="shop_order_cancel"),
    path("shop/orders/<int:pk>/photo/", order_photo, name="order_photo"),
]
