from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .choices import AuditAction, Role
from .exceptions import ConsentRequired, InvalidPhone
from .lockout import is_locked_out, lockout_message
from .models import User
from .phone import normalize_phone
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


class PhoneField(forms.CharField):
    """A mainland mobile number in any common spelling, cleaned to +86…"""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "138 0013 8000"}
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        phone = normalize_phone(value)
        if phone is None:
            raise ValidationError(InvalidPhone.default_message, code="invalid_phone")
        return phone


def code_field() -> forms.CharField:
    return forms.CharField(
        label=_("Code from the text message"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
        ),
        error_messages={"min_length": _("The code has 6 digits.")},
    )


def password_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits, and not a common password."),
    )


class SendCodeForm(forms.Form):
    phone = PhoneField()


class SignUpForm(forms.Form):
    """The fields of the sign-up page (names fixed by ISSUE15.md, interface 1)."""

    account_type = forms.ChoiceField(
        label=_("I am"),
        choices=[
            (Role.CONSUMER, _("A consumer: I buy for my household")),
            (Role.BUYER, _("A buyer: a restaurant or a shop")),
        ],
        initial=Role.CONSUMER,
        widget=forms.RadioSelect,
    )
    phone = PhoneField()
    code = code_field()
    display_name = forms.CharField(
        label=_("Your name or your business's"),
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = password_field(_("Password"))
    agree = forms.BooleanField(
        error_messages={"required": ConsentRequired.default_message},
    )


class CodeSignInForm(forms.Form):
    phone = PhoneField()
    code = code_field()


class PasswordResetForm(forms.Form):
    phone = PhoneField()
    code = code_field()
    new_password = password_field(_("New password"))


class PhoneChangeForm(forms.Form):
    phone = PhoneField(label=_("New mobile number"))
    code = code_field()


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read and agree to the privacy policy."),
        error_messages={"required": _("Tick the box to agree, or sign out.")},
    )


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
