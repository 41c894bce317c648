"""Pages of the market gate, under /trace/gate/: the clerk's scan-and-check-in page with
today's entries, an entry's page (its rapid tests and laboratory results, and the forms for
them), the market's receipt for an entry, and the supervisor's setting.

The gate pages are for the staff of a market (other roles 403; an operator who works for no
market 404); an entry's page and receipt are also open, read-only, to the farmer and the
co-operative whose lot it is (entries_visible_to). A service's refusal comes back as an error
on the field at fault.
"""

from functools import wraps

import segno
from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.choices import Role
from accounts.permissions import get_visible_or_404, role_required
from common.dates import business_today
from common.exceptions import DomainError
from common.forms import add_service_error

from ..codes import grouped, trace_url
from ..exceptions import UnknownCertificateCode, UnknownLotCode, UnknownTraceCode
from ..forms_gate import (
    CheckInForm,
    EntryCheckSettingForm,
    LaboratoryForm,
    LookupForm,
    RapidTestForm,
)
from ..models.gate import RAPID_TEST_OPEN, EntryOutcome
from ..selectors.gate import (
    certificate_named,
    entries_of_day,
    entries_visible_to,
    gate_staff_of,
    is_gate_staff,
    is_gate_supervisor,
    lot_named,
    open_holds_of,
)
from ..services import gate as gate_services

TEMPLATES = "traceability/gate/"
# The scanner decodes in WebAssembly (static/vendor/zxing-wasm); only this page may compile it.
SCANNER_CSP = {"script-src": ["'wasm-unsafe-eval'"]}


def gate_page(view):
    """Market staff only (sign in first; 403 for other roles); the view gets the staff row,
    and an operator who works for no market gets 404."""

    @role_required(Role.MARKET_OPERATOR)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        staff = gate_staff_of(request.user)
        if staff is None:
            raise Http404
        return view(request, staff, *args, **kwargs)

    return wrapped


def _lookup(typed: str):
    """(certificate, lot) for what was scanned or typed: a certificate's code first, else a
    lot code; UnknownTraceCode when it is neither."""
    try:
        certificate = certificate_named(typed)
        return certificate, certificate.lot
    except UnknownTraceCode:
        try:
            return None, lot_named(typed)
        except UnknownLotCode:
            raise UnknownCertificateCode() from None


def _gate_context(staff, *, lookup_form, check_in_form=None, certificate=None, lot=None) -> dict:
    return {
        "market": staff.market,
        "is_supervisor": staff.is_supervisor,
        "lookup_form": lookup_form,
        "check_in_form": check_in_form,
        "certificate": certificate,
        "lot": lot,
        "entries": entries_of_day(market=staff.market, day=business_today()),
        "EntryOutcome": EntryOutcome,
    }


@csp_update(SCANNER_CSP)
@gate_page
def gate(request, staff):
    """Scan (or type) a code, see what it names, record the arrival; today's entries below."""
    typed = request.GET.get("code", "").strip()
    lookup_form = LookupForm(request.GET if typed else None)
    certificate = lot = check_in_form = None
    if typed and lookup_form.is_valid():
        try:
            certificate, lot = _lookup(typed)
        except DomainError as error:
            add_service_error(lookup_form, error)
        else:
            check_in_form = CheckInForm(
                initial={
                    "code": certificate.trace_code.code if certificate else "",
                    "lot_code": "" if certificate else lot.lot_code,
                }
            )
    return render(
        request,
        TEMPLATES + "gate.html",
        _gate_context(
            staff,
            lookup_form=lookup_form,
            check_in_form=check_in_form,
            certificate=certificate,
            lot=lot,
        ),
    )


@csp_update(SCANNER_CSP)
@require_POST
@gate_page
def check_in(request, staff):
    form = CheckInForm(request.POST)
    code, lot_code = request.POST.get("code", ""), request.POST.get("lot_code", "")
    lookup_form = LookupForm({"code": code or lot_code})
    certificate = lot = None
    try:
        certificate, lot = _lookup(code or lot_code)
    except DomainError as error:
        add_service_error(lookup_form, error)
    if form.is_valid() and lot is not None:
        arguments = {
            "market": staff.market,
            "by": request.user,
            "vehicle_plate": form.cleaned_data["vehicle_plate"],
            "gross_weight_kg": form.cleaned_data["gross_weight_kg"],
            "arrived_at": form.cleaned_data["arrived_at"],
            "idempotency_key": form.cleaned_data["idempotency_key"],
        }
        try:
            if form.cleaned_data["code"]:
                entry = gate_services.check_in_with_certificate(
                    code=form.cleaned_data["code"], **arguments
                )
            else:
                entry = gate_services.check_in_without_certificate(
                    lot_code=form.cleaned_data["lot_code"], **arguments
                )
        except DomainError as error:
            add_service_error(form, error, form.SERVICE_FIELDS)
            if error.field in form.SERVICE_FIELDS:
                add_service_error(lookup_form, error, form.SERVICE_FIELDS)
        else:
            messages.success(
                request, _("Checked in: %(outcome)s.") % {"outcome": entry.get_outcome_display()}
            )
            return redirect("traceability:gate_entry", pk=entry.pk)
    return render(
        request,
        TEMPLATES + "gate.html",
        _gate_context(
            staff,
            lookup_form=lookup_form,
            check_in_form=form,
            certificate=certificate,
            lot=lot,
        ),
        status=400,
    )


