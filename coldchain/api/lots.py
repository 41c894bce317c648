"""Cold-chain API: a lot's remaining shelf life from its temperature history.

`GET /api/coldchain/lots/<lot_id>/condition/`: farmers and co-operative managers for the lots
they see (farms.selectors), cold-chain controllers for every lot; 403 for other roles, 404 for a
lot outside one's reach. Computed fresh at each request (nothing is written)."""

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.choices import Role
from accounts.permissions import HasRole, get_visible_or_404

from .. import shelf_life
from ..exceptions import ColdChainError

CONDITION_READERS = (Role.FARMER, Role.COOPERATIVE_MANAGER, Role.COLDCHAIN_CONTROLLER)


class LotShelfLifeOutputSerializer(serializers.Serializer):
    lot_id = serializers.IntegerField(source="lot.pk")
    lot_code = serializers.CharField(source="lot.lot_code")
    product_code = serializers.CharField(source="lot.product.code")
    harvested_at = serializers.SerializerMethodField()
    evaluated_at = serializers.DateTimeField()
    consumed_fraction = serializers.SerializerMethodField()
    remaining_days = serializers.SerializerMethodField()
    reference_temperature_c = serializers.SerializerMethodField()
    nominal_shelf_life_days = serializers.IntegerField(
        source="lot.product.storage_profile.nominal_shelf_life_days"
    )
    expected_expiry_at = serializers.DateTimeField()
    monitored_hours = serializers.SerializerMethodField()
    unmonitored_hours = serializers.SerializerMethodField()
    chilling_hours = serializers.SerializerMethodField()
    is_chilling_sensitive = serializers.BooleanField(
        source="lot.product.storage_profile.is_chilling_sensitive"
    )

    def get_harvested_at(self, condition) -> str:
        return shelf_life.harvested_at(condition.lot).isoformat()

    def get_consumed_fraction(self, condition) -> float:
        return round(condition.consumed_fraction, 4)

    def get_remaining_days(self, condition) -> float:
        return round(condition.remaining_days, 2)

    def get_reference_temperature_c(self, condition) -> float:
        return float(condition.lot.product.storage_profile.reference_temperature_c)

    def get_monitored_hours(self, condition) -> float:
        return round(condition.monitored_hours, 2)

    def get_unmonitored_hours(self, condition) -> float:
        return round(condition.unmonitored_hours, 2)

    def get_chilling_hours(self, condition) -> float:
        return round(condition.chilling_hours, 2)


class LotConditionApi(APIView):
    """A lot's remaining shelf life: consumed fraction, days left at the reference temperature,
    expected expiry, and the monitored, unmonitored and chilling hours behind them."""

    permission_classes = [IsAuthenticated, HasRole.of(*CONDITION_READERS)]

    @extend_schema(responses=LotShelfLifeOutputSerializer)
    def get(self, request, lot_id: int):
        lot = get_visible_or_404(shelf_life.lots_visible_for_condition(request.user), pk=lot_id)
        condition = shelf_life.assess_lot_condition(lot=lot, now=timezone.now())
        if condition is None:
            raise ColdChainError(shelf_life.NO_PROFILE_MESSAGE, field="lot")
        return Response(LotShelfLifeOutputSerializer(condition).data)


urlpatterns = [
    path("lots/<int:lot_id>/condition/", LotConditionApi.as_view(), name="coldchain-lot-condition"),
]


def register(router) -> None:
    """Register this area's viewsets on the cold chain's router (none: one plain view)."""
