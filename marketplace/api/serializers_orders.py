"""Order shapes of the API. Amounts are strings with a `currency` beside them (CNY)."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.phone import mask_phone
from common.api.schema import DECIMAL_STRING

from ..choices import OrderStatus
from ..models import Order, OrderEvent, OrderLine
from ..selectors.orders import OrderSide

KG_DIGITS = 12
KG_PLACES = 3
MAX_LINES = 50


def _kg_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=KG_DIGITS,
        decimal_places=KG_PLACES,
        min_value=Decimal("0.001"),
        error_messages={"min_value": _("Enter a quantity above zero.")},
        **kwargs,
    )


@extend_schema_field(DECIMAL_STRING)
class MoneyAmountField(serializers.Field):
    """A Money's amount as the string the database holds ("12.50"); output only."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        return str(value.amount)


class OrderLineInputSerializer(serializers.Serializer):
    listing_id = serializers.IntegerField(min_value=1)
    quantity_kg = _kg_field()


class OrderPlaceInputSerializer(serializers.Serializer):
    lines = OrderLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)
    weight_tolerance_pct = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        min_value=Decimal("0"),
        max_value=Decimal("50"),
        default=Decimal("5"),
        help_text=_("How far, in %, the packed weight may differ without asking you again."),
    )
    buyer_note = serializers.CharField(max_length=300, required=False, allow_blank=True)
    idempotency_key = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text=_("Or the Idempotency-Key header: a retry with it returns the first order."),
    )


class OrderReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class OrderHandOverInputSerializer(serializers.Serializer):
    packed_kg = serializers.DictField(
        child=_kg_field(),
        allow_empty=False,
        help_text=_("The packed weight of every line: {line id: kg}."),
    )

    def validate_packed_kg(self, value: dict) -> dict[int, Decimal]:
        try:
            return {int(line_id): kg for line_id, kg in value.items()}
        except (TypeError, ValueError) as exc:
            raise serializers.ValidationError(_("Use the order's line ids as keys.")) from exc


class OrderConfirmWeightsInputSerializer(serializers.Serializer):
    accept = serializers.BooleanField(
        help_text=_("true: accept the packed weights; false: send the order back to the seller.")
    )


class OrderListFilterSerializer(serializers.Serializer):
    status = serializers.MultipleChoiceField(choices=OrderStatus.choices, required=False)
    side = serializers.ChoiceField(choices=OrderSide.CHOICES, required=False)


class PartySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)
    phone = serializers.SerializerMethodField(
        help_text="Masked (138****0001): reach the other side with POST /api/orders/{id}/callback/."
    )

    def get_phone(self, user) -> str:
        return mask_phone(user.phone)


class OrderCallbackOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    about = serializers.CharField()
    created_at = serializers.DateTimeField()


class OrderLineOutputSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="listing.product.name_zh", read_only=True)
    product_en = serializers.CharField(source="listing.product.name_en", read_only=True)
    unit_price = MoneyAmountField()
    amount = MoneyAmountField()

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "listing_id",
            "product",
            "product_en",
            "quantity_kg",
            "unit_price",
            "packed_kg",
            "amount",
        ]
        read_only_fields = fields


class OrderEventOutputSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = OrderEvent
        fields = ["status", "status_label", "actor_id", "note", "at"]
        read_only_fields = fields


class OrderOutputSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    buyer = PartySerializer(read_only=True)
    seller = PartySerializer(read_only=True)
    total = MoneyAmountField()
    currency = serializers.SerializerMethodField()
    lines = OrderLineOutputSerializer(many=True, read_only=True)
    events = OrderEventOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "status",
            "status_label",
            "buyer",
            "seller",
            "weight_tolerance_pct",
            "total",
            "currency",
            "buyer_note",
            "expires_at",
            "created_at",
            "updated_at",
            "lines",
            "events",
        ]
        read_only_fields = fields

    def get_currency(self, order: Order) -> str:
        return str(order.total.currency)
