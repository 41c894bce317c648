"""Typed readers for environment variables; a wrong value fails loudly at start-up."""

import os
import re
from datetime import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    """A string, or the contents of the file named by NAME_FILE (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name} must be a finite number, not {raw!r}")
    return value


def env_time_of_day(name: str, default: str) -> time:
    """A time of day written HH:MM (24-hour clock)."""
    raw = env_str(name, default).strip()
    match = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", raw)
    if match is None:
        raise ImproperlyConfigured(f"{name} must be a time of day as HH:MM, not {raw!r}")
    return time(int(match[1]), int(match[2]))


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def database_from_url(url: str, *, pool: dict | None = None, pgbouncer: bool = False) -> dict:
    """Django DATABASES entry from postgis://user:password@host:port/name.

    `pool` holds psycopg_pool.ConnectionPool options (min_size, max_size, timeout).
    `pgbouncer`: the URL is PgBouncer in transaction mode, where one connection's consecutive
    transactions may run on different server connections, so nothing may outlive a transaction:
    no pool of our own (PgBouncer is the pool), no server-side cursor (`.iterator()` outside a
    transaction declares one WITH HOLD, which lives in the session), no prepared statement.
    """
    parts = urlparse(url)
    if parts.scheme not in {"postgis", "postgres", "postgresql"}:
        raise ImproperlyConfigured(f"DATABASE_URL must be postgis://…, not {url!r}")
    return {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # ASGI runs each request in a thread of its own, so connections come from a
        # psycopg pool per process instead of persistent per-thread connections.
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"pool": pool} if pool and not pgbouncer else {},
        **(_pgbouncer_transaction_mode() if pgbouncer else {}),
    }


def _pgbouncer_transaction_mode() -> dict:
    """`.iterator()` then fetches its whole result at once. Prepared statements are off anyway
    (Django binds parameters client-side and passes psycopg prepare_threshold=None); saying so
    keeps a later OPTIONS change from turning them on unnoticed."""
    return {
        "DISABLE_SERVER_SIDE_CURSORS": True,
        "OPTIONS": {"prepare_threshold": None, "server_side_binding": False},
    }
