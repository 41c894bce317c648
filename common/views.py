import hmac

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

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
    header = request.headers.get("Authorization", "")
    offered = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    offered = offered or request.GET.get("token", "")
    # Constant time, so the token cannot be guessed a character at a time.
    return bool(offered) and hmac.compare_digest(offered.encode(), expected.encode())
