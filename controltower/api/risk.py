"""Risk warnings and rules through the API, under /api/tower/.

GET warnings/ lists the warnings, newest first (`?open=true`: only unresolved; `?kind=`: one
kind); GET warnings/<id>/ reads one; POST warnings/<id>/acknowledge/ acknowledges it (409 the
second time). Admins and regulators only (403 for anyone else). GET rules/ lists the rules
with their thresholds; PATCH rules/<id>/ changes thresholds, severity, name or enabled: the
platform admin only, every impossible threshold named at once (400), nothing saved.
"""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.choices import Role
from accounts.permissions import HasRole

from ..models import RiskRule, RiskWarning
from ..risk.kinds import RiskKind
from ..selectors.risk import (
    TOWER_ROLES,
    rule_payload,
    rules_visible_to,
    warning_payload,
    warnings_visible_to,
)
from ..services import risk as services


class WarningOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rule_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=RiskKind.choices)
    kind_label = serializers.CharField()
    severity = serializers.CharField(help_text="warning or critical")
    severity_label = serializers.CharField()
    subject_type = serializers.CharField(help_text="app_label.model of the object it is about")
    subject_id = serializers.IntegerField()
    key = serializers.CharField(help_text="The condition: one open warning per key.")
    message = serializers.CharField()
    figures = serializers.DictField(help_text="The numbers the rule found, by name.")
    raised_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.CharField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    is_open = serializers.BooleanField()


class WarningQuerySerializer(serializers.Serializer):
    open = serializers.BooleanField(required=False, help_text="Only unresolved warnings.")
    kind = serializers.ChoiceField(choices=RiskKind.choices, required=False)


class ThresholdRowSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    value = serializers.FloatField()


class RuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=RiskKind.choices)
    kind_label = serializers.CharField()
    name = serializers.CharField()
    severity = serializers.CharField()
    is_enabled = serializers.BooleanField()
    market_id = serializers.IntegerField(allow_null=True)
    warehouse_id = serializers.IntegerField(allow_null=True)
    scope = serializers.CharField()
    thresholds = serializers.DictField(help_text="Each threshold's name carries its unit.")
    threshold_rows = ThresholdRowSerializer(many=True)


class RuleInputSerializer(serializers.Serializer):
    # Thresholds and severity are checked by the service, which lists every problem at once.
    thresholds = serializers.JSONField(
        required=False, help_text='Names and numbers, e.g. {"max_silence_minutes": 30}.'
    )
    severity = serializers.CharField(required=False, max_length=16)
    is_enabled = serializers.BooleanField(required=False)
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)


class WarningListApi(GenericAPIView):
    """The risk warnings, newest first."""

    permission_classes = [IsAuthenticated, HasRole.of(*TOWER_ROLES)]
    serializer_class = WarningOutputSerializer
    queryset = RiskWarning.objects.none()  # for the schema; reads go through the selectors

    @extend_schema(
        parameters=[WarningQuerySerializer], responses=WarningOutputSerializer(many=True)
    )
    def get(self, request):
        query = WarningQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        warnings = warnings_visible_to(request.user).order_by("-raised_at", "-id")
        if query.validated_data.get("open"):
            warnings = warnings.filter(resolved_at__isnull=True)
        if "kind" in query.validated_data:
            warnings = warnings.filter(kind=query.validated_data["kind"])
        page = self.paginate_queryset(warnings)
        return self.get_paginated_response([warning_payload(warning) for warning in page])


class WarningDetailApi(GenericAPIView):
    permission_classes = [IsAuthenticated, HasRole.of(*TOWER_ROLES)]
    serializer_class = WarningOutputSerializer
    queryset = RiskWarning.objects.none()  # for the schema; reads go through the selectors

    def get(self, request, pk: int):
        return Response(
            warning_payload(get_object_or_404(warnings_visible_to(request.user), pk=pk))
        )


class WarningAcknowledgeApi(GenericAPIView):
    """An admin or a regulator acknowledges the warning: seen, being handled."""

    permission_classes = [IsAuthenticated, HasRole.of(*TOWER_ROLES)]
    serializer_class = WarningOutputSerializer
    queryset = RiskWarning.objects.none()  # for the schema; reads go through the selectors

    @extend_schema(request=None, responses=WarningOutputSerializer)
    def post(self, request, pk: int):
        warning = get_object_or_404(warnings_visible_to(request.user), pk=pk)
        warning = services.acknowledge_warning(warning_id=warning.pk, by=request.user)
        return Response(warning_payload(warning))


class RuleListApi(GenericAPIView):
    """The risk rules with their thresholds (platform admin)."""

    permission_classes = [IsAuthenticated, HasRole.of(Role.ADMIN)]
    serializer_class = RuleOutputSerializer
    queryset = RiskRule.objects.none()  # for the schema; reads go through the selectors

    @extend_schema(responses=RuleOutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(rules_visible_to(request.user))
        return self.get_paginated_response([rule_payload(rule) for rule in page])


class RuleDetailApi(GenericAPIView):
    permission_classes = [IsAuthenticated, HasRole.of(Role.ADMIN)]
    serializer_class = RuleOutputSerializer
    queryset = RiskRule.objects.none()  # for the schema; reads go through the selectors

    def get(self, request, pk: int):
        return Response(rule_payload(get_object_or_404(rules_visible_to(request.user), pk=pk)))

    @extend_schema(request=RuleInputSerializer, responses=RuleOutputSerializer)
    def patch(self, request, pk: int):
        rule = get_object_or_404(rules_visible_to(request.user), pk=pk)
        changes = RuleInputSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        rule = services.update_rule(rule_id=rule.pk, **changes.validated_data)
        return Response(rule_payload(rules_visible_to(request.user).get(pk=rule.pk)))


urlpatterns = [
    path("warnings/", WarningListApi.as_view(), name="tower-warning-list"),
    path("warnings/<int:pk>/", WarningDetailApi.as_view(), name="tower-warning-detail"),
    path(
        "warnings/<int:pk>/acknowledge/",
        WarningAcknowledgeApi.as_view(),
        name="tower-warning-acknowledge",
    ),
    path("rules/", RuleListApi.as_view(), name="tower-rule-list"),
    path("rules/<int:pk>/", RuleDetailApi.as_view(), name="tower-rule-detail"),
]
