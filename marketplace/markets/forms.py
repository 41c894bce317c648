"""Forms of the operator's counter: they parse what the operator typed; the services
(marketplace/markets/services.py) hold the rules and refuse with a field error."""

import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.phone import normalize_phone
from common.forms import BilingualChoiceField, DateInput
from farms.models import HarvestLot, Product
from settlement.choices import FundingMethod

from .choices import TraderKind
from .models import CARD_NUMBER, Trader
from .selectors.counter import lot_by_code

MAX_INPUT_DIGITS = 16  # parsing only; the services refuse too many decimals with a message
CARD_ATTRS = {"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"}


def _decimal_field(label, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=MAX_INPUT_DIGITS,
        decimal_places=6,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
        **kwargs,
    )


def _card_field(label, **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=19, widget=forms.TextInput(attrs=CARD_ATTRS), **kwargs
    )


def _new_key() -> str:
    return uuid.uuid4().hex


class IdempotentForm(forms.Form):
    """A hidden key made when the form is first shown: a double click or a resubmit of the
    same form records one thing only."""

    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["idempotency_key"].initial = _new_key

    def renew_key(self) -> None:
        """A fresh key, for a form shown again after its key was spent on other content."""
        data = self.data.copy()
        data["idempotency_key"] = _new_key()
        self.data = data


class TradeForm(IdempotentForm):
    """One weighing at the counter: who buys, who sells, what, how much, at what price."""

    buyer_card = _card_field(_("Buyer's card number"))
    seller_card = _card_field(_("Seller's card number"), required=False)
    seller = forms.ModelChoiceField(
        label=_("or pick the seller"),
        queryset=Trader.objects.none(),
        required=False,
        empty_label=_("Pick a seller…"),
    )
    product = BilingualChoiceField(
        label=_("Product"), queryset=Product.objects.none(), to_field_name="code"
    )
    lot = forms.CharField(
        label=_("Lot code (optional)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    gross_kg = _decimal_field(_("Gross weight (kg)"))
    tare_kg = _decimal_field(_("Tare (kg)"), required=False, initial=Decimal("0"))
    unit_price = _decimal_field(_("Price per kg (yuan)"))

    # The services name this form's fields; a spent key is said above the form.
    SERVICE_FIELDS = {"idempotency_key": None}

    def __init__(self, *args, sellers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seller"].queryset = sellers
        self.fields["product"].queryset = Product.objects.filter(is_active=True)

    def clean_lot(self) -> HarvestLot | None:
        code = self.cleaned_data["lot"].strip()
        if not code:
            return None
        lot = lot_by_code(code)
        if lot is None:
            raise forms.ValidationError(_("No harvest lot has this code."))
        return lot

    def clean(self):
        data = super().clean()
        card = (data.get("seller_card") or "").strip()
        if not card and data.get("seller") is not None:
            card = data["seller"].card_number
        if not card and "seller_card" not in self.errors:
            self.add_error("seller_card", _("Enter the seller's card number or pick the seller."))
        data["seller_card"] = card
        return data

    def trade_arguments(self) -> dict:
        """The arguments settle_trade and trade_preview take."""
        data = self.cleaned_data
        return {
            "buyer_card": data["buyer_card"].strip(),
            "seller_card": data["seller_card"],
            "product": data["product"],
            "lot": data["lot"],
            "gross_kg": data["gross_kg"],
            "tare_kg": data["tare_kg"] if data["tare_kg"] is not None else Decimal("0"),
            "unit_price": data["unit_price"],
        }


class CardPaymentForm(IdempotentForm):
    """Money paid onto a buyer's card, or paid back from it."""

    card_number = _card_field(_("Card number"))
    amount = _decimal_field(_("Amount (yuan)"))
    method = forms.ChoiceField(
        label=_("Method"),
        choices=FundingMethod.choices,
        initial=FundingMethod.CASH,
        widget=forms.RadioSelect,
    )

    SERVICE_FIELDS = {"idempotency_key": None}

    def payment_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "card_number": data["card_number"].strip(),
            "amount": data["amount"],
            "method": data["method"],
        }


class ReverseTradeForm(IdempotentForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the trade; the buyer and the seller see it on their receipt."),
    )


class TraderForm(forms.Form):
    """A seller or buyer registered at the market, with a card; optionally the platform
    user (a farmer, a buyer) who will see her statements, found by mobile number."""

    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=TraderKind.choices, widget=forms.RadioSelect)
    card_number = _card_field(_("Card number"), validators=[CARD_NUMBER])
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    user_phone = forms.CharField(
        label=_("Platform user's mobile number (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("Links the trader to her FreshChain account, to see receipts and statements."),
    )

    def clean_card_number(self) -> str:
        return self.cleaned_data["card_number"].strip()

    def clean_user_phone(self) -> User | None:
        raw = self.cleaned_data["user_phone"].strip()
        if not raw:
            return None
        phone = normalize_phone(raw)
        user = User.objects.filter(phone=phone, is_active=True).first() if phone else None
        if user is None:
            raise forms.ValidationError(_("No FreshChain user has this mobile number."))
        return user

    def trader_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "name": data["name"].strip(),
            "card_number": data["card_number"],
            "phone": data["phone"].strip(),
            "user": data["user_phone"],
        }


class TradeDayForm(forms.Form):
    date = forms.DateField(label=_("Day"), required=False, widget=DateInput)


class DeclineRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the request; the operator who made it sees it."),
    )


class DrawerCountForm(forms.Form):
    """The cash counted in a drawer at the end of the day; a supervisor picks whose."""

    operator = forms.ModelChoiceField(
        label=_("Operator"), queryset=User.objects.none(), required=False, empty_label=None
    )
    counted = _decimal_field(_("Cash counted (yuan)"))

    SERVICE_FIELDS: dict = {}

    def __init__(self, *args, operators=None, **kwargs):
        super().__init__(*args, **kwargs)
        if operators is None:
            del self.fields["operator"]
        else:
            self.fields["operator"].queryset = operators


class CardApplicationForm(forms.Form):
    """A restaurant's or a shop's application for a buyer's card (the service checks it)."""

    business_name = forms.CharField(
        label=_("Business name"),
        max_length=120,
        help_text=_("As on the business licence; the card is issued under this name."),
    )
    licence_number = forms.CharField(
        label=_("Business licence number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        help_text=_(
            "The 18-character unified social credit code (统一社会信用代码), or the 15-digit "
            "number of an older licence."
        ),
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=60)
    contact_phone = forms.CharField(
        label=_("Contact mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class IssueCardForm(forms.Form):
    card_number = _card_field(
        _("Card number"),
        help_text=_("The number printed on the card you hand her, from the market's card stock."),
    )


class DeclineCardApplicationForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The applicant reads it."),
    )
