"""The warehouse manager's API, under /api/delivery/warehouse/: stock with its shelf life,
receiving, write-offs and counts, open orders with their late risk, packing, dispatching an
unassigned task again, and the day's summary.

Warehouse managers only (others 403, anonymous 401). A manager works on her own warehouse
(`warehouse_of`); a platform admin picks one with `?warehouse=<id>` (the first by name
otherwise). Another warehouse's order or task in the URL is not found (404); another's stock
lot, order line, trade or lot named in the body is refused on its field, "Not found, or not
yours." (400), exactly as a missing id; a manager with no warehouse gets 404 everywhere. Refusals of the services come back
as `{field: [message]}` with 400, or 409 for a delivery received twice.
"""

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.choices import Role
from accounts.permissions import HasRole, get_visible_or_404
from common.exceptions import get_usable_or_refuse

from ..models import FrontWarehouse, WriteOffReason
from ..selectors import warehouse as selectors
from ..services import dispatch
from ..services import stock as stock_services

WAREHOUSE_PARAMETER = OpenApiParameter(
    "warehouse",
    int,
    OpenApiParameter.QUERY,
    required=False,
    description="A platform admin's choice of warehouse; a manager always gets her own.",
)


class WarehouseQuerySerializer(serializers.Serializer):
    warehouse = serializers.IntegerField(required=False, min_value=1)


def _quantity_field(**extra) -> serializers.CharField:
    # Read as text: the service cleans weights for the API and the pages alike, with the
    # same messages.
    return serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=30, **extra
    )


# --- Output ---------------------------------------------------------------------------------


class ManagedWarehouseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    promised_minutes = serializers.IntegerField()


class WarehouseLotStockOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="stock_lot.pk")
    lot_id = serializers.IntegerField(source="stock_lot.lot_id")
    lot_code = serializers.CharField(source="stock_lot.lot.lot_code")
    quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    received_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    remaining_hours = serializers.IntegerField()
    remaining_days = serializers.DecimalField(max_digits=8, decimal_places=1)
    near_expiry = serializers.BooleanField(source="is_near_expiry")
    expired = serializers.BooleanField(source="is_expired")
    is_blocked = serializers.SerializerMethodField(
        help_text="Its lot is held everywhere (a recall): not picked for orders."
    )
    held_reason = serializers.CharField(allow_null=True, help_text="Why it is blocked.")

    def get_is_blocked(self, entry) -> bool:
        return bool(entry.held_reason)


class WarehouseProductStockOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(source="product.pk")
    product_code = serializers.CharField(source="product.code")
    product_name_zh = serializers.CharField(source="product.name_zh")
    product_name_en = serializers.CharField(source="product.name_en")
    quantity_kg = serializers.DecimalField(max_digits=14, decimal_places=3)
    near_expiry = serializers.BooleanField(source="has_near_expiry")
    lots = WarehouseLotStockOutputSerializer(many=True)


class WarehouseStockOutputSerializer(serializers.Serializer):
    warehouse = ManagedWarehouseOutputSerializer()
    products = WarehouseProductStockOutputSerializer(many=True)


class WarehouseReceiptOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stock_lot = serializers.IntegerField(source="stock_lot_id")
    lot_id = serializers.IntegerField(source="stock_lot.lot_id")
    quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    stock_quantity_kg = serializers.DecimalField(
        source="stock_lot.quantity_kg", max_digits=12, decimal_places=3
    )
    order_line = serializers.IntegerField(source="order_line_id", allow_null=True)
    trade = serializers.IntegerField(source="trade_id", allow_null=True)
    received_at = serializers.DateTimeField()


class WarehouseWriteOffOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stock_lot = serializers.IntegerField(source="stock_lot_id")
    quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    reason = serializers.CharField()
    reason_label = serializers.CharField(source="get_reason_display")
    note = serializers.CharField()
    stock_quantity_kg = serializers.DecimalField(
        source="stock_lot.quantity_kg", max_digits=12, decimal_places=3
    )
    recorded_at = serializers.DateTimeField()


class WarehouseCountOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stock_lot = serializers.IntegerField(source="stock_lot_id")
    expected_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    counted_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    difference_kg = serializers.SerializerMethodField()
    stock_quantity_kg = serializers.SerializerMethodField()
    counted_at = serializers.DateTimeField()

    def get_difference_kg(self, count) -> str:
        return f"{count.counted_kg - count.expected_kg:.3f}"

    def get_stock_quantity_kg(self, count) -> str:
        count.stock_lot.refresh_from_db(fields=["quantity_kg"])
        return f"{count.stock_lot.quantity_kg:.3f}"


class WarehouseOrderLineOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product_name_zh = serializers.CharField(source="product.name_zh")
    quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3)


class WarehouseOpenOrderOutputSerializer(serializers.Serializer):
    """An order as the warehouse sees it: never the consumer's delivery code."""

    id = serializers.IntegerField(source="order.pk")
    number = serializers.CharField(source="order.number")
    status = serializers.CharField(source="order.status")
    status_label = serializers.CharField(source="order.get_status_display")
    address = serializers.CharField(source="order.address")
    placed_at = serializers.DateTimeField(source="order.placed_at")
    promised_by = serializers.DateTimeField(source="order.promised_by")
    minutes_left = serializers.IntegerField()
    travel_minutes = serializers.IntegerField()
    risk = serializers.ChoiceField(
        choices=[selectors.LateRisk.LATE, selectors.LateRisk.AT_RISK, selectors.LateRisk.ON_TIME]
    )
    risk_label = serializers.CharField()
    task = serializers.IntegerField(source="order.task_id", allow_null=True)
    needs_packing = serializers.BooleanField(
        source="order.needs_packing",
        help_text="Not packed yet: placed, or assigned to a courier asked ahead of the end of "
        "packing (he is on his way). POST …/pack/ is allowed.",
    )
    lines = WarehouseOrderLineOutputSerializer(source="order.lines.all", many=True)


class WarehouseTaskOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    courier = serializers.IntegerField(source="courier_id", allow_null=True)
    orders = serializers.SerializerMethodField()

    def get_orders(self, task) -> list[int]:
        return sorted(order.pk for order in task.orders.all())


class WarehouseOnTimeOutputSerializer(serializers.Serializer):
    day = serializers.DateField()
    delivered = serializers.IntegerField()
    on_time = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True)


class WarehouseReasonLossOutputSerializer(serializers.Serializer):
    reason = serializers.CharField()
    label = serializers.CharField()
    quantity_kg = serializers.DecimalField(max_digits=14, decimal_places=3)
    rate = serializers.DecimalField(max_digits=10, decimal_places=4, allow_null=True)


class WarehouseLossRateOutputSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    received_kg = serializers.DecimalField(max_digits=14, decimal_places=3)
    written_off_kg = serializers.DecimalField(max_digits=14, decimal_places=3)
    rate = serializers.DecimalField(max_digits=10, decimal_places=4, allow_null=True)
    by_reason = WarehouseReasonLossOutputSerializer(many=True)


class WarehouseSummaryOutputSerializer(serializers.Serializer):
    warehouse = ManagedWarehouseOutputSerializer()
    now = serializers.DateTimeField()
    on_time = WarehouseOnTimeOutputSerializer()
    loss_rate = WarehouseLossRateOutputSerializer(source="losses")
    open_orders = serializers.IntegerField(source="open_count")
    late = serializers.IntegerField(source="late_count")
    at_risk = serializers.IntegerField(source="at_risk_count")
    unassigned_tasks = serializers.SerializerMethodField()

    def get_unassigned_tasks(self, summary) -> int:
        return len(summary.unassigned_tasks)


# --- Input ----------------------------------------------------------------------------------


SOURCES = ("order_line", "trade", "lot", "lot_code")


class WarehouseReceiptInputSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(required=False, allow_null=True)
    trade = serializers.IntegerField(required=False, allow_null=True)
    lot = serializers.IntegerField(
        required=False, allow_null=True, help_text=gettext_lazy("A harvest lot's id.")
    )
    lot_code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text=gettext_lazy("A harvest lot's code."),
    )
    quantity_kg = _quantity_field(help_text=gettext_lazy("Kilograms received, at most 3 decimals."))

    def validate(self, data):
        named = [name for name in SOURCES if data.get(name) not in (None, "")]
        if len(named) != 1:
            raise serializers.ValidationError(
                {"order_line": [_("Name one order line, one trade or one lot.")]}
            )
        return data


