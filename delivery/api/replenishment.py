"""The replenishment API, under /api/delivery/warehouse/replenishment/.

- `GET warehouse/replenishment/` the latest plan (`for_date=` a given day; an admin picks the
  warehouse with `warehouse=`);
- `POST warehouse/replenishment/suggest/` {for_date?} suggests (or refreshes) the plan for a
  day, tomorrow unless given;
- `PATCH warehouse/replenishment/lines/<id>/` {approved_kg} sets how much to buy;
- `POST warehouse/replenishment/<plan id>/approve/` places the marketplace orders.

A warehouse manager sees her own warehouse's plans; a platform admin sees every plan, but only
the warehouse's manager adjusts and approves. Another warehouse's plan or line is a 404.
"""

from datetime import timedelta

from django.http import Http404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.choices import Role
from accounts.permissions import HasRole, get_visible_or_404, is_admin
from common.api.fields import OptionalDateField
from common.dates import business_today

from ..exceptions import DeliveryError
from ..models import FrontWarehouse
from ..selectors.replenishment import (
    lines_visible_to,
    managed_warehouse,
    method_label,
    plans_visible_to,
)
from ..services import replenishment as replenishment_services

MANAGERS = (Role.WAREHOUSE_MANAGER,)  # platform admins hold every role


class ReplenishmentListingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    seller = serializers.CharField()
    price_per_kg = serializers.DecimalField(
        source="price_per_kg.amount", max_digits=12, decimal_places=2
    )
    available_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    minimum_order_kg = serializers.DecimalField(max_digits=12, decimal_places=3)


class ReplenishmentOrderOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    total = serializers.DecimalField(source="total.amount", max_digits=14, decimal_places=2)
    url = serializers.SerializerMethodField()

    def get_url(self, order) -> str:
        return reverse("marketplace:order_detail", kwargs={"pk": order.pk})


class ReplenishmentLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    product = serializers.CharField(source="product.name_zh")
    forecast_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    method = serializers.CharField()
    method_label = serializers.SerializerMethodField()
    usable_stock_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    suggested_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    approved_kg = serializers.DecimalField(max_digits=12, decimal_places=3, allow_null=True)
    quantity_kg = serializers.SerializerMethodField(help_text="What approval buys.")
    listing = ReplenishmentListingOutputSerializer(allow_null=True)
    marketplace_order = ReplenishmentOrderOutputSerializer(allow_null=True)
    ordered = serializers.SerializerMethodField()

    def get_method_label(self, line) -> str:
        return method_label(line.method)

    def get_quantity_kg(self, line) -> str:
        return f"{replenishment_services.quantity_to_buy_kg(line):.3f}"

    def get_ordered(self, line) -> bool:
        return line.marketplace_order_id is not None


class ReplenishmentPlanOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    warehouse_id = serializers.IntegerField()
    warehouse = serializers.CharField(source="warehouse.name")
    for_date = serializers.DateField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    approved_by = serializers.CharField(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    lines = ReplenishmentLineOutputSerializer(many=True, source="lines.all")


class PlanQuerySerializer(serializers.Serializer):
    for_date = serializers.DateField(required=False)
    warehouse = serializers.IntegerField(required=False, min_value=1)


class SuggestInputSerializer(serializers.Serializer):
    for_date = OptionalDateField()
    warehouse = serializers.IntegerField(
        required=False, min_value=1, help_text="Admins only: the warehouse to plan."
    )


class LineUpdateInputSerializer(serializers.Serializer):
    # A string or a number; the service owns the rule (zero or more, at most 3 decimals).
    approved_kg = serializers.CharField(allow_blank=True, allow_null=True)


def _render_plan(request, plan_id: int, *, status_code=status.HTTP_200_OK) -> Response:
    plan = plans_visible_to(request.user).get(pk=plan_id)
    return Response(ReplenishmentPlanOutputSerializer(plan).data, status=status_code)


class ReplenishmentPlanApi(APIView):
    """The latest plan of the manager's warehouse (or of the day asked for), with its lines."""

    permission_classes = [IsAuthenticated, HasRole.of(*MANAGERS)]

    @extend_schema(
        parameters=[
            OpenApiParameter("for_date", str, description="A day (YYYY-MM-DD)."),
            OpenApiParameter("warehouse", int, description="Admins: the warehouse's id."),
        ],
        responses=ReplenishmentPlanOutputSerializer,
    )
    def get(self, request):
        query = PlanQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        plans = plans_visible_to(request.user)
        if "warehouse" in query.validated_data:
            plans = plans.filter(warehouse_id=query.validated_data["warehouse"])
        if "for_date" in query.validated_data:
            plans = plans.filter(for_date=query.validated_data["for_date"])
        plan = plans.first()
        if plan is None:
            raise Http404(_("No plan yet: ask for a suggestion."))
        return Response(ReplenishmentPlanOutputSerializer(plan).data)


class ReplenishmentSuggestApi(APIView):
    """Suggest the plan for a day (tomorrow unless given), or refresh it while it is only
    suggested; an approved plan comes back unchanged."""

    permission_classes = [IsAuthenticated, HasRole.of(*MANAGERS)]

    @extend_schema(request=SuggestInputSerializer, responses=ReplenishmentPlanOutputSerializer)
    def post(self, request):
        params = SuggestInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        warehouse = _warehouse_to_plan(request.user, params.validated_data.get("warehouse"))
        for_date = params.validated_data.get("for_date") or business_today() + timedelta(
            days=replenishment_services.lead_days()
        )
        plan = replenishment_services.suggest_plan(warehouse=warehouse, for_date=for_date)
        return _render_plan(request, plan.pk)


def _warehouse_to_plan(user, warehouse_id: int | None) -> FrontWarehouse:
    if is_admin(user):
        if warehouse_id is None:
            raise DeliveryError(_("Choose the warehouse to plan."), field="warehouse")
        return get_visible_or_404(FrontWarehouse.objects.all(), pk=warehouse_id)
    warehouse = managed_warehouse(user)
    if warehouse is None:
        raise Http404(_("You do not run a warehouse."))
    return warehouse


class ReplenishmentLineApi(APIView):
    """Set how many kilograms of the line's product to buy (zero or more, to the gram)."""

    permission_classes = [IsAuthenticated, HasRole.of(*MANAGERS)]

    @extend_schema(request=LineUpdateInputSerializer, responses=ReplenishmentLineOutputSerializer)
    def patch(self, request, pk: int):
        line = get_visible_or_404(lines_visible_to(request.user), pk=pk)
        params = LineUpdateInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        line = replenishment_services.update_line(
            by=request.user, line_id=line.pk, approved_kg=params.validated_data["approved_kg"]
        )
        fresh = lines_visible_to(request.user).select_related("marketplace_order").get(pk=line.pk)
        return Response(ReplenishmentLineOutputSerializer(fresh).data)


class ReplenishmentApproveApi(APIView):
    """Approve the plan: one marketplace order per seller for the lines with a quantity and
    a listing; lines without one are left unordered (`ordered: false`). Approving again
    changes nothing."""

    permission_classes = [IsAuthenticated, HasRole.of(*MANAGERS)]

    @extend_schema(request=None, responses=ReplenishmentPlanOutputSerializer)
    def post(self, request, pk: int):
        plan = get_visible_or_404(plans_visible_to(request.user), pk=pk)
        replenishment_services.approve_plan(by=request.user, plan_id=plan.pk)
        return _render_plan(request, plan.pk)


urlpatterns = [
    path(
        "warehouse/replenishment/",
        ReplenishmentPlanApi.as_view(),
        name="delivery-replenishment",
    ),
    path(
        "warehouse/replenishment/suggest/",
        ReplenishmentSuggestApi.as_view(),
        name="delivery-replenishment-suggest",
    ),
    path(
        "warehouse/replenishment/lines/<int:pk>/",
        ReplenishmentLineApi.as_view(),
        name="delivery-replenishment-line",
    ),
    path(
        "warehouse/replenishment/<int:pk>/approve/",
        ReplenishmentApproveApi.as_view(),
        name="delivery-replenishment-approve",
    ),
]
