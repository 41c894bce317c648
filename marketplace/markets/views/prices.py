"""The public daily price board (价格行情) and each product's 30-day price history.

No sign-in needed. Prices are per kg, or per 斤 for a signed-in user who reads weights in
斤; each figure is rounded once, here, where it is shown.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from common.dates import business_today
from common.units import WeightUnit, kg_in, unit_of
from farms.models import Product

from ..models import Market
from ..selectors.prices import (
    HISTORY_DAYS,
    DailyPrice,
    daily_prices,
    history_start,
    latest_trading_day,
    price_for_unit,
    price_history,
)

MAX_SEARCH = 60


class PriceBoardForm(forms.Form):
    date = forms.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(
        label=_("Product"),
        required=False,
        max_length=MAX_SEARCH,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. 白菜, tomato")}),
    )
    market = forms.ModelChoiceField(
        label=_("Market"),
        required=False,
        queryset=Market.objects.order_by("name"),
        to_field_name="code",
        empty_label=_("All markets"),
    )


class PriceHistoryForm(forms.Form):
    date = forms.DateField(required=False)
    market = forms.ModelChoiceField(
        required=False, queryset=Market.objects.order_by("name"), to_field_name="code"
    )


@dataclass(frozen=True)
class PriceRow:
    """A board or history row in the reader's unit; figures are None while unpublished."""

    day: DailyPrice
    min_price: Decimal | None
    avg_price: Decimal | None
    max_price: Decimal | None
    volume: Decimal | None


def _shown(rows: list[DailyPrice], unit: str) -> list[PriceRow]:
    return [
        PriceRow(
            day=row,
            min_price=price_for_unit(row.min_price, unit),
            avg_price=price_for_unit(row.avg_price, unit),
            max_price=price_for_unit(row.max_price, unit),
            volume=None if row.volume_kg is None else kg_in(unit, row.volume_kg).normalize(),
        )
        for row in rows
    ]


def _unit_context(user) -> dict:
    unit = unit_of(user)
    return {
        "unit": unit,
        "unit_label": WeightUnit(unit).label,
        "min_trades": settings.PRICE_BOARD_MIN_TRADES,
    }


def price_board(request):
    """Today's prices (or ?date=) per product, grouped by category; ?q= finds a product."""
    form = PriceBoardForm(request.GET or None)
    today = business_today()
    day, market, search = today, None, ""
    if form.is_valid():
        day = form.cleaned_data["date"] or today
        market = form.cleaned_data["market"]
        search = form.cleaned_data["q"]
    unit = unit_of(request.user)
    rows = _shown(daily_prices(business_date=day, market=market, search=search), unit)
    latest = None
    if not rows and not search:
        latest = latest_trading_day(before=day, market=market)
    return render(
        request,
        "marketplace/markets/prices/board.html",
        {
            "form": form,
            "day": day,
            "today": today,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1) if day < today else None,
            "market": market,
            "search": search,
            "rows": rows,
            "latest": latest,
            **_unit_context(request.user),
        },
    )


def _chart_data(rows: list[PriceRow], *, since: date, until: date) -> dict:
    """Every day of the window, with null where nothing traded, so the chart's gaps are real."""
    by_day = {row.day.business_date: row for row in rows if row.day.published}
    days = [since + timedelta(days=offset) for offset in range((until - since).days + 1)]

    def series(value) -> list:
        return [
            f"{value(by_day[day]):f}" if day in by_day else None  # strings: no float rounding
            for day in days
        ]

    return {
        "days": [day.isoformat() for day in days],
        "min": series(lambda row: row.min_price),
        "avg": series(lambda row: row.avg_price),
        "max": series(lambda row: row.max_price),
        "volume": series(lambda row: row.volume),
    }


def _chart_labels(unit_label: str) -> dict:
    return {
        "day": str(_("Day")),
        "min": str(_("Lowest ¥/%(unit)s") % {"unit": unit_label}),
        "avg": str(_("Average ¥/%(unit)s") % {"unit": unit_label}),
        "max": str(_("Highest ¥/%(unit)s") % {"unit": unit_label}),
        "volume": str(_("Volume (%(unit)s)") % {"unit": unit_label}),
    }


def price_history_page(request, code: str):
    """A product's last 30 days: a min–max band with the average line, and the volume."""
    product = get_object_or_404(Product, code=code)
    form = PriceHistoryForm(request.GET or None)
    today = business_today()
    until, market = today, None
    if form.is_valid():
        until = min(form.cleaned_data["date"] or today, today)
        market = form.cleaned_data["market"]
    since = history_start(until=until)
    unit_context = _unit_context(request.user)
    rows = _shown(price_history(product=product, until=until, market=market), unit_context["unit"])
    return render(
        request,
        "marketplace/markets/prices/history.html",
        {
            "product": product,
            "market": market,
            "since": since,
            "until": until,
            "days": HISTORY_DAYS,
            "rows": list(reversed(rows)),  # the table reads newest first
            "latest": next((row for row in reversed(rows) if row.day.published), None),
            "chart": _chart_data(rows, since=since, until=until),
            "chart_labels": _chart_labels(unit_context["unit_label"]),
            **unit_context,
        },
    )


urlpatterns = [
    path("prices/", price_board, name="price_board"),
    path("prices/<str:code>/", price_history_page, name="price_history"),
]
