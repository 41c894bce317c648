"""The cold chain's metrics (common/metrics.py says how they are counted and served)."""

from collections.abc import Iterable

from prometheus_client.core import Metric

from common.metrics import counter, gauge, gauges_at_scrape

from .models import Excursion

READINGS_STORED = counter("readings_stored_total", "Logger readings stored (new ones, not resent)")
INGEST_REFUSED = counter(
    "ingest_refused_total",
    "Logger batches refused whole (reason: invalid, too_large, foreign), and bad rows left out "
    "of a partly accepted batch (reason: rejected_rows)",
    labels=["reason"],
)

for reason in ("invalid", "too_large", "foreign", "rejected_rows"):
    INGEST_REFUSED.labels(reason=reason)  # present from the start, at 0


@gauges_at_scrape
def excursion_gauges() -> Iterable[Metric]:
    yield gauge(
        "excursions_open",
        "Excursions under way: confirmed, not ended and not disputed by late readings",
        Excursion.objects.filter(ended_at__isnull=True, refuted_at__isnull=True).count(),
    )
