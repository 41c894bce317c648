"""The consumer's shop through the API: the catalogue of the warehouse serving a location,
placing an order (Idempotency-Key header), her orders with their status and courier position,
and cancelling.

Who may see an order is the selector's business (another's order is a 404); who may take a
step is the service's (403), and a step the state does not allow is a 409.
"""

from decimal import Decimal

from django.urls import path, reverse
from django.utils.timezone import now
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.choices import Role
from accounts.permissions import HasRole, get_visible_or_404
from common.api.schema import DECIMAL_STRING
from settlement.selectors import wallet_balance

from ..downloads import proof_photo_response
from ..exceptions import DeliveryError
from ..rules import current_rules
from ..selectors import shop as shop_selectors
from ..selectors.history import order_history, order_reader
from ..services import orders as order_services
from .history import DeliveryHistoryStepOutputSerializer

KG_DIGITS = 12
KG_PLACES = 3
ConsumerOnly = HasRole.of(Role.CONSUMER)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A retry with the same key returns the first order; nothing is taken twice.",
)


@extend_schema_field(DECIMAL_STRING)
class ShopMoneyAmountField(serializers.Field):
    """A Money's amount as the string the database holds ("12.50"); output only (CNY)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        return str(value.amount)


# --- Input -------------------------------------------------------------------------------


def _coordinate(limit: int, **kwargs) -> serializers.FloatField:
    return serializers.FloatField(min_value=-limit, max_value=limit, **kwargs)


class ShopLocationInputSerializer(serializers.Serializer):
    longitude = _coordinate(180, help_text=gettext_lazy("WGS 84 degrees."))
    latitude = _coordinate(90, help_text=gettext_lazy("WGS 84 degrees."))


class DeliveryOrderLineInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    quantity_kg = serializers.DecimalField(
        max_digits=KG_DIGITS,
        decimal_places=KG_PLACES,
        min_value=Decimal("0.001"),
        error_messages={"min_value": gettext_lazy("Enter a quantity above zero.")},
    )


class DeliveryOrderPlaceInputSerializer(ShopLocationInputSerializer):
    address = serializers.CharField(max_length=order_services.MAX_ADDRESS)
    lines = DeliveryOrderLineInputSerializer(
        many=True, allow_empty=False, max_length=order_services.MAX_LINES
    )
    idempotency_key = serializers.CharField(
        max_length=order_services.MAX_KEY,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("Or the Idempotency-Key header: a retry returns the first order."),
    )


class DeliveryOrderCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


# --- Output ------------------------------------------------------------------------------


class ShopWarehouseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    address = serializers.CharField()
    promised_minutes = serializers.IntegerField()
    opens_at = serializers.TimeField(format="%H:%M")
    closes_at = serializers.TimeField(format="%H:%M")
    open_now = serializers.SerializerMethodField()

    def get_open_now(self, warehouse) -> bool:
        return shop_selectors.is_open_now(warehouse)


class ShopCatalogueItemOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    name = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    price_per_kg = ShopMoneyAmountField()
    available_kg = serializers.DecimalField(max_digits=KG_DIGITS, decimal_places=KG_PLACES)
    earliest_expiry = serializers.DateTimeField()
    freshest_expiry = serializers.DateTimeField()
    shelf_life_days = serializers.DecimalField(max_digits=6, decimal_places=1)


class ShopOutputSerializer(serializers.Serializer):
    warehouse = ShopWarehouseOutputSerializer()
    catalogue = ShopCatalogueItemOutputSerializer(many=True)
    wallet_balance = ShopMoneyAmountField()
    currency = serializers.CharField()


class DeliveryOrderLineOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    name = serializers.SerializerMethodField()
    quantity_kg = serializers.DecimalField(max_digits=KG_DIGITS, decimal_places=KG_PLACES)
    price_per_kg = ShopMoneyAmountField()
    amount = ShopMoneyAmountField()

    def get_name(self, line) -> str:
        return shop_selectors.product_name(line.product)


class DeliveryOrderStepOutputSerializer(serializers.Serializer):
    step = serializers.CharField()
    label = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)
    done = serializers.BooleanField()


class DeliveryOrderCourierOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    longitude = serializers.FloatField(allow_null=True)
    latitude = serializers.FloatField(allow_null=True)
    at = serializers.DateTimeField(allow_null=True)


class DeliveryOrderPlaceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False)
    name = serializers.CharField(required=False)
    address = serializers.CharField(required=False)
    longitude = serializers.FloatField()
    latitude = serializers.FloatField()


class DeliveryOrderOutputSerializer(serializers.Serializer):
    """An order with its status; the delivery code only for the order's own consumer."""

    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    total = ShopMoneyAmountField()
    currency = serializers.SerializerMethodField()
    placed_at = serializers.DateTimeField()
    promised_by = serializers.DateTimeField()
    expected_at = serializers.SerializerMethodField(
        help_text="When the order should reach the door, by the warehouse's couriers' learned "
        "speed (null once delivered or cancelled); the promise is promised_by."
    )
    is_late = serializers.SerializerMethodField()
    delivery_code = serializers.SerializerMethodField()
    warehouse = serializers.SerializerMethodField()
    home = serializers.SerializerMethodField()
    lines = DeliveryOrderLineOutputSerializer(many=True, source="lines.all")
    steps = serializers.SerializerMethodField()
    courier = serializers.SerializerMethodField()
    photo_url = serializers.SerializerMethodField(
        help_text="The courier's photo of the delivery at the door, when he left one."
    )

    def _status(self, order) -> dict:
        cache = self.context.setdefault("status_cache", {})
        if order.pk not in cache:
            # One travel model per warehouse for the whole list (its learned speed).
            rules = self.context.setdefault("rules_cache", {})
            if order.warehouse_id not in rules:
                rules[order.warehouse_id] = current_rules(warehouse=order.warehouse, at=now())
            cache[order.pk] = shop_selectors.order_status(order, rules=rules[order.warehouse_id])
        return cache[order.pk]

    def get_currency(self, order) -> str:
        return order.total.currency.code

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_expected_at(self, order) -> str | None:
        expected = self._status(order)["expected_at"]
        return serializers.DateTimeField().to_representation(expected) if expected else None

    def get_is_late(self, order) -> bool:
        return self._status(order)["is_late"]

    def get_delivery_code(self, order) -> str | None:
        request = self.context.get("request")
        return order.delivery_code if request and request.user.pk == order.consumer_id else None

    @extend_schema_field(DeliveryOrderPlaceOutputSerializer)
    def get_warehouse(self, order) -> dict:
        return self._status(order)["warehouse"]

    @extend_schema_field(DeliveryOrderPlaceOutputSerializer)
    def get_home(self, order) -> dict:
        return self._status(order)["home"]

    @extend_schema_field(DeliveryOrderStepOutputSerializer(many=True))
    def get_steps(self, order) -> list:
        return DeliveryOrderStepOutputSerializer(self._status(order)["steps"], many=True).data

    @extend_schema_field(DeliveryOrderCourierOutputSerializer(allow_null=True))
    def get_courier(self, order) -> dict | None:
        courier = self._status(order)["courier"]
        return DeliveryOrderCourierOutputSerializer(courier).data if courier else None

    def get_photo_url(self, order) -> str | None:
        if not order.proof_photo:
            return None
        return reverse("delivery-order-photo", args=[order.pk])


