"""The public trace page, with no sign-in: /t/<code>, and the GS1 Digital Link paths
/01/<GTIN>/10/<lot> and /01/<GTIN>/10/<lot>/21/<code> (the same page). An unknown or revoked
code gets a friendly 404 page (the same one: the page does not confirm which codes exist).

Every view is counted (services.scans.record_scan); the content comes from a short cache
(selectors.public), and the browser may keep the page a minute (a reload is not a new scan).
"""

from django.shortcuts import render
from django.urls import path, re_path
from django.utils.cache import patch_cache_control, patch_vary_headers

from ..exceptions import UnknownTraceCode
from ..selectors.codes import trace_code_named
from ..selectors.public import lot_of_digital_link, public_trace_cached
from ..services.scans import record_scan, scan_token

BROWSER_CACHE_SECONDS = 60


def client_address(request) -> str:
    """The address the request came from (the proxy in front sets REMOTE_ADDR; see deploy/),
    used only hashed."""
    return request.META.get("REMOTE_ADDR", "")


def _not_found(request):
    response = render(request, "traceability/public/not_found.html", status=404)
    patch_vary_headers(response, ["Accept-Language"])
    return response


def _page(request, *, lot, code):
    scan = record_scan(
        lot=lot,
        code=code,
        address=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    trace = public_trace_cached(lot=lot, code=code)
    response = render(
        request,
        "traceability/public/trace.html",
        {"trace": trace, "scan_token": scan_token(scan)},
    )
    patch_cache_control(response, private=True, max_age=BROWSER_CACHE_SECONDS)
    patch_vary_headers(response, ["Accept-Language"])
    return response


def trace_page(request, code: str):
    try:
        found = trace_code_named(code)
    except UnknownTraceCode:
        return _not_found(request)
    return _page(request, lot=found.lot, code=found)


def digital_link(request, gtin: str, lot_code: str, serial: str = ""):
    try:
        lot, code = lot_of_digital_link(gtin=gtin, lot_code=lot_code, serial=serial)
    except UnknownTraceCode:
        return _not_found(request)
    return _page(request, lot=lot, code=code)


urlpatterns = [
    path("t/<str:code>", trace_page, name="public_trace"),
    re_path(
        r"^01/(?P<gtin>[0-9]{8,14})/10/(?P<lot_code>[^/]{1,40})/21/(?P<serial>[^/]{1,20})/?$",
        digital_link,
        name="digital_link_serial",
    ),
    re_path(
        r"^01/(?P<gtin>[0-9]{8,14})/10/(?P<lot_code>[^/]{1,40})/?$",
        digital_link,
        name="digital_link",
    ),
]
