"""Traceability's API, under /api/trace/. Each area module registers its own routes:
certificates, gate (entries, rapid tests, laboratory results), journey (a lot's downstream, a
consumer order's upstream), public (the trace page's JSON twin), recalls."""

from common.api.routers import ApiRouter

from . import certificates, gate, journey, public, recalls

AREAS = (certificates, gate, journey, public, recalls)

router = ApiRouter()
for area in AREAS:
    area.register(router)

urlpatterns = [url for area in AREAS for url in area.urlpatterns] + list(router.urls)
