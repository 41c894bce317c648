"""Cold-chain API: the registry (sites, cold stores, vehicles, loggers), shipments, their
handovers and the reading series the charts draw.

Who sees what is the selectors' business (another's shipment or store is not found, 404; an
id in a plan's body, a lot, order, trade or vehicle out of the planner's reach, is refused on
its field with "Not found, or not yours.", 400, exactly as a missing id); who may act is the
services' (403); a step the shipment's state does not allow is 409. The
registry is written by controllers; loggers are a controller's business only. Farmers,
couriers, buyers and consumers get 403 everywhere here.
"""

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.choices import Role
from accounts.permissions import HasRole

from ..downloads import handover_record_response
from ..models import DataLogger, Handover, LoggerAssignment, Site
from ..realtime import shipment_payload
from ..selectors.shipments import shipments_with_details, with_recalled_lots
from ..selectors.visibility import (
    SCREEN_ROLES,
    shipments_visible_to,
    stores_visible_to,
    vehicles_visible_to,
)
from ..series import default_since, reading_series
from ..services.handovers import record_handover
from ..services.registry import (
    assign_logger,
    create_cold_store,
    create_site,
    create_vehicle,
    register_logger,
)
from ..services.shipments import cancel_shipment, plan_shipment
from .serializers import (
    AssignmentOutputSerializer,
    ColdStoreInputSerializer,
    ColdStoreOutputSerializer,
    HandoverInputSerializer,
    HandoverOutputSerializer,
    LoggerAssignInputSerializer,
    LoggerOutputSerializer,
    LoggerRegisteredOutputSerializer,
    LoggerRegisterInputSerializer,
    ReadingSeriesOutputSerializer,
    SeriesQuerySerializer,
    ShipmentDetailOutputSerializer,
    ShipmentListFilterSerializer,
    ShipmentOutputSerializer,
    ShipmentPlanInputSerializer,
    SiteInputSerializer,
    SiteOutputSerializer,
    VehicleInputSerializer,
    VehicleOutputSerializer,
)

SCREEN = HasRole.of(*SCREEN_ROLES)
CONTROLLER = HasRole.of(Role.COLDCHAIN_CONTROLLER)


class _RegistryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Read by the screen roles (what each may see), created by controllers."""

    filter_backends: list = []

    def get_permissions(self):
        role = CONTROLLER if self.action == "create" else SCREEN
        return [IsAuthenticated(), role()]

    def _created(self, instance) -> Response:
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)


class SiteViewSet(_RegistryViewSet):
    """Loading and unloading places. Every screen role sees them all: a shipment from one's own
    site may go to anyone's."""

    serializer_class = SiteOutputSerializer

    def get_queryset(self):
        return Site.objects.order_by("name")

    @extend_schema(request=SiteInputSerializer, responses={201: SiteOutputSerializer})
    def create(self, request):
        params = SiteInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._created(create_site(by=request.user, **params.validated_data))


def _series_response(request, subject) -> Response:
    params = SeriesQuerySerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    since = params.validated_data.get("since", default_since(subject, now=timezone.now()))
    return Response(reading_series(subject, since=since).as_dict())


SERIES_SCHEMA = extend_schema(
    parameters=[SeriesQuerySerializer], responses=ReadingSeriesOutputSerializer
)


class ColdStoreViewSet(_RegistryViewSet):
    """Cold rooms: a controller sees all, a co-operative or market its own sites' stores."""

    serializer_class = ColdStoreOutputSerializer

    def get_queryset(self):
        return stores_visible_to(self.request.user).order_by("code")

    @extend_schema(request=ColdStoreInputSerializer, responses={201: ColdStoreOutputSerializer})
    def create(self, request):
        params = ColdStoreInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._created(create_cold_store(by=request.user, **params.validated_data))

    @SERIES_SCHEMA
    @action(detail=True, methods=["get"])
    def readings(self, request, pk=None):
        """The store's temperature series (last 24 h unless `since`), for its chart."""
        return _series_response(request, self.get_object())


class VehicleViewSet(_RegistryViewSet):
    """Refrigerated vehicles: all for a controller, else those on one's visible shipments."""

    serializer_class = VehicleOutputSerializer

    def get_queryset(self):
        return vehicles_visible_to(self.request.user).order_by("plate")

    @extend_schema(request=VehicleInputSerializer, responses={201: VehicleOutputSerializer})
    def create(self, request):
        params = VehicleInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._created(create_vehicle(by=request.user, **params.validated_data))


class DataLoggerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Data loggers, for controllers only: list, register (the secret is in that answer and
    never again) and assign to a shipment or a cold store."""

    serializer_class = LoggerOutputSerializer
    permission_classes = [IsAuthenticated, CONTROLLER]
    filter_backends: list = []

    def get_queryset(self):
        return DataLogger.objects.order_by("device_id").prefetch_related(
            Prefetch(
                "assignments",
                queryset=LoggerAssignment.objects.filter(ends_at__isnull=True).select_related(
                    "logger"
                ),
                to_attr="current_assignments",
            )
        )

    @extend_schema(
        request=LoggerRegisterInputSerializer, responses={201: LoggerRegisteredOutputSerializer}
    )
    def create(self, request):
        params = LoggerRegisterInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        logger, secret = register_logger(**params.validated_data)
        logger.current_assignments = []
        output = LoggerRegisteredOutputSerializer(logger, context={"secret": secret})
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=LoggerAssignInputSerializer, responses={201: AssignmentOutputSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """The logger watches a shipment or a store from `starts_at` (default now); its open
        period, if any, ends there. An overlap with a closed period is 409."""
        logger = self.get_object()
        params = LoggerAssignInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        assignment = assign_logger(
            logger=logger,
            subject=data.get("shipment") or data.get("store"),
            starts_at=data.get("starts_at") or timezone.now(),
            ends_at=data.get("ends_at"),
        )
        return Response(AssignmentOutputSerializer(assignment).data, status=status.HTTP_201_CREATED)


class ShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Shipments one may see (a controller all; a co-operative or market those from or to its
    sites), `?status=` to narrow; plan one, cancel it, record its handovers, read its record
    and its temperature series."""

    permission_classes = [IsAuthenticated, SCREEN]
    filter_backends: list = []

    def get_serializer_class(self):
        return ShipmentOutputSerializer if self.action == "list" else ShipmentDetailOutputSerializer

    def get_queryset(self):
        shipments = with_recalled_lots(shipments_visible_to(self.request.user))
        if self.action == "list":
            params = ShipmentListFilterSerializer(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            if wanted := params.validated_data.get("status"):
                shipments = shipments.filter(status=wanted)
            return shipments
        return shipments

    def _detail(self, shipment_id: int):
        return shipments_with_details(self.request.user).get(pk=shipment_id)

    def _render(self, shipment_id: int, *, status_code=status.HTTP_200_OK) -> Response:
        return Response(
            ShipmentDetailOutputSerializer(self._detail(shipment_id)).data, status=status_code
        )

    @extend_schema(parameters=[ShipmentListFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, pk=None):
        """The shipment with its lots (and their remaining shelf life), range, warnings,
        handovers, status history (who, when, from, to, why) and open alerts."""
        return self._render(self.get_object().pk)

    @extend_schema(
        request=ShipmentPlanInputSerializer, responses={201: ShipmentDetailOutputSerializer}
    )
    def create(self, request):
        """Plan a shipment. Lots, orders, trades and the vehicle are looked up among what the
        planner may use; another's id is "Not found, or not yours." (400), as a missing one.
        Incompatible products: 400 on `lots`. A compatible but awkward mix without
        `accept_warnings`: 400 on `accept_warnings` with `warnings` to show."""
        params = ShipmentPlanInputSerializer(data=request.data, context={"request": request})
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        lots = [
            (line["lot"], line["quantity_kg"], line.get("order"), line.get("trade"))
            for line in data.pop("lots")
        ]
        shipment = plan_shipment(planned_by=request.user, lots=lots, **data)
        return self._render(shipment.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ShipmentDetailOutputSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a planned shipment (409 once it has left)."""
        shipment = cancel_shipment(shipment=self.get_object(), by=request.user)
        return self._render(shipment.pk)

    @extend_schema(
        methods=["post"],
        request=HandoverInputSerializer,
        responses={201: HandoverOutputSerializer},
    )
    @extend_schema(methods=["get"], responses=HandoverOutputSerializer(many=True))
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # a shipment has two
    def handovers(self, request, pk=None):
        """GET: the shipment's handovers. POST: record loading or unloading (probe, accept or
        reject, note); the logger record of the leg so far is attached."""
        shipment = self.get_object()
        if request.method == "GET":
            handovers = shipment.handovers.select_related("recorded_by").order_by("recorded_at")
            return Response(HandoverOutputSerializer(handovers, many=True).data)
        params = HandoverInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        handover = record_handover(shipment=shipment, by=request.user, **params.validated_data)
        data = HandoverOutputSerializer(handover).data
        data["shipment"] = shipment_payload(handover.shipment)
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "text/csv"): bytes})
    @action(
        detail=True,
        methods=["get"],
        url_path=r"handovers/(?P<kind>loading|unloading)/record",
        url_name="record",
    )
    def record(self, request, pk=None, kind=None):
        """The logger record attached at that handover: CSV, time in Asia/Shanghai."""
        handover = Handover.objects.filter(shipment=self.get_object(), kind=kind).first()
        if handover is None:
            raise Http404
        return handover_record_response(handover)

    @SERIES_SCHEMA
    @action(detail=True, methods=["get"])
    def readings(self, request, pk=None):
        """The shipment's temperature series (its whole watched leg unless `since`)."""
        return _series_response(request, self.get_object())


urlpatterns: list = []


def register(router) -> None:
    """Register this area's viewsets on the cold chain's router."""
    router.register("sites", SiteViewSet, basename="coldchain-site")
    router.register("stores", ColdStoreViewSet, basename="coldchain-store")
    router.register("vehicles", VehicleViewSet, basename="coldchain-vehicle")
    router.register("loggers", DataLoggerViewSet, basename="coldchain-logger")
    router.register("shipments", ShipmentViewSet, basename="coldchain-shipment")