def _entry_page(request, entry, *, rapid_test_form=None, laboratory_form=None, status=200):
    user = request.user
    at_gate = is_gate_staff(user=user, market=entry.market)
    supervisor = is_gate_supervisor(user=user, market=entry.market)
    if rapid_test_form is None and at_gate and entry.outcome in RAPID_TEST_OPEN:
        rapid_test_form = RapidTestForm()
    if laboratory_form is None and supervisor and entry.outcome == EntryOutcome.HELD:
        laboratory_form = LaboratoryForm()
    return render(
        request,
        TEMPLATES + "entry.html",
        {
            "entry": entry,
            "at_gate": at_gate,
            "holds": open_holds_of(entry),
            "rapid_test_form": rapid_test_form if at_gate else None,
            "laboratory_form": laboratory_form if supervisor else None,
            "code": grouped(entry.trace_code.code),
        },
        status=status,
    )


@login_required
def entry_detail(request, pk: int):
    entry = get_visible_or_404(entries_visible_to(request.user), pk=pk)
    return _entry_page(request, entry)


@require_POST
@gate_page
def rapid_test(request, staff, pk: int):
    entry = get_visible_or_404(entries_visible_to(request.user), pk=pk)
    form = RapidTestForm(request.POST)
    if form.is_valid():
        try:
            test = gate_services.record_rapid_test(
                entry_id=entry.pk, by=request.user, **form.cleaned_data
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            if test.is_positive:
                messages.error(
                    request, _("Positive: the batch is held and the supervisors are alerted.")
                )
            else:
                messages.success(request, _("Negative: the batch may trade."))
            return redirect("traceability:gate_entry", pk=entry.pk)
    return _entry_page(request, entry, rapid_test_form=form, status=400)


@require_POST
@gate_page
def laboratory(request, staff, pk: int):
    entry = get_visible_or_404(entries_visible_to(request.user), pk=pk)
    form = LaboratoryForm(request.POST)
    if form.is_valid():
        try:
            gate_services.record_laboratory_result(
                entry_id=entry.pk, by=request.user, **form.cleaned_data
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Laboratory result recorded."))
            return redirect("traceability:gate_entry", pk=entry.pk)
    return _entry_page(request, entry, laboratory_form=form, status=400)


@login_required
def receipt(request, pk: int):
    """The market's receipt for an entry: printable, with the QR of the entry's own code."""
    entry = get_visible_or_404(entries_visible_to(request.user), pk=pk)
    url = trace_url(
        code=entry.trace_code.code, gtin=entry.lot.product.gtin, lot_code=entry.lot.lot_code
    )
    return render(
        request,
        TEMPLATES + "receipt.html",
        {
            "entry": entry,
            "code": grouped(entry.trace_code.code),
            "trace_url": url,
            "qr": segno.make(url, error="m").png_data_uri(scale=5, border=2),
        },
    )


@gate_page
def settings_page(request, staff):
    """The supervisor's choice whether only lots checked in at the gate may trade."""
    if not staff.is_supervisor:
        raise Http404
    form = EntryCheckSettingForm(
        request.POST or None,
        initial={"entry_check_required": staff.market.entry_check_required},
    )
    if request.method == "POST" and form.is_valid():
        try:
            gate_services.set_entry_check_required(
                market=staff.market,
                by=request.user,
                required=form.cleaned_data["entry_check_required"],
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("traceability:gate_settings")
    return render(request, TEMPLATES + "settings.html", {"form": form, "market": staff.market})


urlpatterns = [
    path("trace/gate/", gate, name="gate"),
    path("trace/gate/check-in/", check_in, name="gate_check_in"),
    path("trace/gate/settings/", settings_page, name="gate_settings"),
    path("trace/gate/entries/<int:pk>/", entry_detail, name="gate_entry"),
    path("trace/gate/entries/<int:pk>/rapid-test/", rapid_test, name="gate_rapid_test"),
    path("trace/gate/entries/<int:pk>/laboratory/", laboratory, name="gate_laboratory"),
    path("trace/gate/entries/<int:pk>/receipt/", receipt, name="gate_receipt"),
]
