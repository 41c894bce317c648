"""The cold chain's API, under /api/coldchain/. Each area module registers its own routes:
ingest (loggers post readings), shipments (sites, stores, vehicles, loggers, shipments,
handovers, reading series), screen (the wall screen's snapshot and alerts)."""

from rest_framework.routers import SimpleRouter

from . import ingest, screen, shipments

router = SimpleRouter()
for area in (ingest, shipments, screen):
    area.register(router)

urlpatterns = [*ingest.urlpatterns, *shipments.urlpatterns, *screen.urlpatterns, *router.urls]
