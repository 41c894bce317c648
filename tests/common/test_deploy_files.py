"""deploy/ holds what the app needs: every queue has a worker, nginx lets the largest body the
app takes through and hands private files over only internally, PgBouncer pools transactions,
the units read one environment file. Read from the files, no process started (`make
cluster-test` runs them)."""

import re
from pathlib import Path

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from config.task_queues import TASK_QUEUES, TASK_ROUTES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = (DEPLOY / "nginx" / "freshchain.conf").read_text()
PROXY_PARAMS = (DEPLOY / "nginx" / "proxy_params.conf").read_text()
PGBOUNCER = (DEPLOY / "pgbouncer" / "pgbouncer.ini").read_text()
UNITS = {path.name: path.read_text() for path in (DEPLOY / "systemd").iterdir()}
ENV_EXAMPLE = DEPLOY / "freshchain.env.example"


def exec_start(unit: str) -> str:
    text = UNITS[unit].replace("\\\n", " ")
    return re.search(r"^ExecStart=(.*)$", text, re.M).group(1)


def consumed_queues() -> set[str]:
    commands = [exec_start(unit) for unit, text in UNITS.items() if "ExecStart=" in text]
    return {
        queue
        for command in commands
        if " worker " in command
        for queue in re.search(r"-Q (\S+)", command).group(1).split(",")
    }


def nginx_location(prefix: str) -> str:
    """The body of the location block that starts with `prefix` (e.g. "/ws/", "= /metrics")."""
    match = re.search(rf"location {re.escape(prefix)} \{{(.*?)\n    \}}", NGINX, re.S)
    assert match, f"no location {prefix}"
    return match.group(1)


def megabytes(size: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmM]?)", size).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit.lower()]


def body_limits_of_views(resolver: URLResolver | None = None) -> list[int]:
    """Every request_body_limit a routed view (or its class, or a handler) declares."""
    found = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            found += body_limits_of_views(pattern)
            continue
        assert isinstance(pattern, URLPattern)
        view = pattern.callback
        view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
        handlers = [getattr(view_class, name, None) for name in dir(view_class or object)]
        for candidate in [view, view_class, *handlers]:
            limit = getattr(candidate, "request_body_limit", None)
            if callable(limit):
                found.append(limit())
    return found


# --- Celery queues and the worker units -------------------------------------------------------


def test_every_routed_queue_has_a_worker_unit():
    routed = {route["queue"] for route in TASK_ROUTES.values()}

    assert routed <= consumed_queues()
    assert {queue.name for queue in TASK_QUEUES} <= consumed_queues()


def test_realtime_work_has_a_worker_that_takes_nothing_else():
    realtime = exec_start("freshchain-worker-realtime.service")

    assert re.search(r"-Q realtime\s", realtime)


def test_exactly_one_beat():
    beats = [unit for unit in UNITS if "ExecStart=" in UNITS[unit] and " beat" in exec_start(unit)]

    assert beats == ["freshchain-beat.service"]


# --- nginx ------------------------------------------------------------------------------------


def test_nginx_lets_the_largest_body_the_app_takes_reach_it():
    largest = max([settings.MAX_REQUEST_BODY_BYTES, *body_limits_of_views()])
    [size] = re.findall(r"client_max_body_size (\S+);", NGINX)

    assert megabytes(size) >= largest
    assert largest > 8 * 1024 * 1024  # the photo and licence uploads were found


def test_private_files_are_only_reachable_through_x_accel_redirect():
    private = nginx_location("/_private/")

    assert "internal;" in private
    assert "alias /srv/freshchain/var/private/;" in private
    assert "DJANGO_PRIVATE_MEDIA_ACCEL_PREFIX=/_private/" in ENV_EXAMPLE.read_text().splitlines()
    assert "/var/private/" not in nginx_location("/media/")


def test_only_idempotent_requests_are_retried_on_another_web_process():
    retried = re.findall(r"proxy_next_upstream ([^;]+);", NGINX)

    assert retried
    assert all("non_idempotent" not in each for each in retried)
    assert "proxy_next_upstream" not in nginx_location("/ws/")


def test_websockets_are_upgraded_and_requests_carry_their_id_and_origin():
    assert "include /srv/freshchain/deploy/nginx/proxy_params.conf;" in nginx_location("/ws/")
    assert "proxy_set_header Upgrade $http_upgrade;" in PROXY_PARAMS
    assert "proxy_set_header X-Request-ID $freshchain_request_id;" in PROXY_PARAMS
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in PROXY_PARAMS
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in PROXY_PARAMS


def test_metrics_are_closed_to_the_outside():
    assert "deny all;" in nginx_location("= /metrics")


def test_static_files_are_served_by_nginx_with_long_cache_headers():
    assert re.search(r"max-age=31536000, immutable", NGINX)
    assert "/var/static/" in NGINX


# --- PgBouncer and the environment ------------------------------------------------------------


def test_pgbouncer_pools_transactions_and_the_app_knows_it():
    env = ENV_EXAMPLE.read_text()
    port = re.search(r"^listen_port = (\d+)", PGBOUNCER, re.M).group(1)

    assert re.search(r"^pool_mode = transaction$", PGBOUNCER, re.M)
    assert "DATABASE_PGBOUNCER=true" in env.splitlines()
    assert re.search(rf"^DATABASE_URL=postgis://\S+:{port}/", env, re.M)
    assert not re.search(r"^DATABASE_OWNER_URL=\S+:6432/", env, re.M)  # migrate goes direct


def test_every_unit_reads_the_environment_file_and_finds_its_variables():
    defined = {
        line.partition("=")[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    }
    for unit, text in UNITS.items():
        if unit.endswith(".service"):
            assert "EnvironmentFile=/etc/freshchain/freshchain.env" in text, unit
            assert set(re.findall(r"\$\{(\w+)\}", text)) <= defined, unit


def test_the_environment_file_sets_only_variables_the_app_or_the_units_know():
    known = set(re.findall(r"^([A-Z_]+)=", (DEPLOY.parent / ".env.example").read_text(), re.M))
    unit_own = {name for text in UNITS.values() for name in re.findall(r"\$\{(\w+)\}", text)}
    file_secrets = {"DJANGO_SECRET_KEY_FILE", "METRICS_TOKEN_FILE"}  # NAME_FILE (config/env.py)
    defined = set(re.findall(r"^([A-Z_]+)=", ENV_EXAMPLE.read_text(), re.M))

    assert defined - known - unit_own - file_secrets == set()


def test_only_the_metrics_unit_empties_the_shared_metrics_folder():
    emptying = [unit for unit, text in UNITS.items() if "rm -rf" in text]

    assert emptying == ["freshchain-metrics.service"]
    for unit, text in UNITS.items():
        if "ExecStart=" in text and re.search(r" (worker|beat) |uvicorn", exec_start(unit)):
            assert "Requires=freshchain-metrics.service" in text, unit
            assert "After=freshchain-metrics.service" in text, unit
