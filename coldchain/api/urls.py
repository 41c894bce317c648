"""The cold chain's API, under /api/coldchain/. Each area module registers its own routes:
ingest (loggers post readings), shipments (sites, stores, vehicles, loggers, shipments,
handovers, reading series), screen (the wall screen's snapshot and alerts), lots (remaining
shelf life)."""

from common.api.routers import ApiRouter

from . import ingest, lots, screen, shipments

router = ApiRouter()
for area in (ingest, shipments, screen, lots):
    area.register(router)

urlpatterns = [
    *ingest.urlpatterns,
    *shipments.urlpatterns,
    *screen.urlpatterns,
    *lots.urlpatterns,
    *router.urls,
]
