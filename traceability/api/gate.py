"""The market gate through the API, under /api/trace/: entries (list, read, check a batch in
by its certificate's code or by lot code), their rapid tests and laboratory results.

Reads follow entries_visible_to: a market's staff see its entries only; a farmer or a
co-operative manager sees the entries of her own lots (read-only); a platform admin all;
anyone else sees none (404 for one). Writes: the market's staff check batches in and record
rapid tests (403 for others who may see the entry); a supervisor records laboratory results.
Bad input answers 400 with the field at fault (`code` for an unknown or revoked code, one
message for both); nothing is saved.
"""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from common.dates import business_today

from ..codes import trace_url
from ..models import LaboratoryResult, MarketEntry, RapidTest
from ..models.gate import LaboratoryOutcome, RapidTestMethod
from ..selectors.gate import (
    entries_of_day,
    entries_visible_to,
    gate_staff_of,
    laboratory_results_visible_to,
    rapid_tests_visible_to,
)
from ..services import gate as gate_services

MAX_KEY = 64

# --- Shapes -----------------------------------------------------------------------------------


class RapidTestOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = RapidTest
        fields = ["id", "entry", "method", "sample", "inhibition_pct", "is_positive", "tested_at"]
        read_only_fields = fields


class LaboratoryResultOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = LaboratoryResult
        fields = ["id", "entry", "laboratory", "report_number", "outcome", "recorded_at"]
        read_only_fields = fields


class EntryOutputSerializer(serializers.ModelSerializer):
    market = serializers.CharField(source="market.name")
    lot_code = serializers.CharField(source="lot.lot_code")
    product = serializers.CharField(source="lot.product.name_zh")
    farm = serializers.CharField(source="lot.farm.name")
    cooperative = serializers.CharField(source="lot.farm.cooperative.name")
    certificate_code = serializers.SerializerMethodField()
    quantity_certified_kg = serializers.DecimalField(
        source="certificate.quantity_kg",
        max_digits=12,
        decimal_places=3,
        allow_null=True,
        default=None,
    )
    receipt_code = serializers.CharField(source="trace_code.code")
    receipt_url = serializers.SerializerMethodField()
    rapid_tests = RapidTestOutputSerializer(many=True)
    laboratory_results = LaboratoryResultOutputSerializer(many=True)

    class Meta:
        model = MarketEntry
        fields = [
            "id", "market", "lot", "lot_code", "product", "farm", "cooperative",
            "certificate", "certificate_code", "quantity_certified_kg", "receipt_code",
            "receipt_url", "vehicle_plate", "gross_weight_kg", "arrived_at", "outcome",
            "rapid_tests", "laboratory_results",
        ]  # fmt: skip
        read_only_fields = fields

    def get_certificate_code(self, entry: MarketEntry) -> str | None:
        return entry.certificate.trace_code.code if entry.certificate else None

    def get_receipt_url(self, entry: MarketEntry) -> str:
        return trace_url(
            code=entry.trace_code.code, gtin=entry.lot.product.gtin, lot_code=entry.lot.lot_code
        )


class EntryInputSerializer(serializers.Serializer):
    code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_("The certificate's trace code or its QR's URL, as scanned or typed."),
    )
    lot_code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text=_("For a batch without a valid certificate: its harvest lot's code."),
    )
    vehicle_plate = serializers.CharField(max_length=20)
    gross_weight_kg = serializers.CharField(max_length=20)
    arrived_at = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if bool(attrs.get("code")) == bool(attrs.get("lot_code")):
            raise serializers.ValidationError(
                {"code": [_("Give either the certificate's code or the lot code.")]}
            )
        return attrs


class RapidTestInputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=RapidTestMethod.choices)
    sample = serializers.CharField(max_length=200)
    inhibition_pct = serializers.CharField(
        max_length=12, help_text=_("0 to 100; 50 or more is positive.")
    )


class LaboratoryInputSerializer(serializers.Serializer):
    laboratory = serializers.CharField(max_length=120)
    report_number = serializers.CharField(max_length=60)
    outcome = serializers.ChoiceField(choices=LaboratoryOutcome.choices)


