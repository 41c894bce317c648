from django.contrib import admin

from accounts.addresses import client_address
from accounts.choices import AuditAction
from accounts.services.audit import record_audit
from settlement.admin import ReadOnlyAdmin

from .models import (
    CommissionRule,
    DrawerCount,
    FundingRequest,
    Listing,
    ListingPhoto,
    Market,
    MarketDay,
    MarketStaff,
    Trade,
    Trader,
    TraderCardApplication,
)


class ListingPhotoInline(admin.TabularInline):
    model = ListingPhoto
    extra = 0
    fields = ["image", "thumbnail", "width", "height", "position"]
    readonly_fields = ["image", "thumbnail", "width", "height"]


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "product",
        "grade",
        "price_per_kg",
        "available_kg",
        "status",
        "seller",
        "available_until",
    ]
    list_filter = ["status", "grade", "product__category"]
    search_fields = ["product__name_zh", "product__name_en", "lot__lot_code", "seller__username"]
    raw_id_fields = ["lot", "seller", "listed_by", "product"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ListingPhotoInline]


@admin.register(ListingPhoto)
class ListingPhotoAdmin(admin.ModelAdmin):
    list_display = ["id", "listing", "width", "height", "position", "uploaded_at"]
    raw_id_fields = ["listing"]


# --- Wholesale markets: what was traded is read-only here ----------------------------------


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "approval_threshold", "accepts_card_applications"]
    readonly_fields = ["book"]


def _staff_label(staff: MarketStaff) -> str:
    # By market and user id: a staff post's str() is the person's name.
    return f"{staff.market.code} staff user #{staff.user_id}"


@admin.register(MarketStaff)
class MarketStaffAdmin(admin.ModelAdmin):
    """Who works at which market's counter, as a supervisor or not, with which limits: each
    addition, change and removal is audited."""

    list_display = ["user", "market", "is_supervisor", "transaction_limit", "daily_limit"]
    list_filter = ["market", "is_supervisor"]
    raw_id_fields = ["user"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        fields = form.changed_data if change else ["market", "user", "is_supervisor"]
        if fields:
            self._record(
                request,
                obj,
                {
                    name: (form.initial.get(name) if change else None, self._value(obj, name))
                    for name in fields
                },
            )

    def delete_model(self, request, obj):
        self._record_removal(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for staff in queryset.select_related("market"):
            self._record_removal(request, staff)
        super().delete_queryset(request, queryset)

    def _record_removal(self, request, staff: MarketStaff) -> None:
        self._record(
            request,
            staff,
            {"market": (staff.market_id, None), "is_supervisor": (staff.is_supervisor, None)},
        )

    @staticmethod
    def _value(obj: MarketStaff, name: str):
        # The id of a market or user, as form.initial holds it.
        return getattr(obj, f"{name}_id") if name in ("market", "user") else getattr(obj, name)

    @staticmethod
    def _record(request, staff: MarketStaff, changes: dict) -> None:
        record_audit(
            action=AuditAction.MARKET_STAFF_CHANGED,
            actor=request.user,
            subject=staff.user,
            target=staff,
            label=_staff_label(staff),
            changes=changes,
            address=client_address(request),
        )


@admin.register(Trader)
class TraderAdmin(admin.ModelAdmin):
    """Register traders through the counter pages (which open their account); here only the
    contact details and the active flag are changed."""

    list_display = ["card_number", "name", "kind", "market", "is_active"]
    list_filter = ["market", "kind", "is_active"]
    search_fields = ["card_number", "name", "phone"]
    readonly_fields = ["market", "kind", "card_number"]
    raw_id_fields = ["user", "cooperative", "stall"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CommissionRule)
class CommissionRuleAdmin(admin.ModelAdmin):
    list_display = ["market", "category", "buyer_pct", "seller_pct", "minimum_fee"]
    list_filter = ["market"]


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ["id", "market", "business_date", "product", "net_kg", "unit_price", "amount"]
    list_filter = ["market", "business_date"]
    search_fields = ["seller__name", "buyer__name", "product__name_zh"]


@admin.register(MarketDay)
class MarketDayAdmin(ReadOnlyAdmin):
    list_display = ["market", "business_date", "status", "closed_at"]
    list_filter = ["market", "status"]


# Requests are decided at the counter (a supervisor other than the requester) and counts are
# recorded there: here they are only read.
@admin.register(FundingRequest)
class FundingRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "market", "kind", "amount", "method", "status", "requested_by"]
    list_filter = ["market", "kind", "status"]
    search_fields = ["trader__name", "trader__card_number"]


@admin.register(DrawerCount)
class DrawerCountAdmin(ReadOnlyAdmin):
    list_display = ["market", "business_date", "operator", "counted", "expected", "difference"]
    list_filter = ["market", "business_date"]


# Card applications are decided by the market's operators (marketplace/markets/cards.py),
# where the card is registered, audited and the applicant told: here they are only read.
@admin.register(TraderCardApplication)
class TraderCardApplicationAdmin(ReadOnlyAdmin):
    list_display = ["id", "market", "business_name", "status", "created_at", "reviewed_at"]
    list_filter = ["market", "status"]
    search_fields = ["business_name", "licence_number"]
