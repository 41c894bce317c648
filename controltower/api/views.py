"""The tower's API, under /api/tower/: the screen's snapshot (counters and map) and the
30-day trends, for the platform admin and the regulator, each within their area."""

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from common.dates import business_date_of

from ..selectors.scope import TOWER_ROLES, TowerScope, scope_of
from ..selectors.screen import tower_screen
from ..selectors.trends import trends_of

DECIMAL = {"max_digits": 14, "decimal_places": 3, "coerce_to_string": True}


class TowerScopeOutputSerializer(serializers.Serializer):
    is_whole_country = serializers.BooleanField()
    area_name = serializers.CharField()


class TowerCountersOutputSerializer(serializers.Serializer):
    day = serializers.DateField()
    trades = serializers.IntegerField()
    tonnes = serializers.DecimalField(**DECIMAL)
    orders = serializers.IntegerField()
    delivered = serializers.IntegerField()
    on_time_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    open_excursions = serializers.IntegerField()
    open_recalls = serializers.IntegerField()
    lots_held_at_gates = serializers.IntegerField()


class LonLatField(serializers.ListField):
    child = serializers.FloatField()


class TowerMarketOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    city = serializers.CharField()
    location = LonLatField(allow_null=True, help_text="[longitude, latitude]; null: no site")
    trades = serializers.IntegerField()
    tonnes = serializers.DecimalField(**DECIMAL)


class TowerWarehouseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    location = LonLatField()
    orders = serializers.IntegerField()
    delivered = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)


class TowerShipmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    state = serializers.ChoiceField(choices=["ok", "excursion", "signal_lost"])
    state_label = serializers.CharField()
    origin = serializers.CharField()
    destination = serializers.CharField()
    route = serializers.ListField(child=LonLatField())
    position = LonLatField()
    plate = serializers.CharField()


class TowerScreenOutputSerializer(serializers.Serializer):
    scope = TowerScopeOutputSerializer()
    at = serializers.DateTimeField()
    counters = TowerCountersOutputSerializer()
    markets = TowerMarketOutputSerializer(many=True)
    warehouses = TowerWarehouseOutputSerializer(many=True)
    shipments = TowerShipmentOutputSerializer(many=True)


class TrendsOutputSerializer(serializers.Serializer):
    scope = TowerScopeOutputSerializer()
    days = serializers.ListField(child=serializers.DateField())
    volume_kg = serializers.ListField(child=serializers.DecimalField(**DECIMAL))
    price_index = serializers.ListField(
        child=serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    )
    loss_rate_percent = serializers.ListField(
        child=serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    )
    on_time_percent = serializers.ListField(
        child=serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    )
    excursion_minutes = serializers.ListField(child=serializers.IntegerField())


class TrendsQuerySerializer(serializers.Serializer):
    day = serializers.DateField(
        required=False, help_text="The window's last day (Asia/Shanghai); today by default."
    )

    def validate_day(self, day):
        if day > business_date_of(timezone.now()):
            raise serializers.ValidationError(_("The trends cannot end in the future."))
        return day


class TowerApi(APIView):
    permission_classes = [IsAuthenticated, HasRole.of(*TOWER_ROLES)]

    def scope(self, request: Request) -> TowerScope:
        return scope_of(request.user)


class TowerScreenApi(TowerApi):
    """The screen now: today's counters, the markets and front warehouses with their figures,
    and the shipments in transit coloured by state, within the user's area."""

    @extend_schema(responses=TowerScreenOutputSerializer)
    def get(self, request: Request) -> Response:
        screen = tower_screen(self.scope(request), now=timezone.now())
        return Response(TowerScreenOutputSerializer(screen).data)


class TowerTrendsApi(TowerApi):
    """30 days of volume, price index, loss rate, on-time rate and excursion minutes."""

    @extend_schema(parameters=[TrendsQuerySerializer], responses=TrendsOutputSerializer)
    def get(self, request: Request) -> Response:
        query = TrendsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        scope = self.scope(request)
        trends = trends_of(scope, now=timezone.now(), last_day=query.validated_data.get("day"))
        return Response(TrendsOutputSerializer({"scope": scope, **vars(trends)}).data)


urlpatterns = [
    path("screen/", TowerScreenApi.as_view(), name="tower-screen"),
    path("trends/", TowerTrendsApi.as_view(), name="tower-trends"),
]
