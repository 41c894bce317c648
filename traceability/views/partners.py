"""Partner systems' keys for the EPCIS interfaces, under /trace/partners/: the list of keys the
person manages, the form that issues one (the key is shown once, on the page that answers the
form, and never again) and the revoke button.

The platform admin sees every key and may limit a new one to a co-operative, a market or
neither; a co-operative manager sees and issues only keys limited to his own co-operative.
Anyone else: 403.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.permissions import is_admin
from common.exceptions import DomainError
from common.forms import add_service_error
from farms.models import Cooperative
from farms.selectors import cooperative_managed_by
from marketplace.markets.models import Market

from ..models import PartnerSystem
from ..selectors.epcis_partners import last_jobs_of, partners_visible_to
from ..services.epcis_partners import issue_key_as, revoke_key_as


class IssueKeyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Partner's system"), max_length=120)
    cooperative = forms.ModelChoiceField(
        label=gettext_lazy("Limited to co-operative"),
        queryset=Cooperative.objects.order_by("name"),
        required=False,
    )
    market = forms.ModelChoiceField(
        label=gettext_lazy("Limited to market"),
        queryset=Market.objects.order_by("name"),
        required=False,
    )
    may_capture = forms.BooleanField(
        label=gettext_lazy("May send events"), required=False, initial=True
    )
    may_query = forms.BooleanField(
        label=gettext_lazy("May query events"), required=False, initial=True
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not is_admin(user):  # a manager's keys are his co-operative's: nothing to choose
            del self.fields["cooperative"]
            del self.fields["market"]


def _may_manage(user) -> bool:
    return is_admin(user) or cooperative_managed_by(user) is not None


@login_required
def partner_list(request):
    if not _may_manage(request.user):
        raise PermissionDenied
    form = IssueKeyForm(request.POST or None, user=request.user)
    issued = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            partner, raw_key = issue_key_as(
                request.user,
                name=data["name"],
                cooperative=data.get("cooperative"),
                market=data.get("market"),
                may_capture=data["may_capture"],
                may_query=data["may_query"],
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            issued = {"partner": partner, "key": raw_key}
            form = IssueKeyForm(user=request.user)
    partners = list(partners_visible_to(request.user).order_by("revoked_at", "name", "id"))
    last_jobs = last_jobs_of([partner.pk for partner in partners])
    context = {
        "form": form,
        "issued": issued,
        "rows": [{"partner": p, "last_job": last_jobs.get(p.pk)} for p in partners],
    }
    response = render(request, "traceability/partners/list.html", context)
    if issued:
        response["Cache-Control"] = "no-store"  # the key is on this page only
    return response


@login_required
@require_POST
def partner_revoke(request, pk: int):
    if not _may_manage(request.user):
        raise PermissionDenied
    try:
        partner = revoke_key_as(request.user, partner_id=pk)
    except PartnerSystem.DoesNotExist as missing:
        raise Http404 from missing
    messages.success(request, _("The key of %(name)s is revoked.") % {"name": partner.name})
    return redirect("traceability:partner_list")


urlpatterns = [
    path("trace/partners/", partner_list, name="partner_list"),
    path("trace/partners/<int:pk>/revoke/", partner_revoke, name="partner_revoke"),
]
