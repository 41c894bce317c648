"""The Content-Security-Policy of every response (django-csp), completed per request.

The policy itself is CONTENT_SECURITY_POLICY in config/settings.py: scripts and styles only
from this site (no inline script, no style attribute), nothing framed. This middleware adds
what depends on the request or on settings read at run time: a nonce on every page (for a
script that ever needs one), this host's own WebSocket origin (not any ws: host), and the
host of MAP_TILES_URL for the maps' tiles.
"""

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.exceptions import DisallowedHost


def tiles_source(url: str) -> str | None:
    """The CSP source of an XYZ tile URL: `https://{s}.tile.example.org/{z}/{x}/{y}.png`
    → `https://*.tile.example.org` (a templated label becomes the leftmost wildcard)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    labels = parts.netloc.split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label]
    if templated:
        labels = ["*", *labels[templated[-1] + 1 :]]
    return f"{parts.scheme}://{'.'.join(labels)}"


def socket_origin(request) -> str | None:
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    return f"{'wss' if request.is_secure() else 'ws'}://{host}"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        parts.nonce = self._make_nonce(request)  # every page's header names one
        additions = {
            "connect-src": [socket_origin(request)],
            "img-src": [tiles_source(settings.MAP_TILES_URL)],
        }
        update = {key: list(values) for key, values in (parts.update or {}).items()}
        for directive, sources in additions.items():
            sources = [source for source in sources if source]
            if sources:
                update[directive] = [*update.get(directive, []), *sources]
        parts.update = update
        return parts
