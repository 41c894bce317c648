"""Forms of the marketplace pages: they parse and convert units; the services hold the rules."""

import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.contrib.gis.geos import Point
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.dates import business_today
from common.forms import DateInput
from common.money import price_per_unit
from common.units import WeightUnit, kg_in, price_per_kg_from, to_kg, unit_of
from farms.choices import Certification, Grade, ProductCategory

DECIMAL_ATTRS = {"inputmode": "decimal", "step": "any"}
LISTING_DAYS = 3
MAX_INPUT_DIGITS = 16  # parsing only; the services refuse too many decimals with a message

# Fallback places for buyers whose phone will not tell where they are (WGS 84).
CITIES = {
    "beijing": (_("Beijing"), 116.4074, 39.9042),
    "shanghai": (_("Shanghai"), 121.4737, 31.2304),
    "guangzhou": (_("Guangzhou"), 113.2644, 23.1291),
    "jinan": (_("Jinan"), 117.1205, 36.6510),
    "shouguang": (_("Shouguang"), 118.7910, 36.8570),
}
RADIUS_CHOICES = [(km, f"{km} km") for km in ("10", "50", "200", "500")]


def _decimal_field(label, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=MAX_INPUT_DIGITS,
        decimal_places=6,
        widget=forms.NumberInput(attrs=DECIMAL_ATTRS),
        **kwargs,
    )


def _unit_label(user) -> str:
    return str(WeightUnit(unit_of(user)).label)


class ListingForm(forms.Form):
    """Sell from a harvest lot: price and quantities in the farmer's own unit (kg or 斤)."""

    price = _decimal_field(_("Price"))
    quantity = _decimal_field(_("Quantity"))
    minimum_order = _decimal_field(_("Minimum order"), initial=Decimal("1"))
    available_until = forms.DateField(label=_("Available until"), widget=DateInput)
    # A FileField, not an ImageField: Django's would decode the image before the photo service
    # checks the listing's room for it and the file's size (common/photos.py).
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    # Made when the form is shown (or by the phone for a draft kept offline): sent twice, the
    # listing and its photo are saved once.
    idempotency_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    # Service argument → form field, for errors the service reports.
    SERVICE_FIELDS = {
        "price_per_kg": "price",
        "available_kg": "quantity",
        "minimum_order_kg": "minimum_order",
        "image": "photo",
        "lot": None,
    }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = unit_of(user)
        unit = _unit_label(user)
        self.fields["price"].label = _("Price (yuan per %(unit)s)") % {"unit": unit}
        self.fields["quantity"].label = _("Quantity (%(unit)s)") % {"unit": unit}
        self.fields["minimum_order"].label = _("Minimum order (%(unit)s)") % {"unit": unit}
        self.fields["available_until"].initial = lambda: (
            business_today() + timedelta(days=LISTING_DAYS)
        )
        self.fields["idempotency_key"].initial = lambda: uuid.uuid4().hex

    @staticmethod
    def initial_for(listing, *, user) -> dict:
        """A listing's figures in the user's unit, to edit them."""
        unit = unit_of(user)
        return {
            "price": price_per_unit(listing.price_per_kg, unit).amount,
            "quantity": kg_in(unit, listing.available_kg),
            "minimum_order": kg_in(unit, listing.minimum_order_kg),
            "available_until": timezone.localdate(listing.available_until),
        }

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        # Until the end of the chosen day, in the page's (Shanghai) time zone.
        until = timezone.make_aware(datetime.combine(data["available_until"], time(23, 59)))
        return {
            "price_per_kg": price_per_kg_from(self.unit, data["price"]),
            "available_kg": to_kg(self.unit, data["quantity"]),
            "minimum_order_kg": to_kg(self.unit, data["minimum_order"]),
            "available_until": until,
        }


