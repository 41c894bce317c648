from django.contrib import admin

from .models import Listing, ListingPhoto


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
