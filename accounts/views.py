from django.contrib import messages
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

from .choices import Role
from .forms import SignInForm
from .notifications import mark_notifications_read, notifications_of
from .permissions import user_has_role


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    """A member who was handed a password by her co-operative replaces it here."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:workspace")
    success_message = _("Your password is changed.")


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