class WarehouseWriteOffInputSerializer(serializers.Serializer):
    stock_lot = serializers.IntegerField(
        error_messages={
            "required": gettext_lazy("Choose a stock lot."),
            "null": gettext_lazy("Choose a stock lot."),
        }
    )
    quantity_kg = _quantity_field()
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text=", ".join(WriteOffReason.values)
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class WarehouseCountInputSerializer(serializers.Serializer):
    stock_lot = serializers.IntegerField(
        error_messages={
            "required": gettext_lazy("Choose a stock lot."),
            "null": gettext_lazy("Choose a stock lot."),
        }
    )
    counted_kg = _quantity_field()


# --- Views ----------------------------------------------------------------------------------


class WarehouseApi(APIView):
    """Warehouse managers only; `self.warehouse()` is the one the manager runs."""

    permission_classes = [IsAuthenticated, HasRole.of(Role.WAREHOUSE_MANAGER)]

    def warehouse(self) -> FrontWarehouse:
        if not hasattr(self, "_warehouse"):
            query = WarehouseQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)  # ?warehouse=null is a 400, not "the first"
            self._warehouse = selectors.warehouse_of(
                self.request.user, warehouse_id=query.validated_data.get("warehouse")
            )
        if self._warehouse is None:
            raise NotFound(_("You do not run a warehouse."))
        return self._warehouse


class StockApi(WarehouseApi):
    @extend_schema(parameters=[WAREHOUSE_PARAMETER], responses=WarehouseStockOutputSerializer)
    def get(self, request):
        """The warehouse's stock by product and lot, earliest expiry first, with the shelf
        life left and a near-expiry flag (under a day)."""
        warehouse = self.warehouse()
        products = selectors.stock_view(warehouse, timezone.now())
        return Response(
            WarehouseStockOutputSerializer({"warehouse": warehouse, "products": products}).data
        )


class ReceiptApi(WarehouseApi):
    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER],
        request=WarehouseReceiptInputSerializer,
        responses={201: WarehouseReceiptOutputSerializer},
    )
    def post(self, request):
        """Receive goods: a marketplace order line or a market trade bought for this
        warehouse (each once: a second time is 409), or a harvest lot (`lot` or `lot_code`)
        brought to its site by a cold-chain shipment, already in its stock or bought for it.
        At most what was bought is received."""
        warehouse = self.warehouse()
        params = WarehouseReceiptInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        common = {
            "warehouse": warehouse,
            "quantity_kg": data.get("quantity_kg"),
            "by": request.user,
        }
        # Ids from the body: another warehouse's line, trade or lot is refused exactly as a
        # missing one (400 on the field, "Not found, or not yours.").
        if data.get("order_line") is not None:
            line = get_usable_or_refuse(
                selectors.order_lines_bought_for(warehouse),
                field="order_line",
                pk=data["order_line"],
            )
            receipt = stock_services.receive_from_order_line(order_line=line, **common)
        elif data.get("trade") is not None:
            trade = get_usable_or_refuse(
                selectors.trades_bought_for(warehouse), field="trade", pk=data["trade"]
            )
            receipt = stock_services.receive_from_trade(trade=trade, **common)
        else:
            if data.get("lot") is not None:
                field, lookup = "lot", {"pk": data["lot"]}
            else:
                field, lookup = "lot_code", {"lot_code__iexact": data["lot_code"].strip()}
            lots = selectors.lots_receivable_at(warehouse)
            lot = get_usable_or_refuse(lots, field=field, **lookup)
            receipt = stock_services.receive_lot(lot=lot, **common)
        return Response(
            WarehouseReceiptOutputSerializer(receipt).data, status=status.HTTP_201_CREATED
        )


class WriteOffApi(WarehouseApi):
    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER],
        request=WarehouseWriteOffInputSerializer,
        responses={201: WarehouseWriteOffOutputSerializer},
    )
    def post(self, request):
        """Take spoiled, damaged or expired kilograms out of a stock lot, with the reason."""
        warehouse = self.warehouse()
        params = WarehouseWriteOffInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        stock_lot = get_usable_or_refuse(
            selectors.stock_lots_of(warehouse), field="stock_lot", pk=data["stock_lot"]
        )
        write_off = stock_services.write_off_stock(
            stock_lot=stock_lot,
            quantity_kg=data.get("quantity_kg"),
            reason=data.get("reason", ""),
            note=data.get("note", ""),
            by=request.user,
        )
        return Response(
            WarehouseWriteOffOutputSerializer(write_off).data, status=status.HTTP_201_CREATED
        )


