"""Behind PgBouncer in transaction mode nothing may outlive a transaction: DATABASE_PGBOUNCER
turns off what would (the make-cluster run, tests/cluster/, runs the app through it)."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
OUR_CODE = ["accounts", "coldchain", "common", "config", "controltower", "delivery", "farms",
            "marketplace", "settlement", "traceability"]  # fmt: skip


def database_settings(**environment: str) -> dict:
    """The DATABASES entry and pool size production settings build from this environment."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("DATABASE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="example.org",
        **environment,
    )
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'db': settings.DATABASES['default'], "
        "'pool_size': settings.DATABASE_POOL_SIZE}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def test_behind_pgbouncer_there_is_no_pool_no_server_side_cursor_no_prepared_statement():
    found = database_settings(
        DATABASE_URL="postgis://freshchain_app:secret@pgbouncer-host:6432/freshchain",
        DATABASE_PGBOUNCER="true",
        DATABASE_POOL_SIZE="10",
    )

    db = found["db"]
    assert found["pool_size"] == 0
    assert "pool" not in db["OPTIONS"]
    assert db["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert db["OPTIONS"]["prepare_threshold"] is None
    assert db["OPTIONS"]["server_side_binding"] is False
    assert db["CONN_MAX_AGE"] == 0
    assert (db["HOST"], db["PORT"]) == ("pgbouncer-host", "6432")


def test_straight_to_postgresql_each_process_keeps_its_own_pool():
    found = database_settings(
        DATABASE_URL="postgis://freshchain_app:secret@db-host:5432/freshchain",
        DATABASE_POOL_SIZE="10",
    )

    db = found["db"]
    assert db["OPTIONS"]["pool"]["max_size"] == 10
    assert db.get("DISABLE_SERVER_SIDE_CURSORS", False) is False


def our_python_files() -> list[Path]:
    return [
        path
        for folder in OUR_CODE
        for path in (BASE_DIR / folder).rglob("*.py")
        if "migrations" not in path.parts
    ]


def test_no_session_level_state_that_transaction_pooling_would_lose():
    """Advisory locks are transaction-scoped (pg_advisory_xact_lock), SETs are SET LOCAL or
    SET TRANSACTION, and nothing LISTENs: each would otherwise stay on a server connection
    another client gets next."""
    session_state = re.compile(  # our SQL is written in capitals
        r"pg_(try_)?advisory_lock\(|\bLISTEN |\bUNLISTEN\b|\bCREATE TEMP"
        r"|[\"']SET (?!LOCAL|TRANSACTION|CONSTRAINTS)"
    )

    offenders = [
        f"{path.relative_to(BASE_DIR)}:{number}"
        for path in our_python_files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if session_state.search(line)
    ]

    assert offenders == []
    assert any("pg_advisory_xact_lock" in path.read_text() for path in our_python_files())
