"""Pages of card applications, under /market/cards/.

A buyer (a restaurant's or a shop's account) sees the markets that take applications, applies
to one and follows her applications; the other roles get 403. A market's operators see their
market's applications, issue a card from the market's stock or decline with a reason; an
application of another market is not found (404), as for every operator page.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from accounts.addresses import client_address
from accounts.permissions import get_visible_or_404, role_required
from common.exceptions import DomainError
from common.forms import add_service_error

from .. import cards
from ..choices import CardApplicationStatus
from ..forms import CardApplicationForm, DeclineCardApplicationForm, IssueCardForm
from ..selectors.cards import (
    applications_of,
    market_card_applications,
    markets_for_applicant,
    markets_taking_applications,
)
from .counter import operator_page

TEMPLATES = "marketplace/markets/cards/"
applicant_page = role_required(*cards.APPLYING_ROLES)


# --- The applicant -------------------------------------------------------------------------


@applicant_page
def card_markets(request):
    """The markets that take applications, where she stands with each, her applications."""
    return render(
        request,
        TEMPLATES + "markets.html",
        {
            "markets": markets_for_applicant(request.user),
            "applications": applications_of(request.user),
        },
    )


@applicant_page
def card_apply(request, market_id: int):
    market = get_visible_or_404(markets_taking_applications(), pk=market_id)
    initial = {"contact_name": request.user.display_name, "contact_phone": request.user.phone}
    form = CardApplicationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            cards.apply_for_card(applicant=request.user, market_id=market.pk, **form.cleaned_data)
        except DomainError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Your application is with %(market)s; you are told here and by SMS when it "
                    "answers."
                )
                % {"market": market.name},
            )
            return redirect("markets:cards")
    return render(request, TEMPLATES + "apply.html", {"form": form, "market": market})


# --- The market's operators ----------------------------------------------------------------


@operator_page
def card_queue(request, market):
    """Applications waiting for the market, oldest first, then those it decided."""
    status = request.GET.get("status", "")
    if status not in CardApplicationStatus.values:
        status = ""
    return render(
        request,
        TEMPLATES + "queue.html",
        {
            "market": market,
            "applications": market_card_applications(market=market, status=status or None)[:200],
            "status": status,
            "statuses": CardApplicationStatus,
        },
    )


@operator_page
def card_application(request, market, pk: int):
    """One application: issue a card (the number from the stock) or decline with a reason."""
    application = get_visible_or_404(market_card_applications(market=market), pk=pk)
    issue_form = IssueCardForm(request.POST if "issue" in request.POST else None)
    decline_form = DeclineCardApplicationForm(request.POST if "decline" in request.POST else None)
    if request.method == "POST" and application.is_pending:
        form, decide, done = (
            (issue_form, _issue, _("Card %(card)s is issued to %(name)s."))
            if "issue" in request.POST
            else (decline_form, _decline, _("The application of %(name)s is declined."))
        )
        if form.is_valid():
            try:
                decided = decide(request, market, application, form.cleaned_data)
            except DomainError as error:
                add_service_error(form, error)
            else:
                card = decided.trader.card_number if decided.trader else ""
                messages.success(request, done % {"card": card, "name": decided.business_name})
                return redirect("markets:card_queue")
    return render(
        request,
        TEMPLATES + "application.html",
        {"application": application, "issue_form": issue_form, "decline_form": decline_form},
    )


def _issue(request, market, application, data):
    return cards.approve_card_application(
        market=market,
        by=request.user,
        application_id=application.pk,
        card_number=data["card_number"],
        address=client_address(request),
    )


def _decline(request, market, application, data):
    return cards.decline_card_application(
        market=market,
        by=request.user,
        application_id=application.pk,
        reason=data["reason"],
        address=client_address(request),
    )


urlpatterns = [
    path("cards/", card_markets, name="cards"),
    path("cards/<int:market_id>/apply/", card_apply, name="card_apply"),
    path("card-applications/", card_queue, name="card_queue"),
    path("card-applications/<int:pk>/", card_application, name="card_application"),
]
