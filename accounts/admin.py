from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "phone", "role", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "display_name", "phone")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("FreshChain"), {"fields": ("phone", "role", "display_name", "weight_unit")}),
    )
