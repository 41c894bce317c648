"""/healthz against the real database, Redis and a Celery worker thread on the test broker."""

from datetime import timedelta

import pytest
import redis
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.tasks import clear_expired_sessions


@pytest.fixture
def queue_nobody_consumes(settings):
    """Point the health ping at a queue no worker listens to; drop its pings afterwards.

    The session's worker may be running, so stopping it is not an option; an unconsumed
    queue is the same situation as every worker being down, and takes one timeout.
    """
    queue = "health-ping-nobody-consumes"
    settings.HEALTH_CELERY_QUEUE = queue
    settings.HEALTH_CELERY_TIMEOUT = 1
    yield queue
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete(queue)
    broker.close()


@pytest.mark.django_db
def test_healthz_is_up_with_postgis_redis_and_a_live_worker(client, celery_worker_live):
    response = client.get("/healthz")

    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "up"
    assert report["database"]["up"] is True
    assert report["database"]["version"][0].isdigit()
    assert report["database"]["postgis"].startswith("3.")
    assert report["redis"]["up"] is True
    assert report["celery"]["up"] is True


@pytest.mark.django_db
def test_healthz_reports_celery_down_when_no_worker_answers(client, queue_nobody_consumes):
    response = client.get("/healthz")

    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "down"
    assert report["celery"] == {"up": False, "error": "no worker answered within 1 s"}
    assert report["database"]["up"] is True
    assert report["redis"]["up"] is True


@pytest.mark.django_db
def test_healthz_reports_redis_down_when_it_cannot_connect(client, settings, celery_worker_live):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/healthz")

    assert response.status_code == 503
    report = response.json()
    assert report["redis"]["up"] is False
    assert "127.0.0.1:1" in report["redis"]["error"]
    assert report["celery"]["up"] is True


@pytest.mark.django_db
def test_healthz_answers_plain_http_probes_when_https_is_enforced(
    client, settings, celery_worker_live
):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/sign-in/").status_code == 301


@pytest.mark.django_db(transaction=True)
def test_worker_task_writes_are_visible_to_the_web_process(celery_worker_live):
    now = timezone.now()
    Session.objects.create(
        session_key="expired", session_data="", expire_date=now - timedelta(days=1)
    )
    Session.objects.create(
        session_key="current", session_data="", expire_date=now + timedelta(days=1)
    )

    clear_expired_sessions.delay().get(timeout=10)

    assert list(Session.objects.values_list("session_key", flat=True)) == ["current"]
