"""Forms of the market gate: they parse what the clerk typed; the services
(traceability/services/gate.py) hold the rules and refuse again with a field error. The
field checks call the services' own input rules, so a page and the API say the same."""

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.exceptions import DomainError

from .models.gate import LaboratoryOutcome, RapidTestMethod
from .services.gate import clean_gross_weight, clean_inhibition, clean_vehicle_plate

DECIMAL_ATTRS = {"inputmode": "decimal", "autocomplete": "off"}


def _checked(rule, value):
    try:
        return rule(value)
    except DomainError as error:
        raise forms.ValidationError(str(error.message)) from None


class DateTimeLocalInput(forms.DateTimeInput):
    """A native date-and-time picker, in the market's local time (Asia/Shanghai)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def _now_local():
    return timezone.localtime().replace(second=0, microsecond=0)


class LookupForm(forms.Form):
    """What the camera read or the clerk typed: a certificate's code (or its QR's URL), or a
    lot code for a batch that came without one."""

    code = forms.CharField(
        label=_("Certificate code or lot code"),
        max_length=200,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


class CheckInForm(forms.Form):
    # Made when the form is shown: a double tap or a resubmit checks the batch in once.
    idempotency_key = forms.CharField(
        max_length=64, widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex
    )
    code = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)
    lot_code = forms.CharField(max_length=40, required=False, widget=forms.HiddenInput)
    vehicle_plate = forms.CharField(
        label=_("Vehicle plate"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "placeholder": "京A12345"}
        ),
    )
    gross_weight_kg = forms.CharField(
        label=_("Gross weight (kg)"), max_length=20, widget=forms.TextInput(attrs=DECIMAL_ATTRS)
    )
    arrived_at = forms.DateTimeField(
        label=_("Arrived at"), initial=_now_local, widget=DateTimeLocalInput()
    )
    # A service refusal on one of these is shown on the lookup field.
    SERVICE_FIELDS = {"code": "code", "lot_code": "code"}

    def clean_vehicle_plate(self):
        return _checked(clean_vehicle_plate, self.cleaned_data["vehicle_plate"])

    def clean_gross_weight_kg(self):
        return _checked(clean_gross_weight, self.cleaned_data["gross_weight_kg"])

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("code") or cleaned.get("lot_code")):
            raise forms.ValidationError(_("Scan or type the certificate code or lot code first."))
        return cleaned


class RapidTestForm(forms.Form):
    method = forms.ChoiceField(
        label=_("Method"),
        choices=RapidTestMethod.choices,
        initial=RapidTestMethod.ENZYME_INHIBITION,
    )
    sample = forms.CharField(
        label=_("Sample"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 1 kg from 3 crates")}),
    )
    inhibition_pct = forms.CharField(
        label=_("Inhibition (%)"),
        max_length=12,
        help_text=_("Positive from 50 upwards: the batch is held and goes to a laboratory."),
        widget=forms.TextInput(attrs=DECIMAL_ATTRS),
    )

    def clean_inhibition_pct(self):
        return _checked(clean_inhibition, self.cleaned_data["inhibition_pct"])


class LaboratoryForm(forms.Form):
    laboratory = forms.CharField(label=_("Laboratory"), max_length=120)
    report_number = forms.CharField(label=_("Report number"), max_length=60)
    outcome = forms.ChoiceField(
        label=_("Finding"), choices=LaboratoryOutcome.choices, widget=forms.RadioSelect
    )


class EntryCheckSettingForm(forms.Form):
    entry_check_required = forms.BooleanField(
        label=_("Only lots checked in at the gate may trade at the counter"), required=False
    )
