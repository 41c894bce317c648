from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from .health import health_report


@never_cache
def healthz(request):
    """Database (with PostGIS), Redis and a live Celery worker; 200 only when all are up."""
    is_up, report = health_report()
    return JsonResponse(report, status=200 if is_up else 503, json_dumps_params={"indent": 1})
