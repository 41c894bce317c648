"""Benchmarks run against production-like settings in a database of their own."""

import os

# Set before the settings load, which refuse to start without a secret; the uvicorn
# processes a benchmark starts inherit it.
os.environ.setdefault(
    "DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
)

from config.env import database_from_url, env_str
from config.settings import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
WHITENOISE_USE_FINDERS = True  # no collectstatic before a benchmark
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ROOT_URLCONF = "bench.urls"
DATABASES = {
    "default": database_from_url(
        env_str(
            "BENCH_DATABASE_URL",
            "postgis://freshchain:freshchain@127.0.0.1:5432/freshchain_bench",
        ),
        pool=DATABASES["default"]["OPTIONS"].get("pool"),  # noqa: F405
    )
}
LOGGING = {"version": 1, "root": {"level": "WARNING"}}
# The bench's live pushes (alert latency) stay off the development screens' channel groups.
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "freshchain-bench:channels"  # noqa: F405
# wrk sends thousands of requests a second as one user; a throttle would answer them 429.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "sign_in": None},
}
