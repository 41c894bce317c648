"""Forms of the certificate pages (the gate's forms live in forms_gate.py)."""

import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from common.forms import DateInput

from .choices import CertificateBasis
from .labels import DEFAULT_SHEET_COPIES, MAX_SHEET_COPIES


class CertificateForm(forms.Form):
    """The farmer's certificate form, prefilled from the lot; quantities in kg, as the
    certificate prints them."""

    quantity_kg = forms.DecimalField(
        label=_("Quantity (kg)"), max_digits=12, decimal_places=3, min_value=Decimal("0.001")
    )
    product_name = forms.CharField(label=_("Product"), max_length=120)
    origin = forms.CharField(label=_("Origin"), max_length=200)
    producer_name = forms.CharField(label=_("Producer"), max_length=120)
    producer_contact = forms.CharField(
        label=_("Contact"),
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    issued_on = forms.DateField(label=_("Issued on"), widget=DateInput)
    no_banned_substances = forms.BooleanField(
        label=_("No banned pesticides, veterinary drugs or illegal additives were used"),
        required=False,
    )
    residues_within_limits = forms.BooleanField(
        label=_("Routine pesticide and veterinary drug residues are within the national limits"),
        required=False,
    )
    truthful = forms.BooleanField(
        label=_("I am responsible for the truth of this commitment"), required=False
    )
    basis = forms.ChoiceField(
        label=_("Basis of the commitment"),
        choices=CertificateBasis.choices,
        widget=forms.RadioSelect(attrs={"data-certificate-basis": ""}),
    )
    test_laboratory = forms.CharField(label=_("Testing laboratory"), max_length=120, required=False)
    test_report_number = forms.CharField(
        label=_("Test report number"), max_length=60, required=False
    )
    tested_on = forms.DateField(label=_("Tested on"), required=False, widget=DateInput)
    # A resent form (a lost connection, a double tap) carries the same key: one certificate.
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    COMMITMENTS = ("no_banned_substances", "residues_within_limits", "truthful")
    TEST_FIELDS = ("test_laboratory", "test_report_number", "tested_on")

    def __init__(self, *args, producer_names=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity_kg"].widget.attrs.update({"inputmode": "decimal", "step": "0.001"})
        self.fields["idempotency_key"].initial = lambda: uuid.uuid4().hex
        if producer_names:
            self.fields["producer_name"].widget.attrs["list"] = "producer-names"
        self.producer_names = producer_names

    def main_fields(self):
        skipped = {*self.COMMITMENTS, "basis", *self.TEST_FIELDS, "idempotency_key"}
        return [self[name] for name in self.fields if name not in skipped]

    def commitment_fields(self):
        return [self[name] for name in self.COMMITMENTS]

    def test_fields(self):
        return [self[name] for name in self.TEST_FIELDS]

    def service_arguments(self) -> dict:
        return dict(self.cleaned_data)


class CertificateRevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason for revoking"), max_length=300)


class SheetCopiesForm(forms.Form):
    copies = forms.IntegerField(
        label=_("Labels on A4 sheets"),
        min_value=1,
        max_value=MAX_SHEET_COPIES,
        initial=DEFAULT_SHEET_COPIES,
    )
