"""/healthz against the real database, Redis and a Celery worker thread on the test broker.

Anyone gets the status; the details only a platform admin or a monitor with HEALTH_TOKEN.
"""

import time
from datetime import timedelta

import pytest
import redis
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.tasks import clear_expired_sessions
from common.health import forget_report

TOKEN = "monitor-7f3a9c"


@pytest.fixture
def monitor(client, settings):
    """A client carrying the configured health token, as the monitoring system does."""
    settings.HEALTH_TOKEN = TOKEN
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


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
def test_healthz_is_up_with_postgis_redis_and_a_live_worker(monitor, celery_worker_live):
    response = monitor.get("/healthz")

    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "up"
    assert report["database"]["up"] is True
    assert report["database"]["version"][0].isdigit()
    assert report["database"]["postgis"].startswith("3.")
    assert report["redis"]["up"] is True
    assert report["celery"]["up"] is True


@pytest.mark.django_db
def test_healthz_reports_celery_down_when_no_worker_answers(monitor, queue_nobody_consumes):
    response = monitor.get("/healthz")

    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "down"
    assert report["celery"] == {"up": False, "error": "no worker answered within 1 s"}
    assert report["database"]["up"] is True
    assert report["redis"]["up"] is True


@pytest.mark.django_db
def test_healthz_reports_redis_down_when_it_cannot_connect(monitor, settings, celery_worker_live):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = monitor.get("/healthz")

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


@pytest.mark.django_db
def test_anyone_gets_only_the_status_never_versions_or_errors(client, settings, celery_worker_live):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # down: the admin would see the error text

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "down"}
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_anyone_gets_up_when_all_is_up(client, celery_worker_live):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "up"}


@pytest.mark.django_db
def test_the_platform_admin_gets_the_details(client, admin_user, celery_worker_live):
    client.force_login(admin_user)

    report = client.get("/healthz").json()

    assert report["status"] == "up"
    assert report["database"]["postgis"].startswith("3.")
    assert report["redis"]["version"]


@pytest.mark.django_db
def test_another_signed_in_role_gets_only_the_status(client, buyer, celery_worker_live):
    client.force_login(buyer)

    assert client.get("/healthz").json() == {"status": "up"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "how",
    [
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"},
        {"QUERY_STRING": f"token={TOKEN}"},
    ],
    ids=["header", "query"],
)
def test_the_health_token_shows_the_details(client, settings, celery_worker_live, how):
    settings.HEALTH_TOKEN = TOKEN

    report = client.get("/healthz", **how).json()

    assert report["celery"]["up"] is True
    assert report["database"]["up"] is True


@pytest.mark.django_db
@pytest.mark.parametrize("configured", [TOKEN, ""], ids=["wrong-token", "no-token-configured"])
def test_a_wrong_or_unconfigured_token_gets_only_the_status(
    client, settings, celery_worker_live, configured
):
    settings.HEALTH_TOKEN = configured

    for offered in ("monitor-7f3a9d", "", "Bearer"):
        response = client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {offered}")
        assert response.json() == {"status": "up"}
    assert client.get("/healthz", {"token": ""}).json() == {"status": "up"}


@pytest.mark.django_db
def test_a_second_call_within_the_window_runs_no_check_again(
    client, settings, celery_worker_live, django_assert_num_queries
):
    settings.HEALTH_CACHE_SECONDS = 5
    forget_report()
    with django_assert_num_queries(1):  # the database check's one query
        first = client.get("/healthz")

    with django_assert_num_queries(0):
        second = client.get("/healthz")

    assert first.status_code == second.status_code == 200


@pytest.mark.django_db
def test_the_report_is_checked_again_after_the_window(
    client, settings, celery_worker_live, django_assert_num_queries
):
    settings.HEALTH_CACHE_SECONDS = 1
    forget_report()
    client.get("/healthz")
    time.sleep(1.1)

    with django_assert_num_queries(1):
        client.get("/healthz")


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