class ListingSearchForm(forms.Form):
    """The buyers' search: the same filters as the API's, in a small GET form."""

    q = forms.CharField(label=_("Product"), required=False, max_length=60)
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("All categories")), *ProductCategory.choices],
    )
    grade = forms.ChoiceField(
        label=_("Grade"), required=False, choices=[("", _("Any grade")), *Grade.choices]
    )
    certification = forms.ChoiceField(
        label=_("Certification"),
        required=False,
        choices=[("", _("Any")), *Certification.choices],
    )
    max_price = _decimal_field(_("Max price"), required=False, min_value=Decimal(0))
    radius_km = forms.ChoiceField(
        label=_("Within"),
        required=False,
        choices=[("", _("Any distance")), *RADIUS_CHOICES],
    )
    city = forms.ChoiceField(
        label=_("Near"),
        required=False,
        choices=[("", _("My location")), *((key, city[0]) for key, city in CITIES.items())],
    )
    min_available = _decimal_field(_("At least"), required=False, min_value=Decimal(0))
    harvested_since = forms.DateField(label=_("Harvested since"), required=False, widget=DateInput)
    ordering = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("", _("Nearest first (or freshest)")),
            ("price", _("Cheapest first")),
            ("-harvest_date", _("Freshest first")),
        ],
    )
    lon = forms.FloatField(required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = unit_of(user)
        self.fields["max_price"].label = _("Max price (yuan per %(unit)s)") % {
            "unit": _unit_label(user)
        }
        self.fields["min_available"].label = _("At least (%(unit)s on sale)") % {
            "unit": _unit_label(user)
        }

    def filter_params(self, point: Point | None) -> dict:
        """The search as the API's filter parameters (marketplace.filters), in kg."""
        data = self.cleaned_data
        params = {
            "q": data["q"].strip(),
            "category": data["category"],
            "grade": data["grade"],
            "certification": data["certification"],
            "price_max": data["max_price"],
            "price_unit": self.unit,
            "harvested_since": data["harvested_since"],
            "ordering": data["ordering"],
        }
        if data["min_available"] is not None:
            params["min_available_kg"] = to_kg(self.unit, data["min_available"])
        if point is not None:
            params["near"] = f"{point.x},{point.y}"
            if data["radius_km"]:
                params["radius_km"] = data["radius_km"]
        return {name: value for name, value in params.items() if value not in (None, "")}

    def point(self) -> Point | None:
        """Where the buyer is: the phone's position, else the chosen city, else unknown."""
        data = getattr(self, "cleaned_data", {})
        lon, lat = data.get("lon"), data.get("lat")
        if lon is not None and lat is not None and -180 <= lon <= 180 and -90 <= lat <= 90:
            return Point(lon, lat, srid=4326)
        if city := data.get("city"):
            _label, lon, lat = CITIES[city]
            return Point(lon, lat, srid=4326)
        return None

    def max_price_per_kg(self) -> Decimal | None:
        price = self.cleaned_data.get("max_price")
        return None if price is None else price_per_kg_from(self.unit, price)


class OrderForm(forms.Form):
    """Order from one listing; the hidden key makes a double tap place one order only."""

    quantity = _decimal_field(_("Quantity"))
    weight_tolerance_pct = _decimal_field(
        _("Weight tolerance (%)"),
        initial=Decimal("5"),
        help_text=_("How far the packed weight may differ from the order without asking you."),
    )
    note = forms.CharField(
        label=_("Note to the seller"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    SERVICE_FIELDS = {
        "quantity_kg": "quantity",
        "listing_id": None,
        "lines": None,
    }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = unit_of(user)
        self.fields["quantity"].label = _("Quantity (%(unit)s)") % {"unit": _unit_label(user)}
        self.fields["idempotency_key"].initial = lambda: uuid.uuid4().hex

    def quantity_kg(self) -> Decimal:
        return to_kg(self.unit, self.cleaned_data["quantity"])


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=300)


class HandOverForm(forms.Form):
    """The packed weight of each line, in kg as the scale shows it."""

    SERVICE_FIELDS = {"packed_kg": None}

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        for line in lines:
            self.fields[f"packed_{line.pk}"] = _decimal_field(
                _("Packed weight of %(product)s (kg)") % {"product": line.listing.product},
                initial=line.quantity_kg.normalize(),
                min_value=Decimal("0.001"),
            )

    def packed_kg(self) -> dict[int, Decimal]:
        return {
            int(name.removeprefix("packed_")): value for name, value in self.cleaned_data.items()
        }


class ConfirmWeightsForm(forms.Form):
    accept = forms.TypedChoiceField(
        choices=[("1", _("Accept")), ("0", _("Decline"))],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )
