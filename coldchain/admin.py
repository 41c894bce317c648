"""The cold chain in the admin: the registry is edited here; what loggers and the monitor write
(readings, excursions, lot conditions) is shown read-only or not at all. Readings are not
registered: their composite primary key is not supported by the admin."""

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import (
    Alert,
    ColdStore,
    DataLogger,
    Excursion,
    Handover,
    LoggerAssignment,
    LotCondition,
    Shipment,
    ShipmentEvent,
    ShipmentLot,
    Site,
    Vehicle,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written here: these rows are the monitor's record."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Site)
class SiteAdmin(GISModelAdmin):
    list_display = ("name", "kind", "cooperative", "market")
    list_filter = ("kind",)
    search_fields = ("name",)
    list_select_related = ("cooperative", "market")
    raw_id_fields = ("cooperative", "market")


@admin.register(ColdStore)
class ColdStoreAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "site", "min_temperature_c", "max_temperature_c")
    search_fields = ("code", "name", "site__name")
    list_select_related = ("site",)
    raw_id_fields = ("site",)


@admin.register(Vehicle)
class VehicleAdmin(GISModelAdmin):
    list_display = ("plate", "name", "carrier", "cooperative", "last_position_at")
    search_fields = ("plate", "name", "carrier")
    list_select_related = ("cooperative",)
    raw_id_fields = ("cooperative",)
    readonly_fields = ("last_position", "last_position_at")


class ShipmentLotInline(admin.TabularInline):
    model = ShipmentLot
    extra = 0
    raw_id_fields = ("lot", "order", "trade")


class HandoverInline(admin.TabularInline):
    model = Handover
    extra = 0
    can_delete = False
    fields = (
        "kind",
        "decision",
        "probe_temperature_c",
        "recorded_by",
        "recorded_at",
        "record",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("logger record"))
    def record(self, handover: Handover) -> str:
        # The file is private (no URL of its own): link to the shipment's checked download.
        if not handover.record_file:
            return "-"
        url = reverse("coldchain:handover_record", args=[handover.shipment_id, handover.kind])
        return format_html('<a href="{}">{}</a>', url, _("Download the logger record (CSV)"))


class ShipmentEventInline(admin.TabularInline):
    """The shipment's status history: written by its moves only, never here."""

    model = ShipmentEvent
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    """Status moves only through handovers and cancellation (coldchain.services.shipments
    .move_shipment, which records each move), so it is shown here, not edited."""

    list_display = (
        "code",
        "status",
        "origin",
        "destination",
        "vehicle",
        "planned_departure_at",
        "min_temperature_c",
        "max_temperature_c",
    )
    list_filter = ("status",)
    search_fields = ("code", "origin__name", "destination__name", "vehicle__plate")
    list_select_related = ("origin", "destination", "vehicle")
    raw_id_fields = ("origin", "destination", "vehicle", "planned_by")
    readonly_fields = ("status", "departed_at", "arrived_at", "compatibility_warnings")
    date_hierarchy = "planned_departure_at"
    inlines = [ShipmentLotInline, HandoverInline, ShipmentEventInline]


@admin.register(DataLogger)
class DataLoggerAdmin(admin.ModelAdmin):
    """Registered through the API (the secret is shown once there); only its hash is here."""

    list_display = ("device_id", "label", "is_active", "last_reading_at", "battery_pct")
    list_filter = ("is_active",)
    search_fields = ("device_id", "label")
    fields = ("device_id", "label", "is_active", "last_reading_at", "battery_pct")
    readonly_fields = ("device_id", "last_reading_at", "battery_pct")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(LoggerAssignment)
class LoggerAssignmentAdmin(admin.ModelAdmin):
    # late_window_hours (editable here) overrides COLDCHAIN_LATE_READING_HOURS for one watch.
    list_display = ("logger", "shipment", "store", "starts_at", "ends_at", "late_window_hours")
    search_fields = ("logger__device_id", "shipment__code", "store__code")
    list_select_related = ("logger", "shipment", "store")
    raw_id_fields = ("logger", "shipment", "store")


@admin.register(Excursion)
class ExcursionAdmin(ReadOnlyAdmin):
    list_display = (
        "shipment",
        "store",
        "kind",
        "severity",
        "started_at",
        "ended_at",
        "peak_c",
        "refuted_at",
    )
    list_filter = ("kind", "severity")
    list_select_related = ("shipment", "store")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("kind", "severity", "shipment", "store", "raised_at", "resolved_at")
    list_filter = ("kind", "severity")
    list_select_related = ("shipment", "store")


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdmin):
    list_display = ("shipment", "kind", "decision", "probe_temperature_c", "recorded_at")
    list_filter = ("kind", "decision")
    search_fields = ("shipment__code",)
    list_select_related = ("shipment",)


@admin.register(LotCondition)
class LotConditionAdmin(ReadOnlyAdmin):
    list_display = ("lot", "remaining_days", "expected_expiry_at", "evaluated_at")
    list_select_related = ("lot",)
    search_fields = ("lot__lot_code",)
