"""Adding FreshChain to a phone's home screen: the web app manifest and /favicon.ico.

The manifest's start URL is the signed-in person's workspace (a farmer's icon opens her
workspace, a courier's his), and the home page for a visitor; the page links it with
crossorigin="use-credentials" so the browser sends the session when it fetches it.
"""

from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .choices import Role

THEME_COLOUR = "#1f7a3d"  # --green of static/css/app.css
BACKGROUND_COLOUR = "#f5f7f5"  # --bg
ICONS = (
    ("icons/icon.svg", "any", "image/svg+xml", "any"),
    ("icons/icon-192.png", "192x192", "image/png", "any"),
    ("icons/icon-512.png", "512x512", "image/png", "any"),
    ("icons/maskable-192.png", "192x192", "image/png", "maskable"),
    ("icons/maskable-512.png", "512x512", "image/png", "maskable"),
)
FAVICON_SECONDS = 7 * 24 * 3600


def start_url_for(user) -> str:
    if not user.is_authenticated:
        return reverse("home")
    role = Role.ADMIN if user.is_platform_admin else user.role
    return reverse("accounts:role_workspace", kwargs={"role": role})


def manifest(request):
    data = {
        "id": "/",
        "name": _("FreshChain · farm to doorstep"),
        "short_name": _("FreshChain"),
        "description": _(
            "Fresh produce from the farm gate to a city doorstep: sell, buy, trace and deliver."
        ),
        "lang": get_language(),
        "start_url": start_url_for(request.user),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {"src": static(path), "sizes": sizes, "type": kind, "purpose": purpose}
            for path, sizes, kind, purpose in ICONS
        ],
    }
    response = JsonResponse(data, content_type="application/manifest+json")
    patch_cache_control(response, private=True, max_age=3600)
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links; answer with the icon."""
    path = finders.find("icons/favicon.ico")
    if not path:
        raise Http404
    # A few kilobytes, answered whole (a file stream would be iterated synchronously under ASGI).
    response = HttpResponse(Path(path).read_bytes(), content_type="image/x-icon")
    patch_cache_control(response, public=True, max_age=FAVICON_SECONDS)
    return response
