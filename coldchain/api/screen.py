"""API of the tracking screens: the snapshot a screen loads on (re)connect, and the alerts.

GET /api/coldchain/screen/ (controllers, co-operative managers, market operators, admins):
the shipments, cold stores and open alerts the user sees (coldchain/selectors.py), each with
its state: `excursion` while an excursion alert is unresolved, else `signal_lost` while a
loss-of-signal alert is, else `ok`. Shipments are those planned or in transit, and those
delivered or rejected in the last 24 hours, worst state first. A screen applies the live
events of ws/coldchain/ on top of it.

GET /api/coldchain/alerts/ lists the alerts the user sees, newest first (`?open=1`: not yet
acknowledged or not yet resolved; `?shipment=<id>`, `?store=<id>`: about one subject), in the
shape the screens receive live. POST /api/coldchain/alerts/<id>/acknowledge/ {"note": "..."}
acknowledges one: controllers and admins only (403 for a co-operative or market, who see
alerts but do not handle them), 409 when already acknowledged, 404 for an alert not seen.
"""

from datetime import UTC, datetime, timedelta

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole

from .. import services
from ..choices import AlertKind, ShipmentStatus
from ..models import Alert, ColdStore, LoggerAssignment, Reading, Shipment
from ..selectors import (
    SCREEN_ROLES,
    alert_payload,
    alerts_visible_to,
    sees_everything,
    shipments_visible_to,
    stores_visible_to,
)

# Delivered and rejected legs stay on the screen this long after arrival.
RECENTLY_FINISHED = timedelta(hours=24)
# A logger's assignment that ended longer ago than this holds no latest reading worth showing.
LATEST_READING_LOOKBACK = timedelta(days=7)
# A wall screen shows this many of each at most (worst state first); the API lists the rest.
SCREEN_MAX_SHIPMENTS = 200
SCREEN_MAX_STORES = 200
SCREEN_MAX_ALERTS = 200
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)

OK, EXCURSION, SIGNAL_LOST = "ok", "excursion", "signal_lost"
STATE_LABELS = {
    OK: pgettext_lazy("cold-chain state", "Normal"),
    EXCURSION: _("Temperature excursion"),
    SIGNAL_LOST: _("Loss of signal"),
}
OPEN_ALERT = Q(acknowledged_at__isnull=True) | Q(resolved_at__isnull=True)


# Reads of the screen. They compose the visibility selectors; a later tidy-up may move them
# into coldchain/selectors.py beside those.


def _unresolved_alert(subject_field: str, kind: str) -> Exists:
    return Exists(
        Alert.objects.filter(**{subject_field: OuterRef("pk")}, kind=kind, resolved_at__isnull=True)
    )


