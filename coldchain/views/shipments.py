"""Cold-chain pages for the phone: shipments (list, plan, the shipment page with its live
temperature chart), their handovers and the logger records attached to them.

Controllers see every shipment; a co-operative manager or a market operator those from or to
her own sites (another's is simply not found); other roles get 403. Who may plan, hand over or
cancel is the services' rule.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, re_path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import get_visible_or_404, role_required
from common.exceptions import DomainError
from common.refusals import status_for

from ..choices import HandoverDecision, HandoverKind, ShipmentStatus
from ..downloads import handover_record_response
from ..exceptions import MixedLoadNeedsConfirmation
from ..forms import HandoverForm, LotLineFormSet, PatienceForm, ShipmentPlanForm, lots_from
from ..history import subject_readings
from ..models import Handover, Site
from ..selectors.planning import lots_shippable_by, vehicles_for_planning
from ..selectors.shipments import handover_due, shipments_with_details, with_recalled_lots
from ..selectors.visibility import SCREEN_ROLES, shipments_visible_to
from ..services.access import may_plan_between, may_record_handover
from ..services.handovers import record_handover
from ..services.shipments import cancel_shipment, plan_shipment

PAGE_SIZE = 30
LOT_SUGGESTIONS = 50

screen_roles_only = role_required(*SCREEN_ROLES)


# --- The list ---------------------------------------------------------------------------------


@screen_roles_only
def shipment_list(request):
    shipments = with_recalled_lots(shipments_visible_to(request.user))
    wanted = request.GET.get("status", "")
    if wanted in ShipmentStatus.values:
        shipments = shipments.filter(status=wanted)
    else:
        wanted = ""
    page = Paginator(shipments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "coldchain/shipment_list.html",
        {
            "page": page,
            "statuses": ShipmentStatus.choices,
            "wanted": wanted,
            "query": f"status={wanted}" if wanted else "",
        },
    )


# --- Planning ---------------------------------------------------------------------------------


def _plan_forms(request, data=None):
    user = request.user
    initial = None
    if data is None:
        start = (timezone.localtime() + timedelta(hours=1)).replace(
            minute=0, second=0, microsecond=0
        )
        initial = {"planned_departure_at": start, "planned_arrival_at": start + timedelta(hours=6)}
    form = ShipmentPlanForm(
        data,
        initial=initial,
        sites=Site.objects.order_by("name"),
        vehicles=vehicles_for_planning(user),
    )
    lot_forms = LotLineFormSet(data, prefix="lots", form_kwargs={"lots": lots_shippable_by(user)})
    return form, lot_forms, PatienceForm(data, prefix="range")


def _lot_suggestions(user):
    lots = lots_shippable_by(user).select_related("product")
    return lots.order_by("-harvest_date", "-id")[:LOT_SUGGESTIONS]


def _render_plan(request, form, lot_forms, patience, *, warnings=(), lot_errors=(), status=200):
    return render(
        request,
        "coldchain/shipment_form.html",
        {
            "form": form,
            "lot_forms": lot_forms,
            "patience": patience,
            "warnings": warnings,
            "lot_errors": lot_errors,
            "lot_suggestions": _lot_suggestions(request.user),
        },
        status=status,
    )


def _report(form, field: str | None, message) -> None:
    """Put a service's refusal on the form field it names, or above the form."""
    form.add_error(field if field in form.fields else None, message)


@screen_roles_only
def shipment_create(request):
    if request.method != "POST":
        return _render_plan(request, *_plan_forms(request))
    form, lot_forms, patience = _plan_forms(request, request.POST)
    if not (form.is_valid() and lot_forms.is_valid() and patience.is_valid()):
        return _render_plan(request, form, lot_forms, patience, status=400)
    data = form.cleaned_data
    try:
        shipment = plan_shipment(
            planned_by=request.user,
            origin=data["origin"],
            destination=data["destination"],
            vehicle=data["vehicle"],
            lots=lots_from(lot_forms),
            planned_departure_at=data["planned_departure_at"],
            planned_arrival_at=data["planned_arrival_at"],
            code=data["code"],
            accept_warnings=data["accept_warnings"],
            **patience.cleaned_data,
        )
    except MixedLoadNeedsConfirmation as warning:
        return _render_plan(request, form, lot_forms, patience, warnings=warning.warnings)
    except DomainError as error:  # a bad value, or a lot, order or vehicle out of reach
        if error.field == "lots":
            return _render_plan(
                request, form, lot_forms, patience, lot_errors=[error.message], status=400
            )
        _report(form, error.field, error.message)
        return _render_plan(request, form, lot_forms, patience, status=400)
    except PermissionDenied as refusal:
        _report(form, "origin", str(refusal))
        return _render_plan(request, form, lot_forms, patience, status=400)
    except ValidationError as error:
        problems = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
        for field, texts in problems.items():
            for text in texts:
                _report(patience if field in patience.fields else form, field, text)
        return _render_plan(request, form, lot_forms, patience, status=400)
    messages.success(request, _("Shipment %(code)s is planned.") % {"code": shipment.code})
    return redirect("coldchain:shipment_detail", pk=shipment.pk)


