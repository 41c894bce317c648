from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from .models import (
    Cooperative,
    CooperativeApplication,
    Farm,
    HarvestLot,
    Membership,
    MembershipInvitation,
    Product,
    StorageProfile,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Cooperative)
class CooperativeAdmin(GISModelAdmin):
    list_display = ("name", "name_en", "province", "region", "registration_code")
    search_fields = ("name", "name_en", "registration_code")
    list_filter = ("province",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "cooperative", "is_manager", "joined_on")
    list_filter = ("is_manager", "cooperative")
    search_fields = ("user__username", "user__display_name", "user__phone", "cooperative__name")
    autocomplete_fields = ["user", "cooperative"]
    list_select_related = ("user", "cooperative")


@admin.register(MembershipInvitation)
class MembershipInvitationAdmin(admin.ModelAdmin):
    list_display = ("phone", "cooperative", "status", "created_at", "answered_at")
    list_filter = ("status",)
    search_fields = ("phone", "cooperative__name")
    readonly_fields = (
        "cooperative",
        "user",
        "phone",
        "invited_by",
        "sent_at",
        "expires_at",
        "created_at",
        "answered_at",
    )
    exclude = ("token_hash",)
    list_select_related = ("cooperative",)


@admin.register(CooperativeApplication)
class CooperativeApplicationAdmin(admin.ModelAdmin):
    """Read-only: the review (with its audit entry, role change and messages) happens on the
    application's own page, /cooperatives/applications/<id>/."""

    list_display = ("name", "registration_code", "province", "status", "submitted_at")
    list_filter = ("status",)
    search_fields = ("name", "registration_code")
    exclude = ("licence",)  # private: shown by the application's checked view only
    list_select_related = ("applicant",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Farm)
class FarmAdmin(GISModelAdmin):
    list_display = ("name", "farmer", "cooperative", "area_hectares", "updated_at")
    list_filter = ("cooperative",)
    search_fields = ("name", "farmer__display_name", "farmer__username", "cooperative__name")
    autocomplete_fields = ["farmer", "cooperative"]
    readonly_fields = ("area_hectares", "created_at", "updated_at")
    list_select_related = ("farmer", "cooperative")


class StorageProfileInline(admin.StackedInline):
    model = StorageProfile
    can_delete = False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "category", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("code", "name_zh", "name_en")
    inlines = [StorageProfileInline]


@admin.register(StorageProfile)
class StorageProfileAdmin(admin.ModelAdmin):
    list_display = (
        "product",
        "min_temperature_c",
        "max_temperature_c",
        "lowest_safe_temperature_c",
        "nominal_shelf_life_days",
        "shelf_life_model",
    )
    list_select_related = ("product",)
    search_fields = ("product__code", "product__name_zh", "product__name_en")


@admin.register(HarvestLot)
class HarvestLotAdmin(admin.ModelAdmin):
    list_display = (
        "lot_code",
        "product",
        "farm",
        "harvest_date",
        "quantity_kg",
        "grade",
        "pesticide_test_result",
    )
    list_filter = ("grade", "pesticide_test_result", "product__category")
    search_fields = ("lot_code", "product__code", "product__name_zh", "farm__name")
    date_hierarchy = "harvest_date"
    autocomplete_fields = ["product", "farm", "recorded_by"]
    list_select_related = ("product", "farm")
