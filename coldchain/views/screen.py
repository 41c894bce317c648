"""The tracking wall screen, /coldchain/: a map of vehicles and cold stores, the shipments
coloured by state with a live temperature chart each, and the alerts panel.

The page is a shell: static/js/coldchain/screen.js loads GET /api/coldchain/screen/ and
applies the events of ws/coldchain/, reloading the snapshot on every (re)connect, so the
first paint and a recovery after a lost connection are the same code path.
"""

from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.permissions import role_required

from ..choices import AlertKind, ExcursionKind, Severity, ShipmentStatus
from ..selectors.visibility import SCREEN_ROLES, sees_everything


def _strings() -> dict:
    """Words screen.js writes itself; the rest are in the page's <template>s."""
    return {
        "connecting": _("Connecting…"),
        "live": pgettext("screen connection", "Live"),
        "reconnecting": _("Connection lost, reconnecting…"),
        "signed_out": _("Signed out: sign in again to see the screen."),
        "not_allowed": _("This account has no cold-chain screen."),
        "load_failed": _("Could not load the screen; trying again."),
        "no_reading": _("No reading yet"),
        "no_position": _("No position yet"),
        "no_vehicle": _("No vehicle"),
        "resolved": pgettext("alert", "Resolved"),
        "acknowledged": pgettext("alert", "Acknowledged"),
        "acknowledge_failed": _("The alert could not be acknowledged; try again."),
        "cold_store": _("Cold store"),
    }


def _labels() -> dict:
    """Names of codes in the page's language: a live event carries the words of whichever
    request caused it (a logger's, in the default language), the screen shows its own."""
    return {
        "alert_kind": {code: str(label) for code, label in AlertKind.choices},
        "excursion_kind": {code: str(label) for code, label in ExcursionKind.choices},
        "severity": {str(code): str(label) for code, label in Severity.choices},
        "shipment_status": {code: str(label) for code, label in ShipmentStatus.choices},
    }


@role_required(*SCREEN_ROLES)
def screen(request):
    return render(
        request,
        "coldchain/screen.html",
        {
            "can_acknowledge": sees_everything(request.user),
            "screen_config": {
                "snapshot_url": reverse("coldchain-screen"),
                "alerts_url": reverse("coldchain-alert-list"),
                "socket_path": "/ws/coldchain/",
                "can_acknowledge": sees_everything(request.user),
                "time_zone": timezone.get_current_timezone_name(),
                "strings": _strings(),
                "labels": _labels(),
            },
        },
    )


urlpatterns = [
    path("", screen, name="screen"),
]