# --- The shipment page ------------------------------------------------------------------------


def _visible_shipment(request, pk: int):
    return get_visible_or_404(shipments_visible_to(request.user), pk=pk)


@screen_roles_only
def shipment_detail(request, pk: int):
    shipment = get_visible_or_404(shipments_with_details(request.user), pk=pk)
    user = request.user
    may_load = handover_due(shipment, HandoverKind.LOADING) and may_record_handover(
        user, shipment, HandoverKind.LOADING
    )
    may_unload = handover_due(shipment, HandoverKind.UNLOADING) and may_record_handover(
        user, shipment, HandoverKind.UNLOADING
    )
    return render(
        request,
        "coldchain/shipment_detail.html",
        {
            "shipment": shipment,
            "readings_url": reverse("coldchain-shipment-readings", kwargs={"pk": shipment.pk}),
            "may_load": may_load,
            "may_unload": may_unload,
            "may_cancel": shipment.can_move_to(ShipmentStatus.CANCELLED)
            and may_plan_between(user, shipment.origin, shipment.destination),
            "kinds": HandoverKind,
            "late_readings": subject_readings(shipment).filter(late=True).count(),
        },
    )


@screen_roles_only
@require_POST
def shipment_cancel(request, pk: int):
    shipment = _visible_shipment(request, pk)
    try:
        cancel_shipment(shipment=shipment, by=request.user)
    except DomainError as refusal:  # it has left already (409)
        messages.error(request, refusal.message)
        return redirect("coldchain:shipment_detail", pk=shipment.pk)
    messages.success(request, _("Shipment %(code)s is cancelled.") % {"code": shipment.code})
    return redirect("coldchain:shipment_detail", pk=shipment.pk)


# --- Handovers --------------------------------------------------------------------------------


@screen_roles_only
def handover(request, pk: int, kind: str):
    """Loading or unloading: the probe temperature, accept or reject, a note. Someone who sees
    the shipment but works at the other end gets 403."""
    shipment = _visible_shipment(request, pk)
    if not may_record_handover(request.user, shipment, kind):
        raise PermissionDenied
    form = HandoverForm(request.POST if request.method == "POST" else None)
    status = 200
    is_due = handover_due(shipment, kind)
    if form.is_valid():
        data = form.cleaned_data
        try:
            recorded = record_handover(
                shipment=shipment,
                kind=kind,
                decision=data["decision"],
                probe_temperature_c=data["probe_temperature_c"],
                note=data["note"],
                by=request.user,
            )
        except DomainError as error:  # 400 for bad input, 409 when it is not due (any more)
            _report(form, error.field, error.message)
            status = status_for(error)
        else:
            if recorded.decision == HandoverDecision.ACCEPTED:
                text = _("%(kind)s recorded: the goods are accepted.")
            else:
                text = _("%(kind)s recorded: the goods are rejected.")
            messages.success(request, text % {"kind": recorded.get_kind_display()})
            return redirect("coldchain:shipment_detail", pk=shipment.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "coldchain/handover_form.html",
        {
            "shipment": shipment,
            "kind": kind,
            "kind_label": HandoverKind(kind).label,
            "form": form,
            "is_due": is_due,
        },
        status=status,
    )


@screen_roles_only
def handover_record(request, pk: int, kind: str):
    """The logger record attached at the handover, as the CSV file it was saved as."""
    shipment = _visible_shipment(request, pk)
    attached = Handover.objects.filter(shipment=shipment, kind=kind).first()
    if attached is None:
        raise Http404
    return handover_record_response(attached)


KIND = r"(?P<kind>loading|unloading)"

urlpatterns = [
    path("shipments/", shipment_list, name="shipment_list"),
    path("shipments/new/", shipment_create, name="shipment_create"),
    path("shipments/<int:pk>/", shipment_detail, name="shipment_detail"),
    path("shipments/<int:pk>/cancel/", shipment_cancel, name="shipment_cancel"),
    re_path(rf"^shipments/(?P<pk>[0-9]+)/handover/{KIND}/$", handover, name="handover"),
    re_path(
        rf"^shipments/(?P<pk>[0-9]+)/handover/{KIND}/record/$",
        handover_record,
        name="handover_record",
    ),
]
