"""The "My data" page (/account/data/): what the platform holds about her, section by
section; her copy as JSON or PDF; corrections; deleting her account. Every signed-in person
sees only her own data: nothing here takes a user id."""

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .addresses import client_address
from .exceptions import AccountsError
from .forms import DeleteAccountForm, PersonalDataForm
from .personal_data_pdf import personal_data_pdf
from .services.personal_data import (
    CORRECTABLE_FIELDS,
    collect_personal_data,
    correct_personal_data,
    delete_account,
    deletion_blockers,
    export_personal_data,
)


def _url_or_empty(name: str) -> str:
    # Pages built by other parts of the platform (phone change, privacy policy).
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _pretty(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _page(request, *, correction_form=None, delete_form=None, status=200):
    user = request.user
    data = collect_personal_data(user)
    correction_form = correction_form or PersonalDataForm(
        initial={name: getattr(user, name) for name in CORRECTABLE_FIELDS}
    )
    return render(
        request,
        "accounts/my_data.html",
        {
            "sections": [
                (name, data.labels[name], _pretty(value)) for name, value in data.sections.items()
            ],
            "correction_form": correction_form,
            "delete_form": delete_form or DeleteAccountForm(),
            "blockers": deletion_blockers(user),
            "phone_change_url": _url_or_empty("accounts:phone_change"),
            "privacy_policy_url": _url_or_empty("accounts:privacy_policy"),
        },
        status=status,
    )


@login_required
def my_data(request):
    return _page(request)


@login_required
@require_POST
def correct_my_data(request):
    form = PersonalDataForm(request.POST)
    if not form.is_valid():
        return _page(request, correction_form=form, status=400)
    try:
        correct_personal_data(
            user=request.user, changes=form.cleaned_data, address=client_address(request)
        )
    except AccountsError as error:
        form.add_error(error.field if error.field in form.fields else None, str(error.message))
        return _page(request, correction_form=form, status=400)
    messages.success(request, _("Your details are corrected."))
    return redirect("accounts:my_data")


def _filename(extension: str) -> str:
    return f"freshchain-my-data-{timezone.localdate():%Y%m%d}.{extension}"


@login_required
@require_POST
def export_my_data_json(request):
    export = export_personal_data(user=request.user, address=client_address(request))
    response = HttpResponse(export.as_json(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("json")}"'
    return response


@login_required
@require_POST
def export_my_data_pdf(request):
    export = export_personal_data(user=request.user, address=client_address(request))
    response = HttpResponse(personal_data_pdf(export), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename("pdf")}"'
    return response


@login_required
@require_POST
def delete_my_account(request):
    form = DeleteAccountForm(request.POST)
    if not form.is_valid():
        return _page(request, delete_form=form, status=400)
    try:
        delete_account(
            user=request.user,
            password=form.cleaned_data["password"],
            address=client_address(request),
        )
    except AccountsError as error:
        form.add_error("password", str(error.message))
        return _page(request, delete_form=form, status=409 if error.kind == "conflict" else 400)
    logout(request)
    messages.success(request, _("Your account is deleted."))
    return redirect("accounts:sign_in")
