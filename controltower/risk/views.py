"""The risk warnings' pages, for the platform admin and regulators:

- /tower/warnings/: the open warnings (the panel of `_warnings.html`), live over
  ws/tower/warnings/;
- /tower/warnings/panel/: the panel alone, which its script fetches again on each live event;
- POST /tower/warnings/<id>/acknowledge/: a person has seen it; back to the page it came from.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import get_visible_or_404, role_required
from common.exceptions import DomainError

from ..selectors.risk import TOWER_ROLES, warnings_visible_to
from ..services.risk import acknowledge_warning


@require_GET
@role_required(*TOWER_ROLES)
def warnings_page(request):
    return render(request, "controltower/warnings.html")


@require_GET
@role_required(*TOWER_ROLES)
def warnings_panel(request):
    return render(request, "controltower/_warnings.html")


@require_POST
@role_required(*TOWER_ROLES)
def acknowledge(request, pk: int):
    warning = get_visible_or_404(warnings_visible_to(request.user), pk=pk)
    try:
        acknowledge_warning(warning_id=warning.pk, by=request.user)
    except DomainError as refusal:
        messages.error(request, str(refusal.message))
    else:
        messages.success(request, _("Warning acknowledged."))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("controltower:warnings")
