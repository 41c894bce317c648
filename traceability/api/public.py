"""API: the public trace page's JSON twin, and the page's optional location.

- `GET /api/trace/public/<code>/`: the same content as `/t/<code>` (no sign-in): product,
  grade, co-operative and county, harvest date, certificates with commitments and basis, test
  results, each cold leg's summary, days at market and warehouse, shelf life left while in
  stock, the public steps. Unknown or revoked code: 404. Each call counts as a scan.
- `POST /api/trace/public/scans/location/` with `{"scan": <token from the page>,
  "longitude", "latitude"}`: the rough location a reader chose to share (rounded to 0.1°);
  a label seen too far away too soon after another scan is flagged as a possible copy.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ..selectors.codes import trace_code_named
from ..selectors.public import public_trace_cached
from ..services.scans import locate_scan, record_scan, scan_token
from ..views.public import client_address


class PublicCertificateOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    product_name = serializers.CharField()
    quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    origin = serializers.CharField()
    producer_name = serializers.CharField()
    issued_on = serializers.DateField()
    commitments = serializers.ListField(child=serializers.CharField())
    basis = serializers.CharField()
    laboratory = serializers.CharField()
    report_number = serializers.CharField()
    tested_on = serializers.DateField(allow_null=True)


class PublicTestOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    result = serializers.CharField()
    on = serializers.DateField(allow_null=True)
    passed = serializers.BooleanField(allow_null=True)


class PublicLegOutputSerializer(serializers.Serializer):
    origin = serializers.CharField()
    destination = serializers.CharField()
    departed_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)
    readings = serializers.IntegerField()
    min_c = serializers.FloatField(allow_null=True)
    max_c = serializers.FloatField(allow_null=True)
    mean_kinetic_c = serializers.FloatField(allow_null=True)
    excursions = serializers.IntegerField()
    excursion_minutes = serializers.IntegerField()


class PublicStepOutputSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    title = serializers.CharField()
    place = serializers.CharField()


class PublicTraceOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    lot_code = serializers.CharField()
    product = serializers.CharField()
    grade = serializers.CharField()
    certifications = serializers.ListField(child=serializers.CharField())
    farm = serializers.CharField()
    cooperative = serializers.CharField()
    county = serializers.CharField()
    harvest_date = serializers.DateField()
    digital_link = serializers.CharField()
    certificates = PublicCertificateOutputSerializer(many=True)
    tests = PublicTestOutputSerializer(many=True)
    legs = PublicLegOutputSerializer(many=True)
    days_at_market = serializers.FloatField(allow_null=True)
    days_at_warehouse = serializers.FloatField(allow_null=True)
    in_stock = serializers.BooleanField()
    shelf_life_days = serializers.FloatField(allow_null=True)
    steps = PublicStepOutputSerializer(many=True)
    scan = serializers.CharField(help_text="Token to send the reader's rough location with.")


class ScanLocationInputSerializer(serializers.Serializer):
    scan = serializers.CharField(max_length=200)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    latitude = serializers.FloatField(min_value=-90, max_value=90)


class ScanLocationOutputSerializer(serializers.Serializer):
    longitude = serializers.FloatField()
    latitude = serializers.FloatField()


class PublicTraceApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=PublicTraceOutputSerializer, operation_id="trace_public")
    def get(self, request, code: str):
        """The public trace page's content as JSON."""
        found = trace_code_named(code)
        scan = record_scan(
            lot=found.lot,
            code=found,
            address=client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        trace = public_trace_cached(lot=found.lot, code=found)
        data = PublicTraceOutputSerializer({**trace.as_dict(), "scan": scan_token(scan)}).data
        response = Response(data)
        response["Cache-Control"] = "private, max-age=60"
        return response


class ScanLocationApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=ScanLocationInputSerializer,
        responses=ScanLocationOutputSerializer,
        operation_id="trace_public_scan_location",
    )
    def post(self, request):
        """Share the reader's rough location for the scan the page was opened with."""
        given = ScanLocationInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        scan = locate_scan(
            token=given.validated_data["scan"],
            longitude=given.validated_data["longitude"],
            latitude=given.validated_data["latitude"],
        )
        return Response({"longitude": scan.location.x, "latitude": scan.location.y})


urlpatterns = [
    path("public/scans/location/", ScanLocationApi.as_view(), name="trace-public-scan-location"),
    path("public/<str:code>/", PublicTraceApi.as_view(), name="trace-public"),
]


def register(router) -> None:
    """This area has no viewsets: its doors are plain views (urlpatterns above)."""
