"""The public home page (/): what FreshChain is for each kind of user, today's wholesale
prices from the price board, a box for a trace code, and the ways in. Signed-in people go
straight to their workspace.

It lives with the public trace pages because its trace box leads there; the prices come
from the price board's selector (marketplace.markets), an app below this one.
"""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from common.dates import business_today
from common.units import WeightUnit, unit_of
from marketplace.markets.selectors.prices import daily_prices, latest_trading_day, price_for_unit

from ..codes import CODE_LENGTH, normalise
from ..exceptions import UnknownTraceCode
from ..selectors.codes import trace_code_named

PRICES_SHOWN = 8


class TraceCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Trace code"),
        max_length=200,  # a whole scanned link is accepted too
        help_text=_("The 12 letters and digits under the QR code on a label or receipt."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        code = normalise(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(
                _("A trace code has %(count)s letters and digits, e.g. 7K2M-Q9XP-4TDA."),
                params={"count": CODE_LENGTH},
            )
        return code


@dataclass(frozen=True)
class HomePrice:
    name_zh: str
    name_en: str
    average: Decimal
    low: Decimal
    high: Decimal


def _prices(unit: str) -> tuple[list[HomePrice], object]:
    """The day's published board rows (today's, or the last trading day's while today has
    too few trades to publish), and that day."""
    today = business_today()
    for day in (today, latest_trading_day(before=today)):
        if day is None:
            break
        rows = [row for row in daily_prices(business_date=day) if row.published]
        if rows:
            return [
                HomePrice(
                    name_zh=row.product_name_zh,
                    name_en=row.product_name_en,
                    average=price_for_unit(row.avg_price, unit),
                    low=price_for_unit(row.min_price, unit),
                    high=price_for_unit(row.max_price, unit),
                )
                for row in rows[:PRICES_SHOWN]
            ], day
    return [], None


def _render(request, form: TraceCodeForm, *, status: int = 200):
    unit = unit_of(request.user)
    prices, day = _prices(unit)
    return render(
        request,
        "home/index.html",
        {
            "form": form,
            "prices": prices,
            "prices_day": day,
            "prices_today": day == business_today(),
            "unit_label": WeightUnit(unit).label,
        },
        status=status,
    )


def home(request):
    if request.user.is_authenticated:
        return redirect("accounts:workspace")
    return _render(request, TraceCodeForm())


def trace_code(request):
    """The home page's trace box: a known code opens its public trace page; a malformed or
    unknown one comes back to the box with a message saying which."""
    form = TraceCodeForm(request.GET)
    if not form.is_valid():
        return _render(request, form, status=400)
    try:
        found = trace_code_named(form.cleaned_data["code"])
    except UnknownTraceCode:
        form.add_error(
            "code",
            _(
                "No produce has this trace code. Check the code on the label; "
                "a withdrawn label no longer opens a page."
            ),
        )
        return _render(request, form, status=404)
    return redirect("traceability:public_trace", code=found.code)


urlpatterns = [
    path("", home, name="home"),
    path("trace-code/", trace_code, name="trace_code"),
]
