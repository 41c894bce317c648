"""Forms of the cold chain's pages: they parse; the services hold the rules."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from common.exceptions import NotFoundOrNotYours

from .choices import HandoverDecision
from .models import Site, Vehicle

DECIMAL_ATTRS = {"inputmode": "decimal", "step": "any"}
LOT_ROWS = 4
MAX_LOT_ROWS = 30


class DateTimeInput(forms.DateTimeInput):
    """The phone's own date-and-time picker; read in the site's time zone (Asia/Shanghai)."""

    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ShipmentPlanForm(forms.Form):
    origin = forms.ModelChoiceField(label=_("From"), queryset=Site.objects.none())
    destination = forms.ModelChoiceField(label=_("To"), queryset=Site.objects.none())
    vehicle = forms.ModelChoiceField(
        label=_("Vehicle"),
        queryset=Vehicle.objects.none(),
        required=False,
        empty_label=_("Not chosen yet"),
    )
    planned_departure_at = forms.DateTimeField(label=_("Planned departure"), widget=DateTimeInput)
    planned_arrival_at = forms.DateTimeField(label=_("Planned arrival"), widget=DateTimeInput)
    code = forms.CharField(
        label=_("Code (optional)"),
        max_length=40,
        required=False,
        help_text=_("Left empty, one is made: SH-date-number."),
    )
    # Ticked by "Plan anyway" once the warnings about a mixed load were shown.
    accept_warnings = forms.BooleanField(required=False, widget=forms.HiddenInput)

    # Service argument → form field, for errors the service reports.
    SERVICE_FIELDS = {"accept_warnings": None, "lots": None}

    def __init__(self, *args, sites, vehicles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["origin"].queryset = sites
        self.fields["destination"].queryset = sites
        self.fields["vehicle"].queryset = vehicles


class PatienceForm(forms.Form):
    """The excursion settings; empty keeps the defaults."""

    excursion_delay_minutes = forms.IntegerField(
        label=_("Excursion after (minutes)"),
        min_value=1,
        max_value=720,
        required=False,
        help_text=_("A breach shorter than this, such as an open door, is not an excursion."),
    )
    recovery_minutes = forms.IntegerField(
        label=_("Recovery time (minutes)"), min_value=1, max_value=720, required=False
    )
    recovery_margin_c = forms.DecimalField(
        label=_("Recovery margin (°C)"),
        min_value=Decimal("0"),
        max_value=Decimal("5"),
        max_digits=3,
        decimal_places=1,
        required=False,
        widget=forms.NumberInput(attrs=DECIMAL_ATTRS),
    )
    signal_timeout_minutes = forms.IntegerField(
        label=_("Loss of signal after (minutes)"), min_value=2, max_value=1440, required=False
    )


class LotLineForm(forms.Form):
    """One lot on the shipment, by its code, among the `lots` the planner may ship (another
    co-operative's lot reads as a missing one); an empty row is skipped."""

    lot_code = forms.CharField(
        label=_("Lot code"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"list": "lot-codes", "autocapitalize": "characters"}),
    )
    quantity_kg = forms.DecimalField(
        label=_("Quantity (kg)"),
        max_digits=12,
        decimal_places=3,
        required=False,
        widget=forms.NumberInput(attrs=DECIMAL_ATTRS),
    )

    def __init__(self, *args, lots, **kwargs):
        super().__init__(*args, **kwargs)
        self.lots = lots

    def clean(self):
        data = super().clean()
        code = (data.get("lot_code") or "").strip()
        quantity = data.get("quantity_kg")
        if not code and quantity is None:
            return data
        if not code:
            self.add_error("lot_code", _("Enter the lot's code."))
            return data
        lot = self.lots.filter(lot_code__iexact=code).first()
        if lot is None:
            self.add_error("lot_code", NotFoundOrNotYours.default_message)
        if quantity is None:
            self.add_error("quantity_kg", _("Enter the quantity in kg."))
        data["lot"] = lot
        return data


LotLineFormSet = forms.formset_factory(
    LotLineForm, extra=LOT_ROWS, max_num=MAX_LOT_ROWS, validate_max=True
)


def lots_from(formset) -> list[tuple]:
    """(lot, quantity_kg) of each filled row of a valid formset, in order."""
    return [
        (form.cleaned_data["lot"], form.cleaned_data["quantity_kg"])
        for form in formset.forms
        if form.cleaned_data.get("lot") is not None
    ]


class HandoverForm(forms.Form):
    probe_temperature_c = forms.DecimalField(
        label=_("Probe temperature (°C)"),
        max_digits=4,
        decimal_places=1,
        min_value=Decimal("-30"),
        max_value=Decimal("50"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
        help_text=_("Measured in the goods, not in the air."),
    )
    decision = forms.ChoiceField(
        label=_("The goods are"),
        choices=HandoverDecision.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when rejecting: say why."),
    )
