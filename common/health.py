"""Checks behind /healthz: each returns (is_up, details) and never raises."""

import time

import redis
from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.db import connection

from . import tasks


def check_database() -> tuple[bool, dict]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version(), postgis_full_version()")
            version, postgis = cursor.fetchone()
    except Exception as exc:
        return False, {"error": str(exc)}
    postgis_version = postgis.split('"')[1] if '"' in postgis else postgis
    return True, {"version": version.split(" on ")[0], "postgis": postgis_version}


def check_redis() -> tuple[bool, dict]:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        started = time.perf_counter()
        client.ping()
        info = client.info("server")
    except Exception as exc:
        return False, {"error": str(exc)}
    return True, {
        "version": info.get("redis_version"),
        "ping_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def check_celery() -> tuple[bool, dict]:
    """A ping task sent through the broker and answered by a worker."""
    timeout = settings.HEALTH_CELERY_TIMEOUT
    started = time.perf_counter()
    try:
        # expires: a ping nobody took in time is dropped, so pings never pile up.
        result = tasks.ping.apply_async(expires=timeout)
        answer = result.get(timeout=timeout)
    except CeleryTimeout:
        return False, {"error": f"no worker answered within {timeout} s"}
    except Exception as exc:
        return False, {"error": str(exc)}
    return answer == "pong", {"round_trip_ms": round((time.perf_counter() - started) * 1000, 1)}


def health_report() -> tuple[bool, dict]:
    checks = {
        "database": check_database(),
        "redis": check_redis(),
        "celery": check_celery(),
    }
    report = {name: {"up": up, **details} for name, (up, details) in checks.items()}
    is_up = all(up for up, _ in checks.values())
    return is_up, {"status": "up" if is_up else "down", **report}
