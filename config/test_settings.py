"""Test overrides: only what tests need. Database, broker and channel layer stay real."""

import os
import tempfile
from pathlib import Path

# Tests run with development settings (plain-http cookies, no HTTPS redirect), whatever
# the shell holds; the settings module refuses to start without them.
os.environ["DJANGO_DEBUG"] = "true"
os.environ.setdefault(
    "DJANGO_SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
)

# Metrics in prometheus_client's multiprocess mode, as deployed: a server or worker a test
# starts adds its counts to the same folder (it inherits the variable). Each pytest-xdist
# process has a folder of its own: a folder inherited from pytest's controller would add the
# other process's trades to this one's counts. Set before anything imports prometheus_client,
# which reads it once.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ or os.environ.get(
    "FRESHCHAIN_TEST_METRICS_OWNER"
) != os.environ.get("PYTEST_XDIST_WORKER", "main"):
    os.environ["FRESHCHAIN_TEST_METRICS_OWNER"] = os.environ.get("PYTEST_XDIST_WORKER", "main")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="freshchain-test-metrics-")

from .env import database_from_url, env_str
from .settings import *  # noqa: F403
from .settings import CHANNEL_LAYERS, DATABASES, STORAGES, channel_layer_host

# Tests create, migrate and empty their own database, so they connect as the owner of the
# tables; a server a test starts connects as the application role (tests/conftest.py).
APPLICATION_DATABASE = DATABASES["default"]
DATABASES = {
    "default": database_from_url(
        env_str("TEST_DATABASE_URL", "postgis://freshchain:freshchain@127.0.0.1:5432/freshchain"),
        pool=APPLICATION_DATABASE["OPTIONS"].get("pool"),
    )
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A Redis database of its own, so a test run never touches development queues.
TEST_REDIS_URL = env_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
# `make test` runs the suite in two processes (pytest-xdist; each gets its own database from
# pytest-django): each also gets its own Redis database, the next ones up, so one process's
# Celery worker never takes the other's tasks. A server a test starts inherits the URL.
# The API contract test runs in processes of its own (scripts/test_suite.py sets
# FRESHCHAIN_TEST_SHARD=K/N): each gets a test database and a Redis database above theirs.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_SHARD = os.environ.get("FRESHCHAIN_TEST_SHARD", "")
_PROCESS = None
if _XDIST_WORKER.startswith("gw"):
    _PROCESS = int(_XDIST_WORKER[2:])
elif _SHARD:
    _share = _SHARD.split("/")[0]
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_share{_share}"}
    _PROCESS = 1 + int(_share)
if _PROCESS is not None and not os.environ.get("TEST_REDIS_URL_RESOLVED"):
    _base, _, _number = TEST_REDIS_URL.rpartition("/")
    TEST_REDIS_URL = f"{_base}/{int(_number) + _PROCESS}"
    # Processes the tests start (servers, workers) read the worker's URL as it is.
    os.environ["TEST_REDIS_URL"] = TEST_REDIS_URL
    os.environ["TEST_REDIS_URL_RESOLVED"] = "1"
REDIS_URL = TEST_REDIS_URL
CELERY_BROKER_URL = TEST_REDIS_URL
CELERY_RESULT_BACKEND = TEST_REDIS_URL
CHANNEL_LAYERS["default"]["CONFIG"] = {
    "hosts": [channel_layer_host(TEST_REDIS_URL)],
    "prefix": "freshchain-test:channels",
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": TEST_REDIS_URL,
        "KEY_PREFIX": "freshchain-test",
    }
}
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests serve static files straight from the finders; nothing is collected.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
HEALTH_CELERY_TIMEOUT = 10
# Each /healthz call checks afresh, whatever an earlier test left; the cache's own tests
# turn it on (tests/common/test_health.py).
HEALTH_CACHE_SECONDS = 0
# The couriers' learned speeds are computed afresh at each read: a test's history counts at
# once, and no run reads speeds an earlier run left in Redis.
DELIVERY_TRAVEL_CACHE_SECONDS = 0
# Uploads (listing photos, handover records written by seed_demo) go to a scratch folder,
# never into the repository's var/media; a server a test starts is given its own.
if "DJANGO_MEDIA_ROOT" not in os.environ:
    MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="freshchain-test-media-"))
if "DJANGO_PRIVATE_MEDIA_ROOT" not in os.environ:
    PRIVATE_MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="freshchain-test-private-"))
# Private files are streamed by Django in tests; a test of production's X-Accel-Redirect sets it.
PRIVATE_MEDIA_ACCEL_PREFIX = ""
# Throttling off: the suite (and schemathesis) sends far more requests a minute than a
# person would, all from 127.0.0.1. Tests of the throttles set their own rates.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "sign_in": None, "sign_up": None},
}

# Each test run's text messages in a file of its own; a server a test starts writes there too.
SMS_OUTBOX_PATH = Path(
    env_str(
        "SMS_OUTBOX_PATH",
        os.path.join(tempfile.gettempdir(), f"freshchain-test-sms-{os.getpid()}.log"),
    )
)

# Backups go to a scratch folder, taken as the test database's own role (its owner).
BACKUP_DIR = Path(tempfile.mkdtemp(prefix="freshchain-test-backups-"))
DATABASE_OWNER_URL = ""
