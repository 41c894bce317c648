"""The tower's pages, under /tower/: the screen, and the daily digest as a PDF.

The screen is a shell: static/js/controltower/tower.js loads GET /api/tower/screen/ and
GET /api/tower/trends/ and reloads the snapshot every ten seconds (see the README for why it
polls rather than listens).
"""

from datetime import date, timedelta

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, register_converter, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.permissions import role_required
from common.dates import business_today

from .digest_pdf import digest_filename, digest_pdf
from .selectors.digest import digest_figures, kept_digest
from .selectors.scope import TOWER_ROLES, scope_of

# The screen reloads its snapshot this often; the trends, which move by the day, every minute.
REFRESH_SECONDS = 10
TRENDS_REFRESH_SECONDS = 60


class IsoDateConverter:
    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> date:
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(value) from exc  # a 404, as for any path that matches nothing

    def to_url(self, value) -> str:
        return value.isoformat() if isinstance(value, date) else str(value)


register_converter(IsoDateConverter, "isodate")


def _strings() -> dict:
    """Words tower.js writes itself; the rest are in the page."""
    return {
        "live": pgettext("screen connection", "Live"),
        "updated": _("Updated %(time)s"),
        "load_failed": _("Could not load the screen; trying again."),
        "signed_out": _("Signed out: sign in again to see the screen."),
        "market": _("Wholesale market"),
        "warehouse": _("Front warehouse"),
        "trades": _("trades"),
        "tonnes": _("t"),
        "orders": _("orders"),
        "on_time": _("on time"),
        "no_deliveries": _("no deliveries yet"),
        "volume": _("Volume (t)"),
        "price_index": _("Price index"),
        "loss_rate": _("Loss rate (%)"),
        "on_time_rate": _("On-time rate (%)"),
        "excursion_minutes": _("Excursion minutes"),
        "no_data": _("No data in these 30 days."),
    }


@role_required(*TOWER_ROLES)
def screen(request):
    scope = scope_of(request.user)
    yesterday = business_today() - timedelta(days=1)
    return render(
        request,
        "controltower/screen.html",
        {
            "scope": scope,
            "digest_day": yesterday,
            "tower_config": {
                "screen_url": reverse("tower-screen"),
                "trends_url": reverse("tower-trends"),
                "refresh_seconds": REFRESH_SECONDS,
                "trends_refresh_seconds": TRENDS_REFRESH_SECONDS,
                "time_zone": timezone.get_current_timezone_name(),
                "strings": _strings(),
            },
        },
    )


@role_required(*TOWER_ROLES)
def digest(request, day: date):
    """The digest of a past day in the user's area: the one kept that morning, or, for a day
    none was kept (before the tower existed, or a missed run), the figures as they are now."""
    if day >= business_today():
        raise Http404
    scope = scope_of(request.user)
    kept = kept_digest(scope, day)
    figures = kept.figures if kept else digest_figures(scope, day=day, now=timezone.now())
    response = HttpResponse(digest_pdf(figures), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{digest_filename(figures)}"'
    return response


urlpatterns = [
    path("", screen, name="screen"),
    path("digest/<isodate:day>/", digest, name="digest"),
]
