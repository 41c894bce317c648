from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .choices import AuditAction
from .lockout import is_locked_out, lockout_message
from .selectors import AuditQuery, person_named


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


class AuditFilterForm(forms.Form):
    """The platform admin's filters of the audit log (all optional)."""

    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(
        label=_("By"),
        required=False,
        max_length=150,
        help_text=_("User id, username or mobile number."),
    )
    subject = forms.CharField(
        label=_("Person concerned"),
        required=False,
        max_length=150,
        help_text=_("User id, username or mobile number."),
    )
    since = forms.DateField(
        label=_("From date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    address = forms.GenericIPAddressField(label=_("From address"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("All")), *AuditAction.choices]

    def _person(self, field: str):
        typed = self.cleaned_data.get(field, "")
        if not typed:
            return None
        person = person_named(typed)
        if person is None:
            raise ValidationError(_("No user has this id, username or mobile number."))
        return person

    def clean_actor(self):
        return self._person("actor")

    def clean_subject(self):
        return self._person("subject")

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned

    def audit_query(self) -> AuditQuery:
        data = self.cleaned_data
        return AuditQuery(
            action=data.get("action") or "",
            actor=data.get("actor"),
            subject=data.get("subject"),
            since=data.get("since"),
            until=data.get("until"),
            address=data.get("address") or "",
        )