def _with_state(queryset: QuerySet, subject_field: str) -> QuerySet:
    """Annotate `state_rank`: 2 excursion, 1 loss of signal, 0 normal (worst wins)."""
    return queryset.annotate(
        state_rank=Case(
            When(_unresolved_alert(subject_field, AlertKind.EXCURSION), then=Value(2)),
            When(_unresolved_alert(subject_field, AlertKind.SIGNAL_LOST), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def screen_shipments(user, *, now: datetime) -> list[Shipment]:
    """The legs a screen shows: under way, and finished in the last 24 hours."""
    since = now - RECENTLY_FINISHED
    recently_finished = Q(status__in=[ShipmentStatus.DELIVERED, ShipmentStatus.REJECTED]) & (
        Q(arrived_at__gte=since) | Q(arrived_at__isnull=True, updated_at__gte=since)
    )
    under_way = Q(status__in=[ShipmentStatus.PLANNED, ShipmentStatus.IN_TRANSIT])
    shipments = _with_state(
        shipments_visible_to(user).filter(under_way | recently_finished), "shipment"
    ).annotate(
        status_rank=Case(
            When(status=ShipmentStatus.IN_TRANSIT, then=Value(0)),
            When(status=ShipmentStatus.PLANNED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )
    return list(
        shipments.order_by("-state_rank", "status_rank", "planned_departure_at", "id")[
            :SCREEN_MAX_SHIPMENTS
        ]
    )


def screen_stores(user) -> list[ColdStore]:
    stores = _with_state(stores_visible_to(user), "store")
    return list(stores.order_by("-state_rank", "name", "id")[:SCREEN_MAX_STORES])


def latest_readings(
    *, shipment_ids: list[int], store_ids: list[int], now: datetime
) -> dict[tuple[str, int], tuple[datetime, float]]:
    """{("shipment" | "store", id): (recorded_at, temperature_c)} of each subject's newest
    reading, in one query: per assignment, one backward scan of the readings' primary key
    (logger, recorded_at) within the assignment's period."""
    if not shipment_ids and not store_ids:
        return {}
    newest = Reading.objects.filter(
        logger_id=OuterRef("logger_id"),
        recorded_at__gte=OuterRef("starts_at"),
        recorded_at__lt=Coalesce(OuterRef("ends_at"), Value(FAR_FUTURE)),
    ).order_by("-recorded_at")
    assignments = (
        LoggerAssignment.objects.filter(
            Q(shipment_id__in=shipment_ids) | Q(store_id__in=store_ids),
            Q(ends_at__isnull=True) | Q(ends_at__gt=now - LATEST_READING_LOOKBACK),
        )
        .annotate(
            latest_at=Subquery(newest.values("recorded_at")[:1]),
            latest_temperature_c=Subquery(newest.values("temperature_c")[:1]),
        )
        .values_list("shipment_id", "store_id", "latest_at", "latest_temperature_c")
    )
    latest: dict[tuple[str, int], tuple[datetime, float]] = {}
    for shipment_id, store_id, recorded_at, temperature_c in assignments:
        if recorded_at is None:
            continue
        key = ("shipment", shipment_id) if shipment_id else ("store", store_id)
        if key not in latest or latest[key][0] < recorded_at:
            latest[key] = (recorded_at, temperature_c)
    return latest


def open_alerts(user) -> list[Alert]:
    return list(
        alerts_visible_to(user).filter(OPEN_ALERT).order_by("-raised_at", "-id")[:SCREEN_MAX_ALERTS]
    )


# Shapes of the snapshot.


def _lon_lat(point) -> list[float] | None:
    return None if point is None else [round(point.x, 6), round(point.y, 6)]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _state(rank: int) -> dict:
    state = {2: EXCURSION, 1: SIGNAL_LOST}.get(rank, OK)
    return {"state": state, "state_label": str(STATE_LABELS[state])}


def _reading(latest: tuple[datetime, float] | None) -> dict | None:
    if latest is None:
        return None
    return {"recorded_at": latest[0].isoformat(), "temperature_c": round(latest[1], 2)}


def _site(site) -> dict:
    return {"id": site.pk, "name": site.name, "location": _lon_lat(site.location)}


def _url(name: str, pk: int) -> str | None:
    # Pages and series of the shipments' area; None rather than a broken screen if renamed.
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return None


def shipment_on_screen(shipment: Shipment, *, latest) -> dict:
    vehicle = shipment.vehicle
    return {
        "id": shipment.pk,
        "code": shipment.code,
        "status": shipment.status,
        "status_label": str(shipment.get_status_display()),
        "is_active": shipment.is_active,
        **_state(shipment.state_rank),
        "origin": _site(shipment.origin),
        "destination": _site(shipment.destination),
        "vehicle": None
        if vehicle is None
        else {
            "id": vehicle.pk,
            "plate": vehicle.plate,
            "position": _lon_lat(vehicle.last_position),
            "position_at": _iso(vehicle.last_position_at),
        },
        "min_temperature_c": float(shipment.min_temperature_c),
        "max_temperature_c": float(shipment.max_temperature_c),
        "planned_departure_at": _iso(shipment.planned_departure_at),
        "planned_arrival_at": _iso(shipment.planned_arrival_at),
        "departed_at": _iso(shipment.departed_at),
        "arrived_at": _iso(shipment.arrived_at),
        "latest_reading": _reading(latest),
        "readings_url": _url("coldchain-shipment-readings", shipment.pk),
        "detail_url": _url("coldchain:shipment_detail", shipment.pk),
    }


def store_on_screen(store: ColdStore, *, latest) -> dict:
    return {
        "id": store.pk,
        "code": store.code,
        "name": store.name,
        **_state(store.state_rank),
        "site": _site(store.site),
        "min_temperature_c": float(store.min_temperature_c),
        "max_temperature_c": float(store.max_temperature_c),
        "latest_reading": _reading(latest),
        "readings_url": _url("coldchain-store-readings", store.pk),
    }


def screen_snapshot(user, *, now: datetime | None = None) -> dict:
    """Everything a screen shows, as of now, in a fixed number of queries."""
    now = now or timezone.now()
    shipments = screen_shipments(user, now=now)
    stores = screen_stores(user)
    latest = latest_readings(
        shipment_ids=[shipment.pk for shipment in shipments],
        store_ids=[store.pk for store in stores],
        now=now,
    )
    return {
        "generated_at": now.isoformat(),
        "shipments": [
            shipment_on_screen(shipment, latest=latest.get(("shipment", shipment.pk)))
            for shipment in shipments
        ],
        "stores": [
            store_on_screen(store, latest=latest.get(("store", store.pk))) for store in stores
        ],
        "alerts": [alert_payload(alert) for alert in open_alerts(user)],
    }


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
        alert = services.acknowledge_alert(
            alert=alert, by=request.user, note=params.validated_data["note"]
        )
        return Response(alert_payload(alert))


urlpatterns = [
    path("screen/", ScreenSnapshotApi.as_view(), name="coldchain-screen"),
]


def register(router) -> None:
    """Register this area's viewsets on the cold chain's router."""
    router.register("alerts", AlertViewSet, basename="coldchain-alert")
