from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .addresses import client_address
from .choices import Role
from .exceptions import AccountsError
from .forms import AuditFilterForm, SignInForm
from .lockout import is_locked_out
from .notifications import mark_notifications_read, notifications_of
from .permissions import role_required, user_has_role
from .selectors import AuditQuery, audit_entries, older_than
from .services import change_own_password, revoke_api_tokens


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if is_locked_out(self.request):
            response.status_code = 429
        return response


class SignOutView(auth_views.LogoutView):
    """Signing out of the site also revokes the user's API tokens."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            revoke_api_tokens(user=request.user)
        return super().post(request, *args, **kwargs)


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    """Replace one's password; a password someone else set must be replaced here first.

    The form checks the input as Django's does; `change_own_password` applies the rules
    every door shares (not the same password again, tokens revoked, the flag cleared).
    """

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:workspace")
    success_message = _("Your password is changed.")

    def form_valid(self, form):
        try:
            change_own_password(
                user=self.request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
                address=client_address(self.request),
            )
        except AccountsError as error:
            field = {"new_password": "new_password1"}.get(error.field, error.field)
            form.add_error(field, str(error.message))
            return self.form_invalid(form)
        update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, self.get_success_message(form.cleaned_data))
        return redirect(self.get_success_url())


@login_required
def workspace(request):
    """Every role lands on its own workspace after sign-in."""
    role = Role.ADMIN if request.user.is_platform_admin else request.user.role
    return redirect("accounts:role_workspace", role=role)


@login_required
def role_workspace(request, role: str):
    if role not in Role.values:
        raise Http404
    if not user_has_role(request.user, role):
        raise PermissionDenied
    return render(
        request,
        f"accounts/workspace/{role}.html",
        {"role": role, "role_label": Role(role).label},
    )


@login_required
def notifications(request):
    """The user's notifications, newest first, each linking to the page it is about."""
    page = Paginator(notifications_of(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"page": page})


@require_POST
@login_required
def notifications_read(request):
    marked = mark_notifications_read(user=request.user)
    if marked:
        messages.success(request, _("All notifications are marked read."))
    return redirect("accounts:notifications")


AUDIT_PAGE_SIZE = 50


@role_required(Role.ADMIN)
def audit_log(request):
    """The platform admin reads the audit log, newest first, filtered; other roles get 403.

    Pages go back in time by the last entry shown (`before`), so the thousandth page is read
    as fast as the first.
    """
    form = AuditFilterForm(request.GET or None)
    entries = []
    older = None
    if not form.is_bound or form.is_valid():
        query = form.audit_query() if form.is_bound else AuditQuery()
        before = request.GET.get("before", "")
        visible = older_than(audit_entries(query), int(before) if before.isdigit() else None)
        entries = list(visible[: AUDIT_PAGE_SIZE + 1])
        if len(entries) > AUDIT_PAGE_SIZE:
            entries = entries[:AUDIT_PAGE_SIZE]
            params = request.GET.copy()
            params["before"] = str(entries[-1].pk)
            older = params.urlencode()
    newest = request.GET.copy()
    newest.pop("before", None)
    return render(
        request,
        "accounts/audit_log.html",
        {
            "form": form,
            "entries": entries,
            "older": older,
            "newest": newest.urlencode() if "before" in request.GET else None,
        },
    )
