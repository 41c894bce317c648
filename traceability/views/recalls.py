"""Pages of recalls, under /trace/recalls/: the list (and the form that opens one), a recall's
page (its scope, who was reached and who acknowledged, quantities returned and destroyed, the
party's acknowledge button and disposition form, the runner's close form) and its report.

Whoever is signed in sees the recalls she runs or was told of (anything else: 404); opening
and closing are for who may run the recall (traceability.selectors.recalls), 403 otherwise.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from common.exceptions import DomainError
from common.forms import add_service_error

from ..exceptions import RecallNotFound
from ..models import RecallReach, RecallSeverity
from ..reports import recall_report_pdf, report_filename
from ..selectors.recalls import (
    lots_recallable_by,
    may_open_recalls,
    notice_of,
    notices_of,
    party_label,
    recall_summary,
    recall_visible_to,
    recalls_visible_to,
    runs_recall,
    scope_visible_to,
)
from ..services import recalls as services

TEMPLATES = "traceability/recalls/"
SCOPE_PAGE = 100


class LotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.lot_code} · {obj.product} · {obj.farm.name}"


class OpenRecallForm(forms.Form):
    lot = LotChoiceField(label=gettext_lazy("Harvest lot"), queryset=None)
    severity = forms.ChoiceField(label=gettext_lazy("Severity"), choices=RecallSeverity.choices)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Told to everyone who took some of the lot."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = lots_recallable_by(user).order_by("-harvest_date", "-id")


class DispositionForm(forms.Form):
    scope_row = forms.IntegerField(widget=forms.HiddenInput)
    returned_kg = forms.DecimalField(
        label=gettext_lazy("Returned (kg)"), required=False, min_value=0, decimal_places=3
    )
    destroyed_kg = forms.DecimalField(
        label=gettext_lazy("Destroyed (kg)"), required=False, min_value=0, decimal_places=3
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=300)


class CloseRecallForm(forms.Form):
    false_alarm = forms.BooleanField(
        label=gettext_lazy("It was a false alarm: release the lot's hold"), required=False
    )
    note = forms.CharField(
        label=gettext_lazy("Closing note"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Required for a false alarm: say what cleared the lot."),
    )


def _recall_or_404(user, pk):
    try:
        return recall_visible_to(user, pk)
    except RecallNotFound as missing:
        raise Http404 from missing


@login_required
def recall_list(request):
    """The recalls the user runs or was told of, newest first; the form to open one for those
    who may recall some lot."""
    may_open = may_open_recalls(request.user)
    form = None
    if may_open:
        initial = {"lot": request.GET.get("lot")} if request.GET.get("lot") else None
        form = OpenRecallForm(request.POST or None, user=request.user, initial=initial)
    elif request.method == "POST":
        raise PermissionDenied
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            recall = services.open_recall(
                lot_id=data["lot"].pk,
                reason=data["reason"],
                severity=data["severity"],
                opened_by=request.user,
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Recall %(recall)s is open: the lot is held and its scope frozen. Every "
                    "party is being told."
                )
                % {"recall": recall},
            )
            return redirect("traceability:recall_detail", pk=recall.pk)
    recalls = recalls_visible_to(request.user).order_by("-opened_at", "-id")
    page = Paginator(recalls, 30).get_page(request.GET.get("page"))
    return render(request, TEMPLATES + "list.html", {"page": page, "form": form})


def _detail_context(request, recall, **forms_given) -> dict:
    user = request.user
    runs = runs_recall(user, recall)
    rows = Paginator(scope_visible_to(user, recall), SCOPE_PAGE).get_page(request.GET.get("page"))
    notice = notice_of(user, recall)
    reach_labels = dict(RecallReach.choices)
    notices = [
        {
            "party": party_label(n.user),
            "reached_as": ", ".join(str(reach_labels.get(r, r)) for r in n.reached_as),
            "notified_at": n.notified_at,
            "acknowledged_at": n.acknowledged_at,
            "note": n.acknowledgement_note,
        }
        for n in (notices_of(recall) if runs else ([notice] if notice else []))
    ]
    for row in rows:
        row.left_kg = row.quantity_kg - row.returned_kg - row.destroyed_kg
        row.may_answer = recall.is_open and row.left_kg > 0 and (runs or user.pk in row.user_ids)
    return {
        "recall": recall,
        "runs": runs,
        "summary": recall_summary(recall) if runs else None,
        "rows": rows,
        "notice": notice,
        "notices": notices,
        "disposition_form": forms_given.get("disposition_form") or DispositionForm(),
        "failed_row": forms_given.get("failed_row"),
        "close_form": forms_given.get("close_form") or CloseRecallForm(),
    }


@login_required
def recall_detail(request, pk: int):
    recall = _recall_or_404(request.user, pk)
    return render(request, TEMPLATES + "detail.html", _detail_context(request, recall))


@require_POST
@login_required
def recall_acknowledge(request, pk: int):
    recall = _recall_or_404(request.user, pk)
    if notice_of(request.user, recall) is None:
        raise PermissionDenied
    try:
        services.acknowledge_recall(
            recall_id=recall.pk, by=request.user, note=request.POST.get("note", "")
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Thank you: your acknowledgement is recorded."))
    return redirect("traceability:recall_detail", pk=recall.pk)


@require_POST
@login_required
def recall_disposition(request, pk: int):
    recall = _recall_or_404(request.user, pk)
    form = DispositionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_disposition(
                recall_id=recall.pk,
                scope_row_id=data["scope_row"],
                returned_kg=data["returned_kg"],
                destroyed_kg=data["destroyed_kg"],
                note=data["note"],
                by=request.user,
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Recorded."))
            return redirect("traceability:recall_detail", pk=recall.pk)
    context = _detail_context(
        request, recall, disposition_form=form, failed_row=form.data.get("scope_row")
    )
    return render(request, TEMPLATES + "detail.html", context, status=400)


@require_POST
@login_required
def recall_close(request, pk: int):
    recall = _recall_or_404(request.user, pk)
    if not runs_recall(request.user, recall):
        raise PermissionDenied
    form = CloseRecallForm(request.POST)
    if form.is_valid():
        try:
            services.close_recall(
                recall_id=recall.pk,
                by=request.user,
                false_alarm=form.cleaned_data["false_alarm"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The recall is closed; its report is ready."))
            return redirect("traceability:recall_detail", pk=recall.pk)
    context = _detail_context(request, recall, close_form=form)
    return render(request, TEMPLATES + "detail.html", context, status=400)


@login_required
def recall_report(request, pk: int):
    recall = _recall_or_404(request.user, pk)
    if not runs_recall(request.user, recall):
        raise PermissionDenied
    if recall.is_open:
        raise Http404
    response = HttpResponse(recall_report_pdf(recall), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{report_filename(recall)}"'
    return response


urlpatterns = [
    path("trace/recalls/", recall_list, name="recall_list"),
    path("trace/recalls/<int:pk>/", recall_detail, name="recall_detail"),
    path("trace/recalls/<int:pk>/acknowledge/", recall_acknowledge, name="recall_acknowledge"),
    path("trace/recalls/<int:pk>/dispositions/", recall_disposition, name="recall_disposition"),
    path("trace/recalls/<int:pk>/close/", recall_close, name="recall_close"),
    path("trace/recalls/<int:pk>/report.pdf", recall_report, name="recall_report"),
]
