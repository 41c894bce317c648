"""Recalls through the API, under /api/trace/recalls/: list, open, read; acknowledge, record
what was returned or destroyed, close; the closed recall's report (report.pdf).

Any signed-in user lists and reads the recalls she runs or was told of (anything else: 404);
a party sees her own records of the scope and her own notice, who runs it sees everything.
Opening is for who may recall lots (403 otherwise; a lot she may not recall is a field
error); closing and the report are for who runs the recall (403 for a party).
"""

from django.http import HttpResponse
from django.urls import path, reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ..exceptions import RecallForbidden, RecallNotFound, RecallReportNotReady
from ..models import Recall, RecallSeverity
from ..reports import recall_report_pdf, report_filename
from ..selectors.recalls import (
    may_open_recalls,
    notice_of,
    notices_of,
    party_label,
    recall_summary,
    recall_visible_to,
    recalls_visible_to,
    runs_recall,
    scope_visible_to,
)
from ..services import recalls as services

# --- Serializers ------------------------------------------------------------------------------


class RecallScopeRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    record_id = serializers.IntegerField()
    reference = serializers.CharField()
    holder = serializers.CharField()
    at = serializers.DateTimeField()
    quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    returned_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    destroyed_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    parent_kind = serializers.CharField()
    parent_id = serializers.IntegerField(allow_null=True)


class RecallNoticeSerializer(serializers.Serializer):
    party = serializers.SerializerMethodField()
    reached_as = serializers.ListField(child=serializers.CharField())
    notified_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledgement_note = serializers.CharField()

    def get_party(self, notice) -> str:
        return party_label(notice.user)


class RecallSerializer(serializers.ModelSerializer):
    lot = serializers.SerializerMethodField()
    severity_label = serializers.CharField(source="get_severity_display")
    opened_by = serializers.StringRelatedField()
    closed_by = serializers.StringRelatedField()
    is_open = serializers.BooleanField()
    lot_held = serializers.SerializerMethodField()

    class Meta:
        model = Recall
        fields = [
            "id",
            "lot",
            "severity",
            "severity_label",
            "reason",
            "is_open",
            "opened_at",
            "opened_by",
            "closed_at",
            "closed_by",
            "close_note",
            "false_alarm",
            "lot_held",
            "listed_at",
        ]

    def get_lot(self, recall) -> dict:
        lot = recall.lot
        return {"id": lot.pk, "lot_code": lot.lot_code, "product": str(lot.product)}

    def get_lot_held(self, recall) -> bool:
        return recall.hold is not None and recall.hold.released_at is None


class RecallDetailSerializer(RecallSerializer):
    runs = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    scope = serializers.SerializerMethodField()
    notices = serializers.SerializerMethodField()
    report_url = serializers.SerializerMethodField()

    class Meta(RecallSerializer.Meta):
        fields = [
            *RecallSerializer.Meta.fields,
            "runs",
            "summary",
            "scope",
            "notices",
            "report_url",
        ]

    def _user(self):
        return self.context["request"].user

    def get_runs(self, recall) -> bool:
        return runs_recall(self._user(), recall)

    def get_summary(self, recall) -> dict | None:
        if not runs_recall(self._user(), recall):
            return None
        summary = recall_summary(recall)
        return {
            "reached": summary.reached,
            "acknowledged": summary.acknowledged,
            "returned_kg": str(summary.returned_kg),
            "destroyed_kg": str(summary.destroyed_kg),
            "by_kind": [
                {
                    "kind": str(k.kind),
                    "records": k.records,
                    "quantity_kg": str(k.quantity_kg),
                    "returned_kg": str(k.returned_kg),
                    "destroyed_kg": str(k.destroyed_kg),
                }
                for k in summary.by_kind
            ],
        }

    def get_scope(self, recall) -> list:
        return RecallScopeRowSerializer(scope_visible_to(self._user(), recall), many=True).data

    def get_notices(self, recall) -> list:
        user = self._user()
        if runs_recall(user, recall):
            notices = list(notices_of(recall))
        else:
            notice = notice_of(user, recall)
            notices = [notice] if notice else []
        return RecallNoticeSerializer(notices, many=True).data

    def get_report_url(self, recall) -> str | None:
        if recall.is_open or not runs_recall(self._user(), recall):
            return None
        return self.context["request"].build_absolute_uri(
            reverse("trace-recall-report", args=[recall.pk])
        )


