"""Risk rules in Django's admin: thresholds are checked by RiskRule.clean (every problem at
once, nothing saved); warnings are shown, never edited here (acknowledge on the page)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import RiskRule, RiskWarning
from ..risk.kinds import threshold_rows


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "severity", "is_enabled", "market", "warehouse", "limits")
    list_filter = ("kind", "severity", "is_enabled")
    list_editable = ("is_enabled",)
    raw_id_fields = ("market", "warehouse")
    fields = ("kind", "name", "thresholds", "severity", "is_enabled", "market", "warehouse")

    @admin.display(description=_("thresholds"))
    def limits(self, rule: RiskRule) -> str:
        return "; ".join(
            f"{row['label']} {row['value']} {row['unit']}"
            for row in threshold_rows(rule.kind, rule.thresholds or {})
        )


@admin.register(RiskWarning)
class RiskWarningAdmin(admin.ModelAdmin):
    list_display = ("raised_at", "kind", "severity", "message", "acknowledged_at", "resolved_at")
    list_filter = ("kind", "severity")
    date_hierarchy = "raised_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