class DeliveryOrderDetailOutputSerializer(DeliveryOrderOutputSerializer):
    """One order with its history (`events`, oldest first): who moved it, when and why, as
    the caller may see them."""

    events = serializers.SerializerMethodField()

    @extend_schema_field(DeliveryHistoryStepOutputSerializer(many=True))
    def get_events(self, order) -> list:
        request = self.context.get("request")
        user = request.user if request else None
        steps = order_history(order, reader=order_reader(user, order))
        return DeliveryHistoryStepOutputSerializer(steps, many=True).data


# --- Views --------------------------------------------------------------------------------


class ShopView(APIView):
    """The warehouse serving a location and what it sells now; outside every zone a 400 on
    "location". Consumers only."""

    permission_classes = [IsAuthenticated, ConsumerOnly]

    @extend_schema(parameters=[ShopLocationInputSerializer], responses=ShopOutputSerializer)
    def get(self, request):
        params = ShopLocationInputSerializer(data=request.query_params)
        if not params.is_valid():
            raise DeliveryError(
                _("Give your location as longitude and latitude (WGS 84 degrees)."),
                field="location",
            )
        warehouse = shop_selectors.serving_warehouse(**params.validated_data)
        balance = wallet_balance(request.user)
        body = {
            "warehouse": warehouse,
            "catalogue": shop_selectors.catalogue(warehouse),
            "wallet_balance": balance,
            "currency": balance.currency.code,
        }
        return Response(ShopOutputSerializer(body).data)


class DeliveryOrderViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Delivery orders the user may see: a consumer her own, a warehouse's staff that
    warehouse's; newest first. Placing is for consumers."""

    serializer_class = DeliveryOrderOutputSerializer
    filter_backends = []

    def get_serializer_class(self):
        if self.action == "list":
            return DeliveryOrderOutputSerializer
        return DeliveryOrderDetailOutputSerializer

    def get_permissions(self):
        if self.action == "create":
            return [IsAuthenticated(), ConsumerOnly()]
        return [IsAuthenticated()]

    def get_queryset(self):
        return shop_selectors.orders_visible_to(self.request.user).prefetch_related(
            "lines__product"
        )

    @extend_schema(
        request=DeliveryOrderPlaceInputSerializer,
        responses={201: DeliveryOrderDetailOutputSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request):
        """Order from the warehouse serving the location: stock is reserved and the total
        paid from the wallet at once."""
        params = DeliveryOrderPlaceInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        key = request.headers.get("Idempotency-Key") or data.get("idempotency_key", "")
        order = order_services.place_order(
            consumer=request.user,
            longitude=data["longitude"],
            latitude=data["latitude"],
            address=data["address"],
            lines=[(line["product_id"], line["quantity_kg"]) for line in data["lines"]],
            idempotency_key=key,
        )
        return self._render(order, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=DeliveryOrderCancelInputSerializer, responses=DeliveryOrderDetailOutputSerializer
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a placed order (or a packed one no courier has taken): the stock goes back
        and the wallet is refunded."""
        order = get_visible_or_404(self.get_queryset(), pk=pk)
        params = DeliveryOrderCancelInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        order = order_services.cancel_order(
            by=request.user, order_id=order.pk, reason=params.validated_data.get("reason", "")
        )
        return self._render(order)

    def _render(self, order, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=order.pk)
        serializer = DeliveryOrderDetailOutputSerializer(
            fresh, context=self.get_serializer_context()
        )
        return Response(serializer.data, status=status_code)


class DeliveryOrderPhotoApi(APIView):
    """The courier's photo of the delivery at the door (JPEG): for the order's consumer, its
    warehouse's staff and the courier of its task; a 404 for anyone else, as for an order
    without a photo."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: None})
    def get(self, request, pk: int):
        order = get_visible_or_404(shop_selectors.proof_photos_visible_to(request.user), pk=pk)
        return proof_photo_response(order)


_orders = DeliveryOrderViewSet.as_view({"get": "list", "post": "create"})
_order = DeliveryOrderViewSet.as_view({"get": "retrieve"})
_cancel = DeliveryOrderViewSet.as_view({"post": "cancel"})

urlpatterns = [
    path("shop/", ShopView.as_view(), name="delivery-shop"),
    path("orders/", _orders, name="delivery-order-list"),
    path("orders/<int:pk>/", _order, name="delivery-order-detail"),
    path("orders/<int:pk>/cancel/", _cancel, name="delivery-order-cancel"),
    path("orders/<int:pk>/photo/", DeliveryOrderPhotoApi.as_view(), name="delivery-order-photo"),
]
