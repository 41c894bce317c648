"""Checks behind /healthz: each returns (is_up, details) and never raises.

The report is kept for HEALTH_CACHE_SECONDS in the process (not in Redis, which is one of
the things checked), so probes and anyone hammering /healthz cost at most one round of
checks per process and window; a probe arriving while a round runs waits for its answer.
"""

import threading
import time

import redis
from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.db import connection

from . import tasks


def check_database() -> tuple[bool, dict]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version'), postgis_lib_version()")
            version, postgis_version = cursor.fetchone()
    except Exception as exc:
        return False, {"error": str(exc)}
    return True, {"version": version, "postgis": postgis_version}


def check_redis() -> tuple[bool, dict]:
    # Both timeouts: an unreachable host must fail the check, not hang the probe.
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        started = time.perf_counter()
        client.ping()
        ping_ms = round((time.perf_counter() - started) * 1000, 1)
        info = client.info("server")
    except Exception as exc:
        return False, {"error": str(exc)}
    finally:
        client.close()
    return True, {"version": info.get("redis_version"), "ping_ms": ping_ms}


def check_celery() -> tuple[bool, dict]:
    """A ping task sent through the broker and answered by a worker."""
    timeout = settings.HEALTH_CELERY_TIMEOUT
    # Empty means the default queue; a deployment that splits queues names one every
    # worker consumes.
    queue = settings.HEALTH_CELERY_QUEUE or None
    started = time.perf_counter()
    try:
        # expires: a ping nobody took in time is dropped, so pings never pile up.
        result = tasks.ping.apply_async(expires=timeout, queue=queue)
        answer = result.get(timeout=timeout)
        # Probes come every few seconds; don't keep each answer for CELERY_RESULT_EXPIRES.
        result.forget()
    except CeleryTimeout:
        return False, {"error": f"no worker answered within {timeout} s"}
    except Exception as exc:
        return False, {"error": str(exc)}
    return answer == "pong", {"round_trip_ms": round((time.perf_counter() - started) * 1000, 1)}


_last_report: tuple[float, bool, dict] | None = None  # (monotonic time, is_up, report)
_report_lock = threading.Lock()


def health_report() -> tuple[bool, dict]:
    """The last report if younger than HEALTH_CACHE_SECONDS, else a fresh one."""
    global _last_report
    with _report_lock:
        now = time.monotonic()
        if _last_report is not None and now - _last_report[0] < settings.HEALTH_CACHE_SECONDS:
            return _last_report[1], _last_report[2]
        is_up, report = run_checks()
        _last_report = (time.monotonic(), is_up, report)
        return is_up, report


def forget_report() -> None:
    """The next report runs the checks again (tests, and a setting changed at run time)."""
    global _last_report
    with _report_lock:
        _last_report = None


def run_checks() -> tuple[bool, dict]:
    checks = {
        "database": check_database(),
        "redis": check_redis(),
        "celery": check_celery(),
    }
    report = {name: {"up": up, **details} for name, (up, details) in checks.items()}
    is_up = all(up for up, _ in checks.values())
    return is_up, {"status": "up" if is_up else "down", **report}
