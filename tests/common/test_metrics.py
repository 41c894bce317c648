"""/metrics: only for the scraper holding METRICS_TOKEN; the platform's own gauges (task
queues, health); counts only of committed work. (Counts made in a Celery worker and served by
a web process: tests/delivery/test_metrics.py.)"""

import json
import os

import pytest
import redis
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from common import metrics as common_metrics
from common import tasks
from common.task_queues import queue_depths
from delivery.metrics import OFFERS_CLOSED

TOKEN = "scrape-me-0123456789"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


QUEUE = "metrics-test-nobody-consumes"


@pytest.fixture
def broker(monkeypatch):
    """The broker, with the app's queues seen as one queue no worker consumes (the session's
    worker may be running and would empty the default queue)."""
    from common import task_queues

    monkeypatch.setattr(task_queues, "queue_names", lambda: [QUEUE])
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(QUEUE)
    yield client
    client.delete(QUEUE)
    client.close()


# --- Who may read it --------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_do_not_exist_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything")

    assert response.status_code == 404


@pytest.mark.django_db
def test_metrics_ask_for_a_bearer_token(client, metrics_token):
    response = client.get("/metrics")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"freshchain_" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header", ["Bearer wrong-token", f"Token {TOKEN}", f"Bearer {TOKEN}x", f"Basic {TOKEN}"]
)
def test_metrics_refuse_a_wrong_token(client, metrics_token, header):
    response = client.get("/metrics", HTTP_AUTHORIZATION=header)

    assert response.status_code in (401, 403)
    assert b"freshchain_" not in response.content


@pytest.mark.django_db
def test_metrics_refuse_the_token_in_the_query_string(client, metrics_token):
    response = client.get(f"/metrics?token={TOKEN}")

    assert response.status_code == 401


@pytest.mark.django_db
def test_the_scraper_reads_the_business_metrics_in_prometheus_text(client, metrics_token, metrics):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {
        "freshchain_readings_stored",
        "freshchain_trades_settled",
        "freshchain_orders_placed",
        "freshchain_delivery_orders_placed",
        "freshchain_offers_made",
        "freshchain_offers_closed",
        "freshchain_dispatch_seconds",
        "freshchain_excursions_open",
        "freshchain_market_days_unclosed",
        "freshchain_market_end_of_day_overdue_seconds",
        "freshchain_task_queue_length",
        "freshchain_task_queue_oldest_age_seconds",
        "freshchain_health_up",
    } <= names
    # django-prometheus's own: requests by view, method and status.
    assert "django_http_requests_total_by_method" in names


@pytest.mark.django_db
def test_metrics_answer_plain_http_scrapes_when_https_is_enforced(
    client, settings, metrics_token, metrics
):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert client.get("/sign-in/").status_code == 301


@pytest.mark.django_db
def test_a_failing_source_hides_only_its_own_gauges(client, metrics_token, metrics, monkeypatch):
    from common import task_queues

    def broker_down(**kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(task_queues, "queue_depths", broker_down)

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert b"freshchain_task_queue_length" not in response.content
    assert b"freshchain_excursions_open" in response.content


def test_metrics_are_counted_across_processes():
    """The test settings (like `make run`) share one folder between processes."""
    assert common_metrics.is_multiprocess()
    assert os.path.isdir(os.environ["PROMETHEUS_MULTIPROC_DIR"])


# --- Task queues, read from the broker --------------------------------------------------------


@pytest.mark.django_db
def test_queue_length_and_oldest_age_come_from_the_broker(broker, metrics):
    tasks.ping.apply_async(queue=QUEUE)
    tasks.ping.apply_async(queue=QUEUE)
    oldest = json.loads(broker.lindex(QUEUE, -1))
    published_at = oldest["headers"]["published_at"]

    [depth] = queue_depths(now=published_at + 90)

    assert (depth.queue, depth.length) == (QUEUE, 2)
    assert depth.oldest_age_seconds == pytest.approx(90)
    assert metrics.value("freshchain_task_queue_length", queue=QUEUE) == 2


@pytest.mark.django_db
def test_an_empty_queue_has_no_age(broker, metrics):
    assert [each.queue for each in queue_depths()] == [QUEUE]
    assert metrics.value("freshchain_task_queue_length", queue=QUEUE) == 0
    assert metrics.value("freshchain_task_queue_oldest_age_seconds", queue=QUEUE) == 0


@pytest.mark.django_db
def test_health_checks_are_gauges(metrics, monkeypatch):
    from common import health

    monkeypatch.setattr(
        health,
        "health_report",
        lambda: (False, {"status": "down", "database": {"up": True}, "celery": {"up": False}}),
    )

    assert metrics.value("freshchain_health_up", check="database") == 1
    assert metrics.value("freshchain_health_up", check="celery") == 0


# --- Counting after commit ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_count_inside_a_rolled_back_transaction_is_not_counted(metrics):
    from django.db import transaction

    before = metrics.value("freshchain_offers_closed_total", status="withdrawn")

    with transaction.atomic():
        common_metrics.count(OFFERS_CLOSED, status="withdrawn")
        transaction.set_rollback(True)

    assert metrics.value("freshchain_offers_closed_total", status="withdrawn") == before


def test_the_queues_watched_are_the_apps_own():
    from kombu import Queue

    from common.task_queues import queue_names
    from config.celery import app

    assert queue_names() == ["batch", "celery", "realtime"]  # config/task_queues.py
    declared = app.conf.task_queues
    app.conf.task_queues = [Queue("dispatch"), Queue("end_of_day")]
    try:
        assert queue_names() == ["celery", "dispatch", "end_of_day"]
    finally:
        app.conf.task_queues = declared


def test_start_up_warns_when_metrics_would_miss_the_workers(settings, monkeypatch):
    settings.METRICS_TOKEN = TOKEN
    assert common_metrics.check_multiprocess() == []

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")

    assert [each.id for each in common_metrics.check_multiprocess()] == ["common.W001"]
    settings.METRICS_TOKEN = ""
    assert common_metrics.check_multiprocess() == []
