from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .lockout import is_locked_out, lockout_message
from .models import User


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


class PersonalDataForm(forms.Form):
    """What she corrects on her "My data" page (accounts.services.personal_data checks it).
    Labels are the User fields' own names."""

    display_name = forms.CharField(
        label=capfirst(User._meta.get_field("display_name").verbose_name),
        max_length=80,
        required=False,
    )
    last_name = forms.CharField(
        label=capfirst(User._meta.get_field("last_name").verbose_name),
        max_length=150,
        required=False,
    )
    first_name = forms.CharField(
        label=capfirst(User._meta.get_field("first_name").verbose_name),
        max_length=150,
        required=False,
    )
    email = forms.EmailField(
        label=capfirst(User._meta.get_field("email").verbose_name), required=False
    )


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("To confirm it is you. Deleting cannot be undone."),
    )
