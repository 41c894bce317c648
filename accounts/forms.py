from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .lockout import is_locked_out, lockout_message


class LockoutMessageMixin:
    """A locked-out sign-in says so (and for how long), instead of "do not match"."""

    def get_invalid_login_error(self):
        if is_locked_out(self.request):
            return ValidationError(lockout_message(), code="locked_out")
        return super().get_invalid_login_error()


class SignInForm(LockoutMessageMixin, AuthenticationForm):
    """Username or mainland mobile number, and password."""

    username = forms.CharField(
        label=_("Mobile number or username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "inputmode": "text"}
        ),
    )
    error_messages = {
        "invalid_login": _("The mobile number or username and password do not match."),
        "inactive": _("This account is inactive."),
    }


class AdminSignInForm(LockoutMessageMixin, AdminAuthenticationForm):
    """The admin site's sign-in, with the same lock-out message."""
