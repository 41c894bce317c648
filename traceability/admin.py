"""The Django admin of traceability: EPCIS partner systems (issue a key, shown once in the
message that follows the form; revoke keys), and what partners sent (capture jobs and captured
events, read-only)."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .epcis.partners import issue_partner_key, revoke_partner_key
from .models import CapturedEvent, CaptureJob, PartnerSystem


@admin.register(PartnerSystem)
class PartnerSystemAdmin(admin.ModelAdmin):
    list_display = ("name", "key_prefix", "cooperative", "market", "may_capture", "may_query")
    list_filter = ("may_capture", "may_query", "revoked_at")
    search_fields = ("name", "key_prefix")
    autocomplete_fields = ["cooperative"]
    fields = ("name", "cooperative", "market", "may_capture", "may_query", "key_prefix")
    readonly_fields = ("key_prefix",)
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new partner gets its key here; the raw key is shown once, in the message.
        partner, raw_key = issue_partner_key(
            name=obj.name,
            created_by=request.user,
            cooperative=obj.cooperative,
            market=obj.market,
            may_capture=obj.may_capture,
            may_query=obj.may_query,
        )
        obj.pk = partner.pk
        obj.key_hash, obj.key_prefix = partner.key_hash, partner.key_prefix
        obj.created_by = request.user
        messages.warning(
            request,
            _("The key of %(name)s, shown only this once: %(key)s")
            % {"name": partner.name, "key": raw_key},
        )

    @admin.action(description=gettext_lazy("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for partner in queryset:
            revoke_partner_key(partner)


@admin.register(CaptureJob)
class CaptureJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "partner", "received_at", "success", "event_count", "new_event_count")
    list_filter = ("success",)
    list_select_related = ("partner",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CapturedEvent)
class CapturedEventAdmin(admin.ModelAdmin):
    list_display = ("event_id", "partner", "lot", "event_type", "event_time", "biz_step")
    search_fields = ("event_id", "lot__lot_code")
    list_select_related = ("partner", "lot")
    raw_id_fields = ("lot", "job")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
