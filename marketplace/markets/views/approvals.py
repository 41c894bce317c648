"""Pages of maker–checker at the counter, under /market/: the requests waiting for a
supervisor (her queue with approve and decline; each operator's own requests) and the
cash-drawer count at the end of the day.

For market operators of their own market only: a request of another market is not found
(404); approving or declining is for a supervisor other than the requester (403 for an
operator who is not a supervisor; the service refuses the requester herself).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.addresses import client_address
from accounts.models import User
from accounts.permissions import get_visible_or_404
from common.dates import business_today
from common.exceptions import DomainError
from common.forms import add_service_error

from .. import drawers, funding
from ..forms import DeclineRequestForm, DrawerCountForm
from ..selectors.counter import is_supervisor
from ..selectors.funding import (
    drawers_of_day,
    market_requests,
    pending_requests,
    requests_made_by,
)
from .counter import TEMPLATES, operator_page


@operator_page
def request_list(request, market):
    """The queue of requests waiting for a decision (a supervisor's, with her buttons) and the
    operator's own requests with how they were decided."""
    supervisor = is_supervisor(user=request.user, market=market)
    return render(
        request,
        TEMPLATES + "requests.html",
        {
            "queue": pending_requests(market=market) if supervisor else None,
            "mine": requests_made_by(market=market, user=request.user),
            "decline_form": DeclineRequestForm(),
        },
    )


def _supervisor_only(request, market) -> None:
    if not is_supervisor(user=request.user, market=market):
        raise PermissionDenied


@require_POST
@operator_page
def request_approve(request, market, pk: int):
    funding_request = get_visible_or_404(market_requests(market=market), pk=pk)
    _supervisor_only(request, market)
    try:
        funding.approve_funding_request(
            market=market,
            by=request.user,
            request_id=funding_request.pk,
            address=client_address(request),
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("Request #%(id)s is approved and booked on the card.") % {"id": funding_request.pk},
        )
    return redirect("markets:requests")


@operator_page
def request_decline(request, market, pk: int):
    """Decline a request with a reason, after seeing what it was."""
    funding_request = get_visible_or_404(market_requests(market=market), pk=pk)
    _supervisor_only(request, market)
    form = DeclineRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            funding.decline_funding_request(
                market=market,
                by=request.user,
                request_id=funding_request.pk,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("Request #%(id)s is declined.") % {"id": funding_request.pk}
            )
            return redirect("markets:requests")
    return render(
        request,
        TEMPLATES + "request_decline.html",
        {"funding_request": funding_request, "form": form},
    )


@operator_page
def drawer_count(request, market):
    """Record the cash counted in a drawer today (a supervisor picks whose); the day's
    drawers (a supervisor sees every one, an operator her own)."""
    supervisor = is_supervisor(user=request.user, market=market)
    operators = User.objects.filter(market_staff__market=market) if supervisor else None
    form = DrawerCountForm(
        request.POST or None, operators=operators, initial={"operator": request.user}
    )
    if request.method == "POST" and form.is_valid():
        operator = form.cleaned_data.get("operator") or request.user
        try:
            count = drawers.record_drawer_count(
                market=market,
                by=request.user,
                counted=form.cleaned_data["counted"],
                operator_id=operator.pk,
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("Drawer of %(name)s counted: ¥%(counted)s, difference ¥%(difference)s.")
                % {
                    "name": operator,
                    "counted": count.counted.amount,
                    "difference": count.difference.amount,
                },
            )
            return redirect("markets:drawer_count")
    today = business_today()
    lines = drawers_of_day(market=market, business_date=today)
    if not supervisor:
        lines = [line for line in lines if line.operator.pk == request.user.pk]
    return render(
        request, TEMPLATES + "drawer_count.html", {"form": form, "lines": lines, "day": today}
    )


urlpatterns = [
    path("requests/", request_list, name="requests"),
    path("requests/<int:pk>/approve/", request_approve, name="request_approve"),
    path("requests/<int:pk>/decline/", request_decline, name="request_decline"),
    path("drawer/", drawer_count, name="drawer_count"),
]
