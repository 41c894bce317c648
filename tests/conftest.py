"""Shared actors and real infrastructure: PostGIS, Redis, a Celery worker, a channel layer."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from accounts.choices import Role
from accounts.phone import normalize_phone
from accounts.sms.outbox import messages_to
from farms.models import Product
from tests.accounts.factories import PASSWORD, UserFactory
from tests.farms.factories import CooperativeFactory, FarmFactory, MembershipFactory

BASE_DIR = Path(__file__).resolve().parents[1]

# tests/cluster/ drives the running `make cluster` (nginx, PgBouncer, several processes): only
# `make cluster-test` collects it, never `make test` or a bare pytest.
collect_ignore = [] if os.environ.get("FRESHCHAIN_CLUSTER_TESTS") == "1" else ["cluster"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """FRESHCHAIN_TEST_SHARD=K/N keeps the K-th of N shares (every N-th test from the K-th).
    scripts/test_suite.py splits the API contract test this way: its generated cases share
    one test id, so pytest-xdist cannot share them out."""
    if shard := os.environ.get("FRESHCHAIN_TEST_SHARD"):
        k, n = (int(part) for part in shard.split("/"))
        config.hook.pytest_deselected(items=[it for i, it in enumerate(items) if i % n != k - 1])
        items[:] = items[k - 1 :: n]


# Fixtures shared by several test folders, without imports between them.
pytest_plugins = ["tests.marketplace.markets.fixtures", "tests.coldchain.fixtures"]


@pytest.fixture
def password() -> str:
    return PASSWORD


def _actor(role: str):
    @pytest.fixture
    def fixture(db):
        return UserFactory(role=role)

    return fixture


farmer = _actor(Role.FARMER)
cooperative_manager = _actor(Role.COOPERATIVE_MANAGER)
market_operator = _actor(Role.MARKET_OPERATOR)
buyer = _actor(Role.BUYER)
warehouse_manager = _actor(Role.WAREHOUSE_MANAGER)
courier = _actor(Role.COURIER)
coldchain_controller = _actor(Role.COLDCHAIN_CONTROLLER)
consumer = _actor(Role.CONSUMER)
admin_user = _actor(Role.ADMIN)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as(api_client):
    """api_as(user) → an APIClient authenticated as that user (session-less, forced)."""

    def sign_in(user) -> APIClient:
        api_client.force_authenticate(user=user)
        return api_client

    return sign_in


@pytest.fixture(scope="session")
def celery_worker_live():
    """A real Celery worker, in a thread of this process, consuming the test Redis broker.

    Tasks go through Redis and back exactly as in production (no eager mode). The worker
    has its own database connection, so a task that reads or writes rows needs
    `django_db(transaction=True)`: it cannot see a test's uncommitted transaction.
    """
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    assert not app.conf.task_always_eager
    # No ping check: it needs celery.contrib.testing's own task, which is not registered.
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False) as worker:
        yield worker


# pytest-django's live_server speaks WSGI only and cannot carry WebSockets; journeys with live
# updates run the real ASGI app under uvicorn, in a subprocess, against the test database
# (committed data: django_db(transaction=True)).
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def application_database_url() -> str:
    """The test database, reached as the application's role (not the owner tests run as)."""
    role = django_settings.APPLICATION_DATABASE
    db = connection.settings_dict
    return (
        f"postgis://{role['USER']}:{role['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture
def asgi_server(transactional_db, tmp_path):
    """The ASGI app (HTTP and WebSockets) under uvicorn on a free port; yields its URL."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        # The server connects as the application role, with only the rights production has.
        "TEST_DATABASE_URL": application_database_url(),
        "DATABASE_POOL_SIZE": "4",
        "TEST_REDIS_URL": django_settings.TEST_REDIS_URL,
        "DJANGO_DEBUG": "true",  # serves the uploaded photos; plain-http cookies
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_PRIVATE_MEDIA_ROOT": str(tmp_path / "private"),
        "SMS_OUTBOX_PATH": str(django_settings.SMS_OUTBOX_PATH),
    }
    log = (tmp_path / "uvicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--lifespan", "off"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/sign-in/", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail((tmp_path / "uvicorn.log").read_text())
            time.sleep(0.2)
    yield url
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture
def channel_layer_down(settings):
    """The channel layer pointed at a closed port, as when Redis is stopped: every push fails."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # nothing listens on port 1
        }
    }


# --- Co-operatives, farms and the catalogue: the scenery of every app's tests ---------------


@pytest.fixture
def catalogue(db):
    """The shipped product catalogue, loaded as `manage.py load_catalogue` loads it."""
    call_command("load_catalogue", stdout=StringIO())
    return {product.code: product for product in Product.objects.select_related("storage_profile")}


@pytest.fixture
def cooperative(db):
    return CooperativeFactory()


@pytest.fixture
def other_cooperative(db):
    return CooperativeFactory()


@pytest.fixture
def member(farmer, cooperative):
    """The `farmer` actor, member of `cooperative`."""
    MembershipFactory(user=farmer, cooperative=cooperative)
    return farmer


@pytest.fixture
def manager(cooperative_manager, cooperative):
    """The `cooperative_manager` actor, managing `cooperative`."""
    MembershipFactory(user=cooperative_manager, cooperative=cooperative, is_manager=True)
    return cooperative_manager


@pytest.fixture
def farm(member, cooperative):
    return FarmFactory(farmer=member, cooperative=cooperative, name="东地大棚")


@pytest.fixture
def other_farm(other_cooperative):
    """A farm of another co-operative, worked by another farmer."""
    return FarmFactory(cooperative=other_cooperative, longitude=118.70, latitude=36.92)


@pytest.fixture
def english(client):
    """A page client that asks for English, so assertions read the source strings."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


class SmsOutbox:
    """The development SMS backend's file, as a phone would read it."""

    def messages_to(self, phone: str) -> list[str]:
        return messages_to(normalize_phone(phone) or phone)

    def last_code(self, phone: str) -> str:
        """The newest 6-digit code sent to `phone`; fails the test if none was."""
        for text in reversed(self.messages_to(phone)):
            found = re.search(r"(?<!\d)\d{6}(?!\d)", text)
            if found:
                return found.group()
        raise AssertionError(f"no code was sent to {phone}")


@pytest.fixture
def sms_outbox() -> SmsOutbox:
    """Reads what was "sent" to a phone (settings.SMS_OUTBOX_PATH, shared with asgi_server)."""
    return SmsOutbox()


# --- Metrics: what Prometheus would read at /metrics ---------------------------------------


class Metrics:
    """Values of the exposition text (common.metrics.exposition), parsed as Prometheus does."""

    def __init__(self, text_of):
        self.text_of = text_of

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 when it is not there (a counter nothing has counted yet)."""
        from prometheus_client.parser import text_string_to_metric_families

        for family in text_string_to_metric_families(self.text_of()):
            for sample in family.samples:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    return sample.value
        return 0.0


@pytest.fixture
def metrics(monkeypatch) -> Metrics:
    """Metrics of this process and every process sharing its PROMETHEUS_MULTIPROC_DIR. The
    health gauges read a fixed report: a real one waits for a Celery worker these tests lack."""
    from common import health
    from common.metrics import exposition

    monkeypatch.setattr(
        health,
        "health_report",
        lambda: (True, {"status": "up", "database": {"up": True}, "redis": {"up": True},
                        "celery": {"up": True}}),
    )  # fmt: skip
    return Metrics(lambda: exposition().decode())
