"""Prometheus metrics: the business's own counters, gauges read at scrape time, and the text
that /metrics serves.

Several processes count: the web processes (uvicorn, one or more) and the Celery workers
(each a parent and its children). Counters and histograms therefore use prometheus_client's
multiprocess mode: with PROMETHEUS_MULTIPROC_DIR set (to an empty folder, emptied again at each
start of the whole set), every process writes its values to memory-mapped files there and
/metrics, served by any web process, adds up the files of all of them. A trade settled in a
web process, an offer expired in a worker: both show in the same total. Without the variable
each process counts only for itself (fine for a test, wrong for a deployment).

What is cheaper and more correct read from the database at scrape time (excursions open now,
a business day overdue) is not counted but computed when Prometheus asks: a gauge kept up to
date by events would drift whenever one is missed. Apps declare theirs in `<app>/metrics.py`
with `@gauges_at_scrape`; each app keeps its own metrics beside it there, and domain code
touches them in one line: `count(READINGS_STORED, len(stored))`.
"""

import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial, wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core.checks import CheckMessage, Warning
from django.db import transaction
from django.utils.module_loading import autodiscover_modules
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)

PREFIX = "freshchain_"
CONTENT_TYPE = CONTENT_TYPE_LATEST

ScrapeGauges = Callable[[], Iterable[Metric]]
_scrape_gauges: list[ScrapeGauges] = []

F = TypeVar("F", bound=Callable[..., Any])


def is_multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


# --- Declaring ---------------------------------------------------------------------------


def counter(name: str, documentation: str, labels: Iterable[str] = ()) -> Counter:
    return Counter(PREFIX + name, documentation, labelnames=tuple(labels))


def histogram(
    name: str, documentation: str, buckets: Sequence[float], labels: Iterable[str] = ()
) -> Histogram:
    return Histogram(PREFIX + name, documentation, labelnames=tuple(labels), buckets=buckets)


def last_value_gauge(name: str, documentation: str, labels: Iterable[str] = ()) -> Gauge:
    """A gauge set now and then by whichever process did the work (a nightly task): across
    processes the most recent value wins."""
    return Gauge(
        PREFIX + name, documentation, labelnames=tuple(labels), multiprocess_mode="mostrecent"
    )


def gauges_at_scrape(function: ScrapeGauges) -> ScrapeGauges:
    """Register a function yielding metric families computed when /metrics is read."""
    if function not in _scrape_gauges:
        _scrape_gauges.append(function)
    return function


def gauge(name: str, documentation: str, value: float, **labels: str) -> GaugeMetricFamily:
    """One gauge sample, for a @gauges_at_scrape function."""
    family = GaugeMetricFamily(PREFIX + name, documentation, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family


# --- Counting from domain code ------------------------------------------------------------


def count(metric: Counter, amount: float = 1, **labels: str) -> None:
    """Add to a counter once the surrounding transaction commits (at once outside one): work
    rolled back was never done. Never raises: metrics must not break the business."""
    if amount <= 0:
        return
    transaction.on_commit(partial(_increment, metric, amount, labels), robust=True)


def count_now(metric: Counter, amount: float = 1, **labels: str) -> None:
    """Add to a counter at once, for what no rollback undoes (a refusal). Never raises."""
    if amount > 0:
        _increment(metric, amount, labels)


def _increment(metric: Counter, amount: float, labels: dict[str, str]) -> None:
    try:
        (metric.labels(**labels) if labels else metric).inc(amount)
    except Exception:
        logger.exception("could not count %s", metric)


def timed(metric: Histogram) -> Callable[[F], F]:
    """Decorator: observe how long each call takes, in seconds (whatever its outcome)."""

    def decorate(function: F) -> F:
        @wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                metric.observe(time.perf_counter() - started)

        return wrapper  # type: ignore[return-value]

    return decorate


# --- Start-up check ----------------------------------------------------------------------


def check_multiprocess(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A system check: metrics served without multiprocess mode miss every other process."""
    if settings.METRICS_TOKEN and not is_multiprocess():
        return [
            Warning(
                "METRICS_TOKEN is set but PROMETHEUS_MULTIPROC_DIR is not: /metrics will show "
                "only the counts of the web process that answers, none of the workers'.",
                hint="Set PROMETHEUS_MULTIPROC_DIR to a folder shared by the host's web "
                "processes and workers, emptied when they start.",
                id="common.W001",
            )
        ]
    return []


# --- Serving ------------------------------------------------------------------------------


class _ScrapeTimeCollector:
    def collect(self) -> Iterable[Metric]:
        for function in _scrape_gauges:
            try:
                yield from function()
            except Exception:
                # One source down (the database, Redis) must not hide every other metric.
                logger.exception("metrics: %s failed", function.__qualname__)


def exposition() -> bytes:
    """The text format of every metric: this process's (or with multiprocess mode, every
    process's) counters, then the gauges computed now."""
    autodiscover_modules("metrics")
    if is_multiprocess():
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    computed = CollectorRegistry(auto_describe=False)
    computed.register(_ScrapeTimeCollector())
    return generate_latest(counted) + generate_latest(computed)


# --- The platform's own gauges: task queues and health ------------------------------------


@gauges_at_scrape
def task_queue_gauges() -> Iterable[Metric]:
    from .task_queues import queue_depths

    length = GaugeMetricFamily(
        PREFIX + "task_queue_length", "Celery tasks waiting in a queue", labels=["queue"]
    )
    age = GaugeMetricFamily(
        PREFIX + "task_queue_oldest_age_seconds",
        "Seconds the oldest waiting task of a queue has waited (0 when empty)",
        labels=["queue"],
    )
    for depth in queue_depths():
        length.add_metric([depth.queue], depth.length)
        age.add_metric([depth.queue], depth.oldest_age_seconds)
    yield length
    yield age


@gauges_at_scrape
def health_gauges() -> Iterable[Metric]:
    from .health import health_report

    _is_up, report = health_report()
    family = GaugeMetricFamily(
        PREFIX + "health_up",
        "1 when a /healthz check passes (database, redis, celery), else 0",
        labels=["check"],
    )
    for check, details in report.items():
        if isinstance(details, dict):
            family.add_metric([check], 1 if details.get("up") else 0)
    yield family