class OpenRecallInput(serializers.Serializer):
    lot = serializers.IntegerField()
    severity = serializers.ChoiceField(choices=RecallSeverity.choices)
    reason = serializers.CharField(allow_blank=True, max_length=500)


class RecallAcknowledgeInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class RecallDispositionInput(serializers.Serializer):
    scope_row = serializers.IntegerField()
    returned_kg = serializers.DecimalField(
        max_digits=12, decimal_places=3, required=False, allow_null=True
    )
    destroyed_kg = serializers.DecimalField(
        max_digits=12, decimal_places=3, required=False, allow_null=True
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class RecallDispositionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    scope_row = serializers.IntegerField(source="scope_row_id")
    returned_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    destroyed_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    note = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class RecallCloseInput(serializers.Serializer):
    false_alarm = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


# --- Views ------------------------------------------------------------------------------------


class RecallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Recalls the user runs or was told of, newest first; open one; a party's answers; close."""

    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's dry run
            return Recall.objects.none()
        return recalls_visible_to(self.request.user).order_by("-opened_at", "-id")

    def get_serializer_class(self):
        return RecallSerializer if self.action == "list" else RecallDetailSerializer

    def _render(self, recall_id: int, code=status.HTTP_200_OK) -> Response:
        recall = recall_visible_to(self.request.user, recall_id)
        return Response(
            RecallDetailSerializer(recall, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(request=OpenRecallInput, responses={201: RecallDetailSerializer})
    def create(self, request):
        """Open a recall: the lot is held, its scope frozen (`summary` counts it), its listings
        paused. Right after, the worker lists the scope record by record and tells every party
        (`listed_at` is set; `scope` and `notices` fill in). A lot you may not recall is a field error on `lot`; a second open recall of the
        same lot a conflict (409)."""
        if not may_open_recalls(request.user):
            raise PermissionDenied(str(RecallForbidden.default_message))
        params = OpenRecallInput(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        recall = services.open_recall(
            lot_id=data["lot"],
            reason=data["reason"],
            severity=data["severity"],
            opened_by=request.user,
        )
        return self._render(recall.pk, status.HTTP_201_CREATED)

    @extend_schema(request=RecallAcknowledgeInput, responses=RecallDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """A party acknowledges the notice (again: unchanged). Only parties (403 otherwise)."""
        params = RecallAcknowledgeInput(data=request.data)
        params.is_valid(raise_exception=True)
        services.acknowledge_recall(
            recall_id=pk, by=request.user, note=params.validated_data["note"]
        )
        return self._render(int(pk))

    @extend_schema(request=RecallDispositionInput, responses={201: RecallDispositionOutput})
    @action(detail=True, methods=["post"])
    def dispositions(self, request, pk=None):
        """Kilograms of one scope row returned or destroyed (never more than the row's
        quantity in all)."""
        params = RecallDispositionInput(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        disposition = services.record_disposition(
            recall_id=pk,
            scope_row_id=data["scope_row"],
            returned_kg=data.get("returned_kg"),
            destroyed_kg=data.get("destroyed_kg"),
            note=data["note"],
            by=request.user,
        )
        return Response(RecallDispositionOutput(disposition).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RecallCloseInput, responses=RecallDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the recall; `false_alarm` (with a note) releases the lot's hold."""
        params = RecallCloseInput(data=request.data)
        params.is_valid(raise_exception=True)
        services.close_recall(
            recall_id=pk,
            by=request.user,
            false_alarm=params.validated_data["false_alarm"],
            note=params.validated_data["note"],
        )
        return self._render(int(pk))


class RecallReportView(APIView):
    """The closed recall's report (PDF), for who runs it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="PDF")})
    def get(self, request, pk: int):
        try:
            recall = recall_visible_to(request.user, pk)
        except RecallNotFound as missing:
            raise NotFound(str(missing.message)) from missing
        if not runs_recall(request.user, recall):
            raise PermissionDenied(str(RecallForbidden.default_message))
        if recall.is_open:
            raise RecallReportNotReady()
        response = HttpResponse(recall_report_pdf(recall), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{report_filename(recall)}"'
        return response


urlpatterns = [
    path("recalls/<int:pk>/report.pdf", RecallReportView.as_view(), name="trace-recall-report"),
]


def register(router) -> None:
    """Add this area's viewsets to the traceability API router."""
    router.register("recalls", RecallViewSet, basename="trace-recall")
