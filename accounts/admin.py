from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils.translation import gettext_lazy as _

from .addresses import client_address
from .forms import AdminSignInForm
from .models import User
from .realtime import close_user_sockets
from .services import set_password_for
from .services.roles import change_role

admin.site.login_form = AdminSignInForm


class AdminSetPasswordForm(AdminPasswordChangeForm):
    """An administrator sets a user's password: the user must replace it at the next
    sign-in (untick "must change password" on the user's page to waive that), and the
    user's API tokens are revoked."""

    def save(self, commit=True):
        usable = self.cleaned_data["set_usable_password"]
        password = self.cleaned_data["password1"] if usable else None
        set_password_for(user=self.user, password=password, set_by=None)
        return self.user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "phone", "role", "is_active")
    list_filter = ("role", "is_active", "is_staff", "must_change_password")
    search_fields = ("username", "display_name", "phone")
    change_password_form = AdminSetPasswordForm
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            _("FreshChain"),
            {"fields": ("phone", "role", "display_name", "weight_unit", "must_change_password")},
        ),
    )

    def save_model(self, request, obj, form, change):
        if not change:
            # The administrator chose this password; the new user replaces it at sign-in.
            obj.must_change_password = obj.has_usable_password()
        new_role = obj.role
        role_edited = change and "role" in form.changed_data
        if role_edited:
            # The role changes through its service (audited, sockets closed), not with the form.
            obj.role = form.initial["role"]
        super().save_model(request, obj, form, change)
        if role_edited:
            change_role(
                user=obj, role=new_role, changed_by=request.user, address=client_address(request)
            )
        # A deactivated user's open sockets close; she cannot open new ones (sign-in refuses her).
        if change and "is_active" in form.changed_data and not obj.is_active:
            close_user_sockets(obj.pk)
