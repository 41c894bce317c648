"""The tower in the admin: a regulator's area is drawn here; digests are shown, never edited."""

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from .models import DailyDigest, RegulatorArea
from .risk import admin as risk_admin  # noqa: F401  (registers the risk rules and warnings)


@admin.register(RegulatorArea)
class RegulatorAreaAdmin(GISModelAdmin):
    list_display = ["name", "user", "updated_at"]
    search_fields = ["name", "user__username", "user__display_name"]
    raw_id_fields = ["user"]


@admin.register(DailyDigest)
class DailyDigestAdmin(admin.ModelAdmin):
    list_display = ["business_date", "area", "created_at"]
    list_filter = ["business_date"]
    readonly_fields = ["business_date", "area", "figures", "created_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
