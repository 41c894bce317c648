"""API: one lot's journey and a consumer order's upstream.

- `GET /api/trace/lots/<id>/journey/`: the lot's steps in time order (harvest, certificates,
  gate checks, orders, trades, cold legs with their temperature line, stock, consumer orders
  shown only as "consumer order #id, district"). The lot's farmer and co-operative manager,
  the staff of a market that traded or checked it in, cold-chain controllers and the admin;
  404 for a lot outside one's reach.
- `GET /api/trace/orders/<id>/upstream/`: a consumer order's lines → the stock lots and
  harvest lots they were picked from, with kilograms, and each lot's path to the warehouse.
  The order's consumer, its warehouse's staff and the admin; 404 for anyone else.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import get_visible_or_404

from ..selectors.journey import journey_of, lots_with_journey_visible_to
from ..selectors.upstream import orders_with_upstream_visible_to, upstream_of_order


class JourneyStepOutputSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()
    quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3, allow_null=True)
    place = serializers.CharField()
    point = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="[longitude, latitude]"
    )
    url = serializers.CharField()
    public = serializers.BooleanField()


class LotJourneyOutputSerializer(serializers.Serializer):
    lot_id = serializers.IntegerField()
    lot_code = serializers.CharField()
    steps = JourneyStepOutputSerializer(many=True)


class UpstreamLotOutputSerializer(serializers.Serializer):
    lot_id = serializers.IntegerField()
    lot_code = serializers.CharField()
    product = serializers.CharField()
    cooperative = serializers.CharField()
    county = serializers.CharField()
    stock_lot_id = serializers.IntegerField()
    warehouse = serializers.CharField()
    quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    steps = JourneyStepOutputSerializer(many=True)


class UpstreamLineOutputSerializer(serializers.Serializer):
    line_id = serializers.IntegerField()
    product = serializers.CharField()
    quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    lots = UpstreamLotOutputSerializer(many=True)


class OrderUpstreamOutputSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    number = serializers.CharField()
    warehouse = serializers.CharField()
    lines = UpstreamLineOutputSerializer(many=True)


class LotJourneyApi(APIView):
    @extend_schema(responses=LotJourneyOutputSerializer, operation_id="trace_lot_journey")
    def get(self, request, pk: int):
        """A lot's whole journey, backward and forward."""
        lot = get_visible_or_404(lots_with_journey_visible_to(request.user), pk=pk)
        steps = journey_of(lot, viewer=request.user)
        data = {"lot_id": lot.pk, "lot_code": lot.lot_code, "steps": steps}
        return Response(LotJourneyOutputSerializer(data).data)


class OrderUpstreamApi(APIView):
    @extend_schema(responses=OrderUpstreamOutputSerializer, operation_id="trace_order_upstream")
    def get(self, request, pk: int):
        """Where a consumer order came from, lot by lot."""
        order = get_visible_or_404(orders_with_upstream_visible_to(request.user), pk=pk)
        return Response(OrderUpstreamOutputSerializer(upstream_of_order(order)).data)


urlpatterns = [
    path("lots/<int:pk>/journey/", LotJourneyApi.as_view(), name="trace-lot-journey"),
    path("orders/<int:pk>/upstream/", OrderUpstreamApi.as_view(), name="trace-order-upstream"),
]


def register(router) -> None:
    """This area has no viewsets: its two reads are plain views (urlpatterns above)."""
