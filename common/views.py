import hashlib
import hmac
import json
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from . import metrics as metrics_text
from .health import health_report


@never_cache
def healthz(request):
    """Database (with PostGIS), Redis and a live Celery worker; 200 only when all are up.

    Anyone gets the status; each check's details (versions, timings, errors) only a signed-in
    platform admin or a request carrying HEALTH_TOKEN: they help an attacker as much as an
    operator.
    """
    is_up, report = health_report()
    body = report if may_see_health_details(request) else {"status": report["status"]}
    return JsonResponse(body, status=200 if is_up else 503, json_dumps_params={"indent": 1})


def may_see_health_details(request) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_platform_admin:
        return True
    expected = settings.HEALTH_TOKEN
    if not expected:
        return False
    offered = bearer_token(request) or request.GET.get("token", "")
    return is_token(offered, expected)


@never_cache
def metrics(request):
    """Prometheus metrics (common/metrics.py), for a scraper holding METRICS_TOKEN as a Bearer
    token: 401 without a token, 403 with a wrong one, 404 when no token is configured."""
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404
    offered = bearer_token(request)
    if not offered:
        response = HttpResponse("Bearer token required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not is_token(offered, expected):
        return HttpResponse("Wrong token\n", status=403, content_type="text/plain")
    return HttpResponse(metrics_text.exposition(), content_type=metrics_text.CONTENT_TYPE)


def bearer_token(request) -> str:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""


def is_token(offered: str, expected: str) -> bool:
    # Constant time, so the token cannot be guessed a character at a time.
    return bool(offered) and hmac.compare_digest(offered.encode(), expected.encode())


# The service worker's app shell: what every page needs, kept at install.
SERVICE_WORKER_SHELL = (
    "css/app.css",
    "css/offline.css",
    "js/forms.js",
    "js/live.js",
    "js/outbox.js",
    "js/offline.js",
)


def _static_bytes(name: str) -> bytes:
    path = finders.find(name)
    return Path(path).read_bytes() if isinstance(path, str) else b""


@never_cache
def service_worker(request):
    """/sw.js, templates/offline/sw.js: served from the root (static files live under
    /static/, too deep to be a worker for every page), with the shell's URLs as the static
    storage names them. Its version is a hash of the shell's files: the browser compares the
    worker's bytes, so a change to any of them installs a new worker, which drops the old
    shell."""
    shell = [static(name) for name in SERVICE_WORKER_SHELL]
    digest = hashlib.sha256()
    for name in SERVICE_WORKER_SHELL:
        digest.update(_static_bytes(name))
    digest.update(json.dumps(shell).encode())
    response = render(
        request,
        "offline/sw.js",
        {"version": digest.hexdigest()[:16], "shell_files": json.dumps(shell)},
        content_type="application/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    return response
