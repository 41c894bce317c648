"""API of the tracking screens: the snapshot a screen loads on (re)connect, and the alerts.

GET /api/coldchain/screen/ (controllers, co-operative managers, market operators, admins):
what the user's screen shows now (coldchain.selectors.screen). GET /api/coldchain/alerts/
lists the alerts the user sees, newest first (`?open=1`: not yet acknowledged or not yet
resolved; `?shipment=<id>`, `?store=<id>`: about one subject), in the shape the screens receive
live. POST /api/coldchain/alerts/<id>/acknowledge/ {"note": "..."} acknowledges one: controllers
and admins only (403 for a co-operative or market, who see alerts but do not handle them), 409
when already acknowledged, 404 for an alert not seen.
"""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole

from ..selectors.alerts import OPEN_ALERT, alert_payload
from ..selectors.screen import screen_snapshot
from ..selectors.visibility import SCREEN_ROLES, alerts_visible_to, sees_everything
from ..services.alerts import acknowledge_alert

# Output shapes, for the API's schema. The alert's is selectors.alert_payload, which the
# screens also receive live; the snapshot's is built above.


class ExcursionOutputSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="too_warm or too_cold")
    kind_label = serializers.CharField()
    limit_c = serializers.FloatField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    peak_c = serializers.FloatField()
    degree_minutes = serializers.FloatField(help_text="°C × minutes outside the range so far")
    refuted_at = serializers.DateTimeField(
        allow_null=True, help_text="When readings that came late disputed it; null if never."
    )


class AlertOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="excursion or signal_lost")
    kind_label = serializers.CharField()
    severity = serializers.IntegerField(help_text="1 minor, 2 major, 3 critical")
    severity_label = serializers.CharField()
    subject = serializers.CharField(help_text="shipment or store")
    subject_id = serializers.IntegerField()
    subject_code = serializers.CharField()
    raised_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledgement_note = serializers.CharField()
    disputed = serializers.BooleanField(
        help_text="Late readings no longer show its excursion; kept for a person to judge."
    )
    excursion = ExcursionOutputSerializer(allow_null=True)


class ScreenSiteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    location = serializers.ListField(
        child=serializers.FloatField(), help_text="[longitude, latitude], WGS 84"
    )


class ScreenVehicleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    plate = serializers.CharField()
    position = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="[longitude, latitude]"
    )
    position_at = serializers.DateTimeField(allow_null=True)


class ScreenReadingSerializer(serializers.Serializer):
    recorded_at = serializers.DateTimeField()
    temperature_c = serializers.FloatField()


class ScreenSubjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    state = serializers.CharField(help_text="ok, excursion or signal_lost")
    state_label = serializers.CharField()
    min_temperature_c = serializers.FloatField()
    max_temperature_c = serializers.FloatField()
    latest_reading = ScreenReadingSerializer(allow_null=True)
    readings_url = serializers.CharField(allow_null=True)


class ScreenShipmentSerializer(ScreenSubjectSerializer):
    status = serializers.CharField(
        help_text="planned, in_transit, delivered, rejected or cancelled"
    )
    status_label = serializers.CharField()
    is_active = serializers.BooleanField(help_text="planned or in transit")
    origin = ScreenSiteSerializer()
    destination = ScreenSiteSerializer()
    vehicle = ScreenVehicleSerializer(allow_null=True)
    planned_departure_at = serializers.DateTimeField()
    planned_arrival_at = serializers.DateTimeField()
    departed_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)
    recalled_lots = serializers.ListField(
        child=serializers.CharField(),
        help_text="Codes of the lots on board held everywhere (a recall); empty when none.",
    )
    detail_url = serializers.CharField(allow_null=True)


class ScreenStoreSerializer(ScreenSubjectSerializer):
    name = serializers.CharField()
    site = ScreenSiteSerializer()


class ScreenSnapshotSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    shipments = ScreenShipmentSerializer(many=True)
    stores = ScreenStoreSerializer(many=True)
    alerts = AlertOutputSerializer(many=True)


class AcknowledgeInputSerializer(serializers.Serializer):
    # Blank is left to the service, which owns the rule and its message.
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="What is being done about it (required).",
    )


# Doors.


class ScreenSnapshotApi(APIView):
    """What the user's tracking screen shows now: shipments, cold stores, open alerts."""

    permission_classes = [IsAuthenticated, HasRole.of(*SCREEN_ROLES)]

    @extend_schema(responses=ScreenSnapshotSerializer)
    def get(self, request):
        return Response(screen_snapshot(request.user))


class AlertQuerySerializer(serializers.Serializer):
    open = serializers.BooleanField(
        required=False, help_text="Only alerts not acknowledged or not resolved."
    )
    shipment = serializers.IntegerField(
        required=False, min_value=1, help_text="Only alerts about this shipment."
    )
    store = serializers.IntegerField(
        required=False, min_value=1, help_text="Only alerts about this cold store."
    )


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts about the shipments and stores the user sees, newest first."""

    permission_classes = [IsAuthenticated, HasRole.of(*SCREEN_ROLES)]
    serializer_class = AlertOutputSerializer  # describes alert_payload for the schema
    filter_backends: list = []

    def get_queryset(self):
        alerts = alerts_visible_to(self.request.user)
        if self.action != "list":
            return alerts
        query = AlertQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)  # ?store=null is a 400, not every alert
        if query.validated_data.get("open"):
            alerts = alerts.filter(OPEN_ALERT)
        for subject in ("shipment", "store"):
            if subject in query.validated_data:
                alerts = alerts.filter(**{f"{subject}_id": query.validated_data[subject]})
        return alerts.order_by("-raised_at", "-id")

    @extend_schema(parameters=[AlertQuerySerializer])
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([alert_payload(alert) for alert in page])

    def retrieve(self, request, *args, **kwargs):
        return Response(alert_payload(self.get_object()))

    @extend_schema(request=AcknowledgeInputSerializer, responses=AlertOutputSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """A controller acknowledges the alert with a note saying what is being done."""
        alert = self.get_object()  # 404 before 403: an alert not seen is not confirmed to exist
        if not sees_everything(request.user):
            raise PermissionDenied(_("Only a cold-chain controller acknowledges alerts."))
        params = AcknowledgeInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        alert = acknowledge_alert(alert=alert, by=request.user, note=params.validated_data["note"])
        return Response(alert_payload(alert))


urlpatterns = [
    path("screen/", ScreenSnapshotApi.as_view(), name="coldchain-screen"),
]


def register(router) -> None:
    """Register this area's viewsets on the cold chain's router."""
    router.register("alerts", AlertViewSet, basename="coldchain-alert")
