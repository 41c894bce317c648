import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
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
