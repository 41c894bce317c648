"""API: compliance certificates under /api/trace/certificates/.

Farmers and co-operative managers (and platform admins, read and revoke only) list, issue
and revoke certificates and download their labels. Every other role is refused (403); market
staff see a certificate only through its code at the gate. A certificate outside the user's
reach is not found (404), the same answer as one that does not exist.
"""

from django.http import HttpResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.choices import Role
from accounts.permissions import HasRole, get_visible_or_404
from common.api.fields import (
    DecimalStringField,
    OptionalDateField,
    RequiredBooleanField,
    ScopedPrimaryKeyField,
)
from common.api.filters import IdFilter, StrictBooleanFilter
from farms.models import HarvestLot

from ..choices import CertificateBasis
from ..codes import grouped
from ..labels import MAX_SHEET_COPIES, LabelFile, LabelLayout, label_file, qr_file
from ..models import Certificate
from ..selectors.certificates import (
    certificate_prefill,
    certificate_trace_url,
    certificates_visible_to,
    lots_certifiable_by,
)
from ..services.certificates import issue_certificate, revoke_certificate

CERTIFICATE_ROLES = (Role.FARMER, Role.COOPERATIVE_MANAGER)  # platform admins hold every role
PREFILLED = ("product_name", "origin", "producer_name", "producer_contact")


class CertificateInputSerializer(serializers.Serializer):
    lot = ScopedPrimaryKeyField(
        scope=lots_certifiable_by,
        model=HarvestLot,
        help_text=_("A harvest lot of one of your farms (a manager: of your co-operative's)."),
    )
    quantity_kg = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        help_text=_("At most what the lot's valid certificates leave of it."),
    )
    product_name = serializers.CharField(max_length=120, required=False)
    origin = serializers.CharField(max_length=200, required=False)
    producer_name = serializers.CharField(max_length=120, required=False)
    producer_contact = serializers.CharField(max_length=40, required=False)
    issued_on = OptionalDateField(help_text=_("Today when left out."))
    no_banned_substances = RequiredBooleanField(
        help_text=_("No banned pesticides, veterinary drugs or illegal additives used (true).")
    )
    residues_within_limits = RequiredBooleanField(
        help_text=_("Routine residues within the national limits (true).")
    )
    truthful = RequiredBooleanField(help_text=_("Responsible for the truth of this (true)."))
    basis = serializers.ChoiceField(choices=CertificateBasis.choices)
    test_laboratory = serializers.CharField(max_length=120, required=False, allow_blank=True)
    test_report_number = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        help_text=_("Required with a test basis (commissioned_test, own_test)."),
    )
    tested_on = OptionalDateField(
        allow_null=True, help_text=_("Required with a test basis (commissioned_test, own_test).")
    )
    idempotency_key = serializers.CharField(
        max_length=64,
        required=False,
        help_text=_(
            "Or the Idempotency-Key header: a retry with it returns the first certificate."
        ),
    )


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A retry with the same key returns the first certificate and certifies nothing more.",
)


class CertificateRevokeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class LabelQuerySerializer(serializers.Serializer):
    layout = serializers.ChoiceField(
        choices=[(layout.value, layout.value) for layout in LabelLayout],
        default=LabelLayout.LABEL.value,
        help_text=_("label: one 100 × 70 mm label per page; a4: A4 sheets of 2 × 4 labels."),
    )
    copies = serializers.IntegerField(
        min_value=1,
        max_value=MAX_SHEET_COPIES,
        required=False,
        help_text=_("How many labels on the A4 sheets (8 when left out)."),
    )


class CertificateOutputSerializer(serializers.ModelSerializer):
    code = serializers.SerializerMethodField()
    trace_url = serializers.SerializerMethodField()
    lot_code = serializers.CharField(source="lot.lot_code", read_only=True)
    quantity_kg = DecimalStringField()
    basis_label = serializers.SerializerMethodField()
    issued_by_name = serializers.CharField(source="issued_by.__str__", read_only=True)
    is_valid = serializers.BooleanField(read_only=True)
    label_pdf_url = serializers.SerializerMethodField()
    sheet_pdf_url = serializers.SerializerMethodField()
    qr_png_url = serializers.SerializerMethodField()

    class Meta:
        model = Certificate
        fields = [
            "id",
            "code",
            "trace_url",
            "lot",
            "lot_code",
            "quantity_kg",
            "product_name",
            "origin",
            "producer_name",
            "producer_contact",
            "issued_on",
            "no_banned_substances",
            "residues_within_limits",
            "truthful",
            "basis",
            "basis_label",
            "test_laboratory",
            "test_report_number",
            "tested_on",
            "issued_by_name",
            "is_valid",
            "revoked_at",
            "revoke_reason",
            "label_pdf_url",
            "sheet_pdf_url",
            "qr_png_url",
            "created_at",
        ]
        read_only_fields = fields

    def get_code(self, certificate: Certificate) -> str:
        """The code as printed under the QR (groups of four)."""
        return grouped(certificate.trace_code.code)

    def get_trace_url(self, certificate: Certificate) -> str:
        return certificate_trace_url(certificate)

    def get_basis_label(self, certificate: Certificate) -> str:
        return str(CertificateBasis(certificate.basis).label)

    def get_label_pdf_url(self, certificate: Certificate) -> str:
        return reverse("trace-certificate-label", args=[certificate.pk])

    def get_sheet_pdf_url(self, certificate: Certificate) -> str:
        return reverse("trace-certificate-label", args=[certificate.pk]) + "?layout=a4"

    def get_qr_png_url(self, certificate: Certificate) -> str:
        return reverse("trace-certificate-qr", args=[certificate.pk])