# --- Doors --------------------------------------------------------------------------------------


def _idempotency_key(request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_KEY:
        raise serializers.ValidationError({"idempotency_key": [_("Use at most 64 characters.")]})
    return key


def _read_back(user, entry_id: int) -> MarketEntry:
    return entries_visible_to(user).get(pk=entry_id)


class EntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Market entry checks: a list (`?today=1` for today's at the clerk's market), one entry
    with its tests, checking a batch in, and recording its rapid test or laboratory result."""

    permission_classes = [IsAuthenticated]
    serializer_class = EntryOutputSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's dry run
            return MarketEntry.objects.none()
        if self.action == "list" and self.request.query_params.get("today"):
            staff = gate_staff_of(self.request.user)
            if staff is None:
                return MarketEntry.objects.none()
            return entries_of_day(market=staff.market, day=business_today())
        return entries_visible_to(self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "today", str, description="Any value: only today's entries at your market."
            )
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=EntryInputSerializer,
        responses={201: EntryOutputSerializer, 200: EntryOutputSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Made once per check-in by the client: a retry with it checks "
                "nothing in again and answers 200 with the first entry.",
            )
        ],
    )
    def create(self, request):
        started = timezone.now()
        staff = gate_staff_of(request.user)
        if staff is None:
            raise PermissionDenied
        params = EntryInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        arguments = {
            "market": staff.market,
            "by": request.user,
            "vehicle_plate": data["vehicle_plate"],
            "gross_weight_kg": data["gross_weight_kg"],
            "arrived_at": data.get("arrived_at"),
            "idempotency_key": _idempotency_key(request),
        }
        if data.get("code"):
            entry = gate_services.check_in_with_certificate(code=data["code"], **arguments)
        else:
            entry = gate_services.check_in_without_certificate(
                lot_code=data["lot_code"], **arguments
            )
        return Response(
            EntryOutputSerializer(_read_back(request.user, entry.pk)).data,
            status=status.HTTP_201_CREATED if entry.created_at >= started else status.HTTP_200_OK,
        )

    @extend_schema(request=RapidTestInputSerializer, responses={201: RapidTestOutputSerializer})
    @action(detail=True, methods=["post"], url_path="rapid-tests")
    def rapid_tests(self, request, pk=None):
        entry = self.get_object()
        params = RapidTestInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        test = gate_services.record_rapid_test(
            entry_id=entry.pk, by=request.user, **params.validated_data
        )
        return Response(RapidTestOutputSerializer(test).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=LaboratoryInputSerializer, responses={201: LaboratoryResultOutputSerializer}
    )
    @action(detail=True, methods=["post"], url_path="laboratory-results")
    def laboratory_results(self, request, pk=None):
        entry = self.get_object()
        params = LaboratoryInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        result = gate_services.record_laboratory_result(
            entry_id=entry.pk, by=request.user, **params.validated_data
        )
        return Response(
            LaboratoryResultOutputSerializer(result).data, status=status.HTTP_201_CREATED
        )


class RapidTestViewSet(viewsets.ReadOnlyModelViewSet):
    """Rapid tests of the entries you may see."""

    permission_classes = [IsAuthenticated]
    serializer_class = RapidTestOutputSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RapidTest.objects.none()
        return rapid_tests_visible_to(self.request.user).order_by("-tested_at", "-id")


class LaboratoryResultViewSet(viewsets.ReadOnlyModelViewSet):
    """Laboratory results of the entries you may see."""

    permission_classes = [IsAuthenticated]
    serializer_class = LaboratoryResultOutputSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LaboratoryResult.objects.none()
        return laboratory_results_visible_to(self.request.user).order_by("-recorded_at", "-id")


urlpatterns: list = []


def register(router) -> None:
    """Add this area's viewsets to the traceability API router."""
    router.register("entries", EntryViewSet, basename="trace-entry")
    router.register("rapid-tests", RapidTestViewSet, basename="trace-rapid-test")
    router.register(
        "laboratory-results", LaboratoryResultViewSet, basename="trace-laboratory-result"
    )
