"""Test overrides: only what tests need. Database, broker and channel layer stay real."""

import os
import tempfile

from .env import env_str
from .settings import *  # noqa: F403
from .settings import CHANNEL_LAYERS, STORAGES, channel_layer_host

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A Redis database of its own, so a test run never touches development queues.
TEST_REDIS_URL = env_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
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
# Uploads (listing photos, handover records written by seed_demo) go to a scratch folder,
# never into the repository's var/media; a server a test starts is given its own.
if "DJANGO_MEDIA_ROOT" not in os.environ:
    MEDIA_ROOT = tempfile.mkdtemp(prefix="freshchain-test-media-")
