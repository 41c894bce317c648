"""Pages: a market's business days and their end of day reports, for its operators.

An operator sees her own market's days only (a day of another market is simply not found);
other roles get 403. A supervisor may close a day early: the day stops taking trades at once
and the rest of end of day (payouts, statements, the report) is queued for a worker.
"""

from datetime import date
from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.choices import Role
from accounts.permissions import get_visible_or_404, role_required

from ... import tasks
from ..choices import DayStatus
from ..end_of_day import start_closing
from ..models import MarketStaff
from ..selectors.days import business_days_of, staff_post_of, statements_of_day, with_reports
from ..selectors.funding import drawers_of_day

PAGE_SIZE = 30


class CloseDayForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("Yes, close this day: no more trades, top-ups or withdrawals on it."),
        error_messages={"required": gettext_lazy("Tick the box to confirm.")},
    )


def _staff_post(request) -> MarketStaff:
    """The operator's post at her market; an operator of no market has no days to see."""
    post = staff_post_of(request.user)
    if post is None:
        raise Http404
    return post


def _business_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Http404 from None


@role_required(Role.MARKET_OPERATOR)
def day_list(request):
    post = _staff_post(request)
    page = Paginator(business_days_of(post.market), PAGE_SIZE).get_page(request.GET.get("page"))
    with_reports(page.object_list)
    return render(
        request,
        "marketplace/markets/days/day_list.html",
        {"market": post.market, "page": page, "statuses": DayStatus},
    )


@role_required(Role.MARKET_OPERATOR)
def day_report(request, business_date: str):
    post = _staff_post(request)
    return _render_report(request, post, _business_date(business_date), CloseDayForm())


def _render_report(request, post: MarketStaff, business_date: date, form, *, status=200):
    day = get_visible_or_404(business_days_of(post.market), business_date=business_date)
    with_reports([day])
    return render(
        request,
        "marketplace/markets/days/day_report.html",
        {
            "market": post.market,
            "day": day,
            "statements": statements_of_day(post.market, business_date),
            "drawers": drawers_of_day(market=post.market, business_date=business_date),
            "statuses": DayStatus,
            "may_close": post.is_supervisor and day.status != DayStatus.CLOSED,
            "form": form,
        },
        status=status,
    )


@role_required(Role.MARKET_OPERATOR)
@require_POST
def day_close(request, business_date: str):
    """A supervisor closes the day now: trades stop before this page answers; payouts,
    statements and the report are written by a worker (the nightly run finishes the day
    too, should no worker be running)."""
    post = _staff_post(request)
    day = get_visible_or_404(
        business_days_of(post.market), business_date=_business_date(business_date)
    )
    if not post.is_supervisor:
        raise PermissionDenied
    form = CloseDayForm(request.POST)
    if not form.is_valid():
        return _render_report(request, post, day.business_date, form, status=400)
    shown = day.business_date.isoformat()
    if day.status == DayStatus.CLOSED:
        messages.info(request, _("The business day %(date)s is already closed.") % {"date": shown})
        return redirect("markets:day_report", business_date=shown)
    start_closing(market=post.market, business_date=day.business_date, by=request.user)
    # robust: should the queue be down, the day stays closing and the nightly run finishes it.
    transaction.on_commit(
        partial(tasks.close_business_day.delay, post.market_id, shown, request.user.pk),
        robust=True,
    )
    messages.success(
        request,
        _(
            "The business day %(date)s is closed to trades. Payouts, statements and the report "
            "are being written in the background and appear here when done (by the nightly "
            "end of day at the latest)."
        )
        % {"date": shown},
    )
    return redirect("markets:day_report", business_date=shown)


DATE = r"(?P<business_date>[0-9]{4}-[0-9]{2}-[0-9]{2})"

urlpatterns = [
    path("days/", day_list, name="day_list"),
    re_path(rf"^days/{DATE}/$", day_report, name="day_report"),
    re_path(rf"^days/{DATE}/close/$", day_close, name="day_close"),
]