class CertificateFilter(filters.FilterSet):
    lot = IdFilter(field_name="lot_id", label=_("Harvest lot id"))
    is_valid = StrictBooleanFilter(
        field_name="revoked_at",
        lookup_expr="isnull",
        label=_("Valid (not revoked)"),
    )


class CertificateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Certificates of your lots (a farmer), your co-operative's (a manager), or all (a
    platform admin), newest first. Issuing is the producer's commitment: a platform admin
    reads and revokes but does not issue."""

    permission_classes = [IsAuthenticated, HasRole.of(*CERTIFICATE_ROLES)]
    serializer_class = CertificateOutputSerializer
    filterset_class = CertificateFilter
    ordering_fields = ["issued_on", "quantity_kg", "created_at"]

    def get_queryset(self):
        return certificates_visible_to(self.request.user)

    @extend_schema(
        request=CertificateInputSerializer,
        responses={201: CertificateOutputSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        description=(
            "Issue a certificate for all or part of a lot. Product, origin, producer and "
            "contact are taken from the lot, farm and co-operative when left out. Refused "
            "(400, on the field) for a lot that is not yours, more than the lot has left to "
            "certify, a commitment not made, a test basis without its record, an issue date "
            "in the future or before the harvest."
        ),
    )
    def create(self, request: Request) -> Response:
        params = CertificateInputSerializer(data=request.data, context={"request": request})
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        lot = data.pop("lot")
        prefill = certificate_prefill(lot)
        for name in PREFILLED:
            data.setdefault(name, getattr(prefill, name))
        data.setdefault("issued_on", prefill.issued_on)
        key = request.headers.get("Idempotency-Key") or data.pop("idempotency_key", "")
        data.pop("idempotency_key", None)
        if len(key) > 64:
            raise serializers.ValidationError(
                {"idempotency_key": [_("Use at most 64 characters.")]}
            )
        data["idempotency_key"] = key
        certificate = issue_certificate(lot=lot, by=request.user, **data)
        return self._render(certificate, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=CertificateRevokeInputSerializer,
        responses=CertificateOutputSerializer,
        description=(
            "Revoke a valid certificate: its quantity may be certified again and its code "
            "no longer opens at the gate or on the public page. 409 when revoked already."
        ),
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk=None) -> Response:
        certificate = self.get_object()
        params = CertificateRevokeInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        certificate = revoke_certificate(
            certificate=certificate, by=request.user, reason=params.validated_data["reason"]
        )
        return self._render(certificate)

    def _render(self, certificate: Certificate, *, status_code: int = 200) -> Response:
        fresh = self.get_queryset().get(pk=certificate.pk)
        return Response(CertificateOutputSerializer(fresh).data, status=status_code)


def _download(file: LabelFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


class CertificateLabelApi(APIView):
    """GET: the certificate's printable label (PDF), for whoever may see the certificate."""

    permission_classes = [IsAuthenticated, HasRole.of(*CERTIFICATE_ROLES)]

    @extend_schema(
        parameters=[LabelQuerySerializer],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        description=(
            "layout=label: one 100 × 70 mm label per page, for a label printer; layout=a4: "
            "A4 sheets of 2 × 4 such labels, `copies` labels in all (8 when left out)."
        ),
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        certificate = get_visible_or_404(certificates_visible_to(request.user), pk=pk)
        params = LabelQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return _download(
            label_file(
                certificate,
                layout=params.validated_data["layout"],
                copies=params.validated_data.get("copies"),
            )
        )


class CertificateQrApi(APIView):
    """GET: the certificate's QR code as a PNG (its absolute trace URL)."""

    permission_classes = [IsAuthenticated, HasRole.of(*CERTIFICATE_ROLES)]

    @extend_schema(
        parameters=[OpenApiParameter("pk", int, OpenApiParameter.PATH)],
        responses={(200, "image/png"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        certificate = get_visible_or_404(certificates_visible_to(request.user), pk=pk)
        return _download(qr_file(certificate))


urlpatterns = [
    path(
        "certificates/<int:pk>/label.pdf",
        CertificateLabelApi.as_view(),
        name="trace-certificate-label",
    ),
    path("certificates/<int:pk>/qr.png", CertificateQrApi.as_view(), name="trace-certificate-qr"),
]


def register(router) -> None:
    """Add this area's viewsets to the traceability API router."""
    router.register("certificates", CertificateViewSet, basename="trace-certificate")
