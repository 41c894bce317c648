import uuid
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from common import geometry
from common.dates import business_today
from common.exceptions import InvalidBoundary, InvalidLocation
from common.forms import BilingualChoiceField, DateInput
from common.units import WeightUnit, to_kg

from .choices import Certification, Grade, PesticideTestResult, ProductCategory
from .credit_codes import normalize_credit_code, validate_credit_code


class CatalogueSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=60)
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("All categories")), *ProductCategory.choices],
    )


class HarvestLotForm(forms.Form):
    """The farmer's record-harvest form; the quantity is in her own unit (kg or 斤)."""

    product = BilingualChoiceField(label=_("Product"), queryset=None, to_field_name="code")
    farm = forms.ModelChoiceField(label=_("Farm"), queryset=None)
    harvest_date = forms.DateField(label=_("Harvest date"), widget=DateInput)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=12, decimal_places=3, min_value=Decimal("0.001")
    )
    grade = forms.ChoiceField(label=_("Grade"), choices=Grade.choices, initial=Grade.FIRST)
    certifications = forms.MultipleChoiceField(
        label=_("Certifications"),
        choices=Certification.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    pesticide_test_result = forms.ChoiceField(
        label=_("Pesticide residue test"),
        choices=PesticideTestResult.choices,
        initial=PesticideTestResult.NOT_TESTED,
    )
    tested_on = forms.DateField(label=_("Tested on"), required=False, widget=DateInput)
    # Made when the form is shown (or by the phone for a draft kept offline): sent twice, the
    # lot is recorded once.
    idempotency_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    # Service argument → form field, for errors the service reports.
    SERVICE_FIELDS = {"quantity_kg": "quantity"}

    def __init__(self, *args, user, products, farms, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["product"].queryset = products
        self.fields["farm"].queryset = farms
        if len(farms) == 1:
            self.fields["farm"].initial = farms[0].pk
        self.fields["harvest_date"].initial = business_today
        self.fields["idempotency_key"].initial = lambda: uuid.uuid4().hex
        unit = WeightUnit(user.weight_unit)
        self.fields["quantity"].label = _("Quantity (%(unit)s)") % {"unit": unit.label}
        self.fields["quantity"].widget.attrs.update({"inputmode": "decimal", "step": "0.001"})

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "product": data["product"],
            "farm": data["farm"],
            "harvest_date": data["harvest_date"],
            "quantity_kg": to_kg(self.user.weight_unit, data["quantity"]),
            "grade": data["grade"],
            "certifications": data["certifications"],
            "pesticide_test_result": data["pesticide_test_result"],
            "tested_on": data["tested_on"],
            "idempotency_key": data["idempotency_key"],
        }


class FarmForm(forms.Form):
    """A farm's name and its boundary, drawn on the map or pasted as GeoJSON."""

    name = forms.CharField(label=_("Farm name"), max_length=120)
    farmer = forms.ModelChoiceField(label=_("Farmer"), queryset=None, required=False)
    boundary = forms.CharField(
        label=_("Boundary (GeoJSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=_(
            "Draw the field on the map, or paste a GeoJSON polygon in WGS 84 "
            "(longitude, latitude). Coordinates copied from Chinese map apps are GCJ-02 "
            "and sit a few hundred metres off."
        ),
    )
    location = forms.CharField(
        label=_("Location (longitude,latitude)"),
        required=False,
        max_length=60,
        help_text=_("Optional, WGS 84; a point inside the boundary is used when empty."),
    )

    def __init__(self, *args, farmers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if farmers is None:
            del self.fields["farmer"]
        else:
            self.fields["farmer"].queryset = farmers
            self.fields["farmer"].required = True

    def clean_boundary(self):
        text = self.cleaned_data["boundary"].strip()
        if not text:
            return None
        try:
            return geometry.parse_boundary(text)
        except InvalidBoundary as exc:
            raise forms.ValidationError(str(exc.message)) from exc

    def clean_location(self):
        text = self.cleaned_data["location"].strip()
        if not text:
            return None
        try:
            return geometry.parse_location(text)
        except InvalidLocation as exc:
            raise forms.ValidationError(str(exc.message)) from exc


class MemberForm(forms.Form):
    """A manager invites a mobile number; its holder gives her own name when she signs up."""

    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )


class CooperativeApplicationForm(forms.Form):
    """A co-operative's application; the service checks every field again (the API's door)."""

    name = forms.CharField(label=_("Co-operative name"), max_length=120)
    registration_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=40,
        help_text=_("18 characters, on the business licence (统一社会信用代码)."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    province = forms.CharField(label=_("Province"), max_length=40)
    region = forms.CharField(label=_("City and county"), max_length=80)
    contact_name = forms.CharField(label=_("Contact name"), max_length=80)
    contact_phone = forms.CharField(
        label=_("Contact mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    licence = forms.FileField(
        label=_("Business licence photo"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def __init__(self, *args, licence_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["licence"].required = licence_required
        if not licence_required:
            self.fields["licence"].help_text = _("Leave empty to keep the photo you sent.")
        else:
            self.fields["licence"].help_text = _(
                "A photo of the whole licence, at most %(mb)s MB."
            ) % {"mb": f"{settings.COOPERATIVE_LICENCE_MAX_BYTES / (1024 * 1024):g}"}

    def clean_registration_code(self):
        code = normalize_credit_code(self.cleaned_data["registration_code"])
        validate_credit_code(code)
        return code


class ApplicationReviewForm(forms.Form):
    DECISIONS = [
        ("approve", _("Approve: create the co-operative")),
        ("return", _("Ask for changes")),
        ("decline", _("Decline")),
    ]
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason the applicant reads"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to ask for changes or to decline."),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") in ("return", "decline") and not data.get("reason", "").strip():
            self.add_error("reason", _("Tell the applicant why (at most 1000 characters)."))
        return data