class CountApi(WarehouseApi):
    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER],
        request=WarehouseCountInputSerializer,
        responses={201: WarehouseCountOutputSerializer},
    )
    def post(self, request):
        """Record a counted quantity: a shortfall is written off as a count difference, a
        surplus raises the stock."""
        warehouse = self.warehouse()
        params = WarehouseCountInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        stock_lot = get_usable_or_refuse(
            selectors.stock_lots_of(warehouse), field="stock_lot", pk=data["stock_lot"]
        )
        count = stock_services.record_count(
            stock_lot=stock_lot, counted_kg=data.get("counted_kg"), by=request.user
        )
        return Response(WarehouseCountOutputSerializer(count).data, status=status.HTTP_201_CREATED)


class OpenOrdersApi(WarehouseApi):
    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER], responses=WarehouseOpenOrderOutputSerializer(many=True)
    )
    def get(self, request):
        """Open orders (placed, packed, assigned, picked up), the earliest promise first,
        with minutes left and the late risk: late, at_risk or on_time."""
        orders = selectors.open_orders(self.warehouse(), timezone.now())
        return Response(WarehouseOpenOrderOutputSerializer(orders, many=True).data)


class PackOrderApi(WarehouseApi):
    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER], request=None, responses=WarehouseOpenOrderOutputSerializer
    )
    def post(self, request, pk: int):
        """The order is packed (placed → packed) and dispatch looks for a courier."""
        from ..services.orders import pack_order  # the shop's area; read at call time

        warehouse = self.warehouse()
        order = get_visible_or_404(selectors.orders_of(warehouse), pk=pk)
        order = pack_order(by=request.user, order_id=order.pk)
        order = selectors.orders_of(warehouse).select_related("task__courier").get(pk=order.pk)
        entry = selectors.order_promise(order, warehouse, timezone.now())
        return Response(WarehouseOpenOrderOutputSerializer(entry).data)


class RedispatchTaskApi(WarehouseApi):
    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER], request=None, responses=WarehouseTaskOutputSerializer
    )
    def post(self, request, pk: int):
        """Look for a courier again for a task nobody took."""
        warehouse = self.warehouse()
        task = get_visible_or_404(selectors.tasks_of(warehouse), pk=pk)
        task = dispatch.redispatch(by=request.user, task_id=task.pk)
        task = selectors.tasks_of(warehouse).prefetch_related("orders").get(pk=task.pk)
        return Response(WarehouseTaskOutputSerializer(task).data)


class SummaryApi(WarehouseApi):
    @extend_schema(parameters=[WAREHOUSE_PARAMETER], responses=WarehouseSummaryOutputSerializer)
    def get(self, request):
        """Today's on-time rate (Asia/Shanghai day), the last seven days' loss rate, and how
        many orders are open, late or at risk, and tasks unassigned."""
        summary = selectors.warehouse_summary(self.warehouse(), timezone.now())
        return Response(WarehouseSummaryOutputSerializer(summary).data)


urlpatterns = [
    path("warehouse/stock/", StockApi.as_view(), name="delivery-warehouse-stock"),
    path("warehouse/receipts/", ReceiptApi.as_view(), name="delivery-warehouse-receipts"),
    path("warehouse/write-offs/", WriteOffApi.as_view(), name="delivery-warehouse-write-offs"),
    path("warehouse/counts/", CountApi.as_view(), name="delivery-warehouse-counts"),
    path("warehouse/orders/", OpenOrdersApi.as_view(), name="delivery-warehouse-orders"),
    path(
        "warehouse/orders/<int:pk>/pack/",
        PackOrderApi.as_view(),
        name="delivery-warehouse-order-pack",
    ),
    path(
        "warehouse/tasks/<int:pk>/redispatch/",
        RedispatchTaskApi.as_view(),
        name="delivery-warehouse-task-redispatch",
    ),
    path("warehouse/summary/", SummaryApi.as_view(), name="delivery-warehouse-summary"),
]
