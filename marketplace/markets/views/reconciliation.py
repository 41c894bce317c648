"""Pages: reconciliation of the operator's market for a business day.

The trial balance of the market's book, its balances against their postings, and the day's
trades against the day's settlement entries and reversals, each with a ✓ or ✗ and the figures
(marketplace.markets.reconciliation.reconcile does the work; this page only shows it).
"""

from datetime import timedelta

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.permissions import role_required
from common.dates import business_today
from marketplace.markets.reconciliation import reconcile
from marketplace.markets.services import market_of
from settlement.findings import CHECK_BALANCES, CHECK_TRIAL_BALANCE


class BusinessDayForm(forms.Form):
    date = forms.DateField(
        label=_("Business day"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )


@role_required(Role.MARKET_OPERATOR)
def reconciliation(request):
    market = market_of(request.user)
    if market is None:
        raise Http404
    form = BusinessDayForm(request.GET or None, initial={"date": business_today()})
    day = business_today()
    if form.is_valid() and form.cleaned_data["date"]:
        day = form.cleaned_data["date"]
    result = reconcile(market=market, business_date=day)
    book, figures = result.books[0], result.days[0]
    comparisons = [
        (_("Count"), figures.count),
        (_("Buyers paid (¥)"), figures.buyers_paid),
        (_("Sellers owed (¥)"), figures.sellers_owed),
        (_("Commission (¥)"), figures.commission),
    ]
    context = {
        "market": market,
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "is_today": day == business_today(),
        "form": form,
        "result": result,
        "book": book,
        "figures": figures,
        "comparisons": comparisons,
        "trial_balance_ok": result.passed(CHECK_TRIAL_BALANCE),
        "balances_ok": result.passed(CHECK_BALANCES),
        "errors": [finding for finding in result.findings if finding.is_error],
    }
    return render(request, "marketplace/markets/reconciliation.html", context)


urlpatterns: list = [
    path("reconciliation/", reconciliation, name="reconciliation"),
]
