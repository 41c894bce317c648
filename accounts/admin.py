from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User
from .realtime import close_user_sockets


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "phone", "role", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "display_name", "phone")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("FreshChain"), {"fields": ("phone", "role", "display_name", "weight_unit")}),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A deactivated user's open sockets close; she cannot open new ones (sign-in refuses her).
        if change and "is_active" in form.changed_data and not obj.is_active:
            close_user_sockets(obj.pk)
