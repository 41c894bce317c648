"""Pages for joining and proving a number: sign-up, sign-in with a code, password reset, a
new phone number, the privacy policy and agreeing to a new version of it.

Each form page has a "send code" button (name="send_code") that works without JavaScript: it
sends the code and shows the same form again, filled in, with "code sent". The answer to a send
is the same whether or not the number has an account (accounts.services.codes).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from common.refusals import status_for

from .addresses import client_address
from .choices import CodePurpose
from .consents import needs_consent
from .exceptions import AccountsError
from .forms import (
    CodeSignInForm,
    ConsentForm,
    PasswordResetForm,
    PhoneChangeForm,
    SendCodeForm,
    SignUpForm,
)
from .phone import mask_phone
from .privacy import POLICY_VERSION
from .services import signup as signup_services
from .services.codes import send_code

BACKEND = "accounts.backends.PhoneOrUsernameBackend"


def safe_next(request) -> str:
    """The `next` a page was given, if it is a local address; else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _send_code_step(request, form_class, purpose: str, template: str, context: dict):
    """The "send code" button: send, then show the form again with what was typed."""
    data = request.POST.copy()
    for secret in ("password", "new_password", "code"):
        data.pop(secret, None)
    sender = SendCodeForm(data)
    status = 200
    form = form_class(initial={k: v for k, v in data.items() if k != "csrfmiddlewaretoken"})
    code_sent = False
    if sender.is_valid():
        try:
            send_code(
                phone=sender.cleaned_data["phone"],
                purpose=purpose,
                address=client_address(request),
            )
            code_sent = True
        except AccountsError as error:
            form = form_class(data)
            form.is_valid()
            _only_errors_of(form, "phone")
            form.add_error("phone", str(error.message))
            status = status_for(error)
    else:
        form = form_class(data)
        form.is_valid()
        _only_errors_of(form, "phone")
    context.update(
        form=form,
        code_sent=code_sent,
        masked_phone=mask_phone(sender.cleaned_data.get("phone")) if code_sent else "",
        code_minutes=max(1, settings.SMS_CODE_TTL_SECONDS // 60),
    )
    return render(request, template, context, status=status)


def _only_errors_of(form, field: str) -> None:
    # A send shows what is wrong with the number only; the rest is not filled in yet.
    for name in list(form.errors):
        if name != field:
            del form.errors[name]


def _refused(request, form, error: AccountsError, template: str, context: dict):
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))
    context["form"] = form
    return render(request, template, context, status=status_for(error))


@sensitive_post_parameters("password", "code")
def sign_up(request):
    """Open a consumer or buyer account with a mobile number and a code sent to it."""
    template = "accounts/sign_up.html"
    context = {"next": safe_next(request), "policy_version": POLICY_VERSION}
    if request.method == "POST" and "send_code" in request.POST:
        return _send_code_step(request, SignUpForm, CodePurpose.SIGN_UP, template, context)
    if request.method == "POST":
        form = SignUpForm(request.POST)
        if form.is_valid():
            try:
                user = signup_services.sign_up(
                    phone=form.cleaned_data["phone"],
                    code=form.cleaned_data["code"],
                    display_name=form.cleaned_data["display_name"],
                    password=form.cleaned_data["password"],
                    account_type=form.cleaned_data["account_type"],
                    agreed=form.cleaned_data["agree"],
                    address=client_address(request),
                )
            except AccountsError as error:
                return _refused(request, form, error, template, context)
            login(request, user, backend=BACKEND)
            messages.success(request, _("Welcome to FreshChain! Your account is ready."))
            return redirect(context["next"] or "accounts:workspace")
    else:
        form = SignUpForm(initial={"phone": request.GET.get("phone", "")})
    context["form"] = form
    return render(request, template, context)


@sensitive_post_parameters("code")
def sign_in_with_code(request):
    """Sign in with a code sent to one's number instead of a password."""
    template = "accounts/sign_in_code.html"
    context = {"next": safe_next(request)}
    if request.user.is_authenticated:
        return redirect(context["next"] or "accounts:workspace")
    if request.method == "POST" and "send_code" in request.POST:
        return _send_code_step(request, CodeSignInForm, CodePurpose.SIGN_IN, template, context)
    if request.method == "POST":
        form = CodeSignInForm(request.POST)
        if form.is_valid():
            try:
                user = signup_services.sign_in_with_code(
                    phone=form.cleaned_data["phone"], code=form.cleaned_data["code"]
                )
            except AccountsError as error:
                return _refused(request, form, error, template, context)
            # Not refused by a password lock-out: the code proves the phone, has its own limit
            # of tries, and this is the way back in for whoever forgot her password; the
            # sign-in clears the account's failed password tries (AXES_RESET_ON_SUCCESS).
            login(request, user, backend=BACKEND)
            return redirect(context["next"] or "accounts:workspace")
    else:
        form = CodeSignInForm(initial={"phone": request.GET.get("phone", "")})
    context["form"] = form
    return render(request, template, context)


@sensitive_post_parameters("new_password", "code")
def password_reset(request):
    """A forgotten password: a code sent to the number opens the choice of a new one."""
    template = "accounts/password_reset.html"
    context: dict = {}
    if request.method == "POST" and "send_code" in request.POST:
        return _send_code_step(
            request, PasswordResetForm, CodePurpose.PASSWORD_RESET, template, context
        )
    if request.method == "POST":
        form = PasswordResetForm(request.POST)
        if form.is_valid():
            try:
                signup_services.reset_password(
                    phone=form.cleaned_data["phone"],
                    code=form.cleaned_data["code"],
                    new_password=form.cleaned_data["new_password"],
                    address=client_address(request),
                )
            except AccountsError as error:
                return _refused(request, form, error, template, context)
            messages.success(request, _("Your password is changed. Sign in with it."))
            return redirect(f"{reverse('accounts:sign_in')}")
    else:
        form = PasswordResetForm(initial={"phone": request.GET.get("phone", "")})
    context["form"] = form
    return render(request, template, context)


@login_required
@sensitive_post_parameters("code")
def phone_change(request):
    """Move one's account to a new number, proven by a code sent to that number."""
    template = "accounts/phone_change.html"
    context = {"current_phone": mask_phone(request.user.phone)}
    if request.method == "POST" and "send_code" in request.POST:
        return _send_code_step(
            request, PhoneChangeForm, CodePurpose.PHONE_CHANGE, template, context
        )
    if request.method == "POST":
        form = PhoneChangeForm(request.POST)
        if form.is_valid():
            try:
                signup_services.change_phone(
                    user=request.user,
                    new_phone=form.cleaned_data["phone"],
                    code=form.cleaned_data["code"],
                    address=client_address(request),
                )
            except AccountsError as error:
                return _refused(request, form, error, template, context)
            messages.success(request, _("Your mobile number is changed."))
            return redirect("accounts:workspace")
    else:
        form = PhoneChangeForm()
    context["form"] = form
    return render(request, template, context)


def privacy_policy(request):
    return render(request, "accounts/privacy_policy.html", {"policy_version": POLICY_VERSION})


@login_required
def consent(request):
    """Agree to the privacy policy in force (asked once after a new version)."""
    next_url = safe_next(request) or reverse("accounts:workspace")
    if not needs_consent(request.user):
        return redirect(next_url)
    form = ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        signup_services.give_consent(user=request.user, address=client_address(request))
        return redirect(next_url)
    return render(
        request,
        "accounts/consent.html",
        {"form": form, "next": next_url, "policy_version": POLICY_VERSION},
    )
