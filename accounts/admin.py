import copy
from functools import partial

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils.translation import gettext_lazy as _

from .addresses import client_address
from .choices import AuditAction
from .forms import AdminSignInForm
from .models import AuditEntry, User
from .realtime import close_user_sockets
from .services import set_password_for
from .services.audit import record_audit
from .services.roles import change_role

admin.site.login_form = AdminSignInForm


class AdminSetPasswordForm(AdminPasswordChangeForm):
    """An administrator sets a user's password: the user must replace it at the next
    sign-in (untick "must change password" on the user's page to waive that), and the
    user's API tokens are revoked. The change is audited with the administrator and her
    address."""

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def save(self, commit=True):
        usable = self.cleaned_data["set_usable_password"]
        password = self.cleaned_data["password1"] if usable else None
        set_password_for(
            user=self.user,
            password=password,
            set_by=self.request.user if self.request is not None else None,
            address=client_address(self.request),
        )
        return self.user


# Edits of these fields on a user's admin page are audited as personal data corrected
# (their values masked by record_audit).
PERSONAL_FIELDS = ("username", "first_name", "last_name", "email", "display_name")


def _audited_value(value):
    """Groups and permissions by name; other values as they are (record_audit masks the
    personal ones)."""
    if hasattr(value, "__iter__") and not isinstance(value, str):
        return sorted(str(getattr(item, "codename", None) or item) for item in value)
    return value


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

    def user_change_password(self, request, id, form_url=""):
        # Django builds the form from self.change_password_form with no request; a copy of
        # this admin, for this request only, hands the form the administrator and address.
        admin_for_request = copy.copy(self)
        admin_for_request.change_password_form = partial(  # type: ignore[assignment]
            AdminSetPasswordForm, request=request
        )
        return DjangoUserAdmin.user_change_password(admin_for_request, request, id, form_url)

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
        self._audit_edit(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Groups and permissions are saved only now, with the form's many-to-many data.
        rights = [name for name in ("groups", "user_permissions") if name in form.changed_data]
        if change and rights:
            self._record(
                request,
                form.instance,
                AuditAction.ADMIN_RIGHTS_CHANGED,
                {
                    name: (
                        _audited_value(form.initial.get(name, [])),
                        _audited_value(getattr(form.instance, name).all()),
                    )
                    for name in rights
                },
            )

    def _audit_edit(self, request, obj, form, change) -> None:
        """One entry per kind of sensitive edit: who may sign in, administrator rights, the
        mobile number, personal details (masked). Role edits are audited by change_role."""
        if not change:
            self._record(
                request,
                obj,
                AuditAction.ACCOUNT_CREATED,
                {
                    "role": (None, obj.role),
                    "is_staff": (None, obj.is_staff),
                    "is_superuser": (None, obj.is_superuser),
                },
            )
            return
        changed = set(form.changed_data)

        def pairs(names) -> dict:
            return {
                name: (form.initial.get(name), getattr(obj, name))
                for name in names
                if name in changed
            }

        if "is_active" in changed:
            reactivated = obj.is_active
            self._record(
                request,
                obj,
                AuditAction.ACCOUNT_REACTIVATED if reactivated else AuditAction.ACCOUNT_DEACTIVATED,
                pairs(["is_active"]),
            )
        rights = pairs(["is_staff", "is_superuser"])
        if rights:
            # A superuser is a platform admin: the model gives her that role on save.
            if "role" not in changed and form.initial.get("role") != obj.role:
                rights["role"] = (form.initial.get("role"), obj.role)
            self._record(request, obj, AuditAction.ADMIN_RIGHTS_CHANGED, rights)
        if "phone" in changed:
            self._record(request, obj, AuditAction.PHONE_CHANGED, pairs(["phone"]))
        personal = pairs(PERSONAL_FIELDS)
        if personal:
            self._record(request, obj, AuditAction.PERSONAL_DATA_CORRECTED, personal)

    def _record(self, request, obj, action, changes) -> None:
        record_audit(
            action=action,
            actor=request.user,
            subject=obj,
            target=obj,
            changes=changes,
            address=client_address(request),
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log, to read only: nobody adds, changes or deletes an entry, here or in the
    database."""

    list_display = ("at", "action", "actor", "subject", "object_label", "client_address")
    list_filter = ("action",)
    list_select_related = ("actor", "subject")
    search_fields = ("object_id", "object_label")
    date_hierarchy = "at"
    readonly_fields = [field.name for field in AuditEntry._meta.fields]
    # Counting 200 000 rows for the paginator on every page is what makes an admin slow.
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
