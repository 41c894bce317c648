"""Shapes of the counter's API: trades, card top-ups and withdrawals, traders, requests
waiting for a supervisor, cash drawers.

Explicit serializers.Serializer fields throughout (as the marketplace API does, for speed).
Amounts are strings ("117.60") with a `currency` beside them; weights are kg strings.
Inputs are parsed loosely (strings); the services refuse bad values with a field error.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.fields import RequiredBooleanField
from common.api.schema import DECIMAL_STRING, NULLABLE_DECIMAL_STRING
from settlement.choices import FundingMethod

from ..choices import TraderKind
from ..funding_models import FundingKind, RequestStatus

MAX_INPUT = 32  # characters of a number; the services check its value and decimals


@extend_schema_field(DECIMAL_STRING)
class MoneyAmountField(serializers.Field):
    """A Money's amount as the string the database holds ("12.50"); output only."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        return f"{value.amount:.2f}"


def _number(**kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=MAX_INPUT, **kwargs)


# --- Inputs --------------------------------------------------------------------------------


class TradeInputSerializer(serializers.Serializer):
    buyer_card = serializers.CharField(max_length=19)
    seller_card = serializers.CharField(max_length=19)
    product = serializers.CharField(max_length=40, help_text=_("The product's catalogue code."))
    lot = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text=_("A harvest lot code.")
    )
    gross_kg = _number(help_text=_("kg, at most 3 decimals"))
    tare_kg = _number(required=False, allow_blank=True, default="0")
    unit_price = _number(help_text=_("yuan per kg, at most 2 decimals"))


class TradeListFilterSerializer(serializers.Serializer):
    date = serializers.DateField(
        required=False, help_text=_("Business day (Asia/Shanghai); today when left out.")
    )


class ReverseTradeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class CardPaymentInputSerializer(serializers.Serializer):
    card_number = serializers.CharField(max_length=19)
    amount = _number(help_text=_("yuan, at most 2 decimals"))
    method = serializers.ChoiceField(choices=FundingMethod.choices)


class TraderInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=TraderKind.choices)
    card_number = serializers.CharField(max_length=19)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    user_phone = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Mobile number of the FreshChain user to link, who then sees her receipts."),
    )


class TraderActivationInputSerializer(serializers.Serializer):
    is_active = RequiredBooleanField()


class TraderListFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TraderKind.choices, required=False)


# --- Outputs -------------------------------------------------------------------------------


class MarketPartySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    card_number = serializers.CharField(read_only=True)


class TradeProductSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)


class TradeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    market = serializers.CharField(source="market.code", read_only=True)
    business_date = serializers.DateField(read_only=True)
    buyer = MarketPartySerializer(read_only=True)
    seller = MarketPartySerializer(read_only=True)
    product = TradeProductSerializer(read_only=True)
    lot = serializers.SerializerMethodField(help_text=_("The harvest lot's code, if known."))
    gross_kg = serializers.DecimalField(max_digits=10, decimal_places=3, read_only=True)
    tare_kg = serializers.DecimalField(max_digits=10, decimal_places=3, read_only=True)
    net_kg = serializers.DecimalField(max_digits=10, decimal_places=3, read_only=True)
    unit_price = MoneyAmountField()
    amount = MoneyAmountField()
    buyer_fee = MoneyAmountField()
    seller_fee = MoneyAmountField()
    buyer_pays = MoneyAmountField()
    seller_receives = MoneyAmountField()
    currency = serializers.CharField(source="amount.currency.code", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    recorded_at = serializers.DateTimeField(read_only=True)
    is_reversed = serializers.BooleanField(read_only=True)
    reversal_reason = serializers.CharField(read_only=True)
    receipt_url = serializers.SerializerMethodField()
    receipt_pdf_url = serializers.SerializerMethodField()

    def get_lot(self, trade) -> str | None:
        return trade.lot.lot_code if trade.lot_id else None

    def get_receipt_url(self, trade) -> str:
        return reverse("markets:receipt", args=[trade.pk])

    def get_receipt_pdf_url(self, trade) -> str:
        return reverse("markets:receipt_pdf", args=[trade.pk])


class CardPaymentOutputSerializer(serializers.Serializer):
    """A recorded top-up or withdrawal and the card's balance now."""

    entry = serializers.IntegerField(source="entry.pk", read_only=True)
    kind = serializers.CharField(source="entry.kind", read_only=True)
    business_date = serializers.DateField(source="entry.business_date", read_only=True)
    created_at = serializers.DateTimeField(source="entry.created_at", read_only=True)
    trader = MarketPartySerializer(read_only=True)
    amount = MoneyAmountField()
    method = serializers.CharField(read_only=True)
    balance = MoneyAmountField()
    currency = serializers.CharField(source="amount.currency.code", read_only=True)


class TraderOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    card_number = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    user = serializers.IntegerField(source="user_id", read_only=True, allow_null=True)
    balance = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text=_("What the card holds (a buyer) or the market owes (a seller)."),
    )
    currency = serializers.SerializerMethodField()

    def get_currency(self, trader) -> str:
        return "CNY"


# --- Maker–checker: requests waiting for a supervisor, cash drawers --------------------------


class FundingRequestListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=RequestStatus.choices,
        required=False,
        default=RequestStatus.PENDING,
        help_text=_("pending (the default: the queue), approved or declined"),
    )


class DeclineRequestInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class UserNameSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class FundingRequestOutputSerializer(serializers.Serializer):
    """A top-up or withdrawal request; `entry` is its journal entry once approved."""

    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=FundingKind.choices, read_only=True)
    status = serializers.ChoiceField(choices=RequestStatus.choices, read_only=True)
    trader = MarketPartySerializer(read_only=True)
    amount = MoneyAmountField()
    currency = serializers.CharField(source="amount.currency.code", read_only=True)
    method = serializers.ChoiceField(choices=FundingMethod.choices, read_only=True)
    business_date = serializers.DateField(read_only=True)
    requested_by = UserNameSerializer(read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)
    decided_by = UserNameSerializer(read_only=True, allow_null=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    reason = serializers.CharField(read_only=True)
    entry = serializers.IntegerField(source="entry_id", read_only=True, allow_null=True)


class DrawerCountInputSerializer(serializers.Serializer):
    counted = _number(help_text=_("yuan counted in the drawer, at most 2 decimals"))
    operator = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("The operator whose drawer was counted (supervisors only); you by default."),
    )
    business_date = serializers.DateField(required=False, help_text=_("Today by default."))


class DrawerListFilterSerializer(serializers.Serializer):
    date = serializers.DateField(
        required=False, help_text=_("Business day (Asia/Shanghai); today when left out.")
    )


class DrawerLineOutputSerializer(serializers.Serializer):
    """One operator's drawer on a day: expected from the ledger; counted and the difference
    once recorded (null while the count is missing)."""

    operator = UserNameSerializer(read_only=True)
    expected = MoneyAmountField()
    counted = serializers.SerializerMethodField()
    difference = serializers.SerializerMethodField()
    is_missing = serializers.BooleanField(read_only=True)
    recorded_at = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()

    @extend_schema_field(NULLABLE_DECIMAL_STRING)
    def get_counted(self, line) -> str | None:
        return None if line.count is None else f"{line.count.counted.amount:.2f}"

    @extend_schema_field(NULLABLE_DECIMAL_STRING)
    def get_difference(self, line) -> str | None:
        return None if line.count is None else f"{line.count.difference.amount:.2f}"

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_recorded_at(self, line) -> str | None:
        return None if line.count is None else line.count.recorded_at.isoformat()

    def get_currency(self, line) -> str:
        return "CNY"
