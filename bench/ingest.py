"""bench/ingest: loggers' readings through the HTTP API, beside COPY of the same rows, and how
soon a controller's screen hears of an excursion.

The benchmark database gets a controller, two sites and, per run, fresh loggers, each
assigned to a shipment of its own kept at 0–4 °C (so every batch goes the whole way: device
authentication, parsing, checks, INSERT … ON CONFLICT, the excursion engine, the live push).

- HTTP: the project's ASGI app under uvicorn (BENCH_INGEST_WORKERS processes) on a free port;
  BENCH_INGEST_CLIENTS client threads, each a gateway for its own loggers, post batches of
  1,000 readings (one a second per logger, every reading new, all inside the range) for
  BENCH_SECONDS after a warm-up. Readings/s = readings stored / wall time.
- COPY: as many psycopg connections as there are clients COPY the same number of rows, in
  transactions of 1,000 like the API's, into the same table (fresh times, same loggers).
- Alert latency: a WebSocket client signed in as the controller listens on ws/coldchain/.
  Each trial has a fresh logger on a fresh shipment (excursion after 5 minutes): four minutes
  at 9 °C are posted first, then, timed, one more reading six minutes into the breach, which
  confirms the excursion. Timed from the start of that POST to the `alert` event arriving.

Targets: readings_per_s >= 20,000, ratio (HTTP / COPY) >= 0.25, alert_p99_ms < 1,000.
"""

import contextlib
import cProfile
import io
import json
import os
import pstats
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

import httpx  # noqa: E402
import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from websockets.sync.client import connect as websocket_connect  # noqa: E402

from accounts.choices import Role  # noqa: E402
from accounts.models import User  # noqa: E402
from bench.support import asgi_server, percentile, report  # noqa: E402
from coldchain.choices import ShipmentStatus, SiteKind  # noqa: E402
from coldchain.models import DataLogger, Reading, Shipment, Site  # noqa: E402
from coldchain.services.registry import assign_logger, register_logger  # noqa: E402

try:
    from orjson import dumps as json_dumps
except ImportError:  # pragma: no cover

    def json_dumps(value) -> bytes:
        return json.dumps(value).encode()


SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WORKERS = int(os.environ.get("BENCH_INGEST_WORKERS", str(min(4, os.cpu_count() or 1))))
CLIENTS = int(os.environ.get("BENCH_INGEST_CLIENTS", str(2 * WORKERS)))
LOGGERS_PER_CLIENT = 4
BATCH = 1000
WARMUP_BATCHES = 3  # per client, before the clock starts
ALERT_TRIALS = int(os.environ.get("BENCH_ALERT_TRIALS", "60"))
ALERT_TIMEOUT = 5.0  # seconds; an alert later than this counts as lost
SECRET = "bench-ingest-logger-secret"
CONTROLLER = "bench.ingest.controller"
INGEST_PATH = "/api/coldchain/readings/"
POSITION = (116.3655, 39.7838)  # longitude, latitude


# --- The world ------------------------------------------------------------------------------


def build_world() -> tuple[User, Site, Site]:
    controller, _ = User.objects.get_or_create(
        username=CONTROLLER, defaults={"role": Role.COLDCHAIN_CONTROLLER, "password": "!"}
    )
    sites = [
        Site.objects.get_or_create(
            name=name,
            defaults={"kind": SiteKind.OTHER, "location": Point(lon, lat, srid=4326)},
        )[0]
        for name, lon, lat in (
            ("基准测试冷链起点", 118.791, 36.857),
            ("基准测试冷链终点", *POSITION),
        )
    ]
    return controller, sites[0], sites[1]


def watched_logger(world, name: str, since: datetime, *, delay: int = 15) -> DataLogger:
    """A fresh logger on a fresh in-transit shipment (0–4 °C) from `since`."""
    controller, origin, destination = world
    shipment = Shipment.objects.create(
        code=name,
        origin=origin,
        destination=destination,
        status=ShipmentStatus.IN_TRANSIT,
        planned_departure_at=since,
        planned_arrival_at=timezone.now() + timedelta(days=1),
        departed_at=since,
        min_temperature_c=Decimal("0.0"),
        max_temperature_c=Decimal("4.0"),
        excursion_delay_minutes=delay,
        recovery_minutes=5,
        signal_timeout_minutes=1440,
        planned_by=controller,
    )
    logger, _secret = register_logger(device_id=name, secret=SECRET)
    assign_logger(logger=logger, subject=shipment, starts_at=since)
    return logger


def rows_from(start: float, count: int, *, temperature=None) -> list[dict]:
    """`count` readings a second apart from epoch `start`, inside 0–4 °C unless told."""
    return [
        {
            "recorded_at": datetime.fromtimestamp(start + i, UTC).isoformat(),
            "temperature_c": temperature if temperature is not None else 1.5 + (i % 20) / 10,
            "humidity_pct": 91.5,
            "latitude": POSITION[1],
            "longitude": POSITION[0],
            "battery_pct": 80,
        }
        for i in range(count)
    ]


def device_header(logger_id: str) -> dict:
    return {"Authorization": f"Device {logger_id}:{SECRET}", "Content-Type": "application/json"}


# --- HTTP throughput ------------------------------------------------------------------------


class Gateway(threading.Thread):
    """One client: posts 1,000-reading batches for its loggers in turn until the deadline."""

    def __init__(self, base: str, loggers: list[str], start: float, barrier):
        super().__init__(daemon=True)
        self.base, self.loggers, self.barrier = base, loggers, barrier
        self.next_time = dict.fromkeys(loggers, start)
        self.posted = self.stored = 0
        self.latencies: list[float] = []
        self.error: BaseException | None = None
        self.started = self.ended = 0.0

    def post_one(self, client: httpx.Client, n: int) -> int:
        device = self.loggers[n % len(self.loggers)]
        body = json_dumps({"readings": rows_from(self.next_time[device], BATCH)})
        self.next_time[device] += BATCH
        sent = time.perf_counter()
        answer = client.post(INGEST_PATH, content=body, headers=device_header(device))
        self.latencies.append(time.perf_counter() - sent)
        if answer.status_code != 201:
            raise RuntimeError(f"{device}: HTTP {answer.status_code} {answer.text[:300]}")
        return answer.json()["stored"]

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.base, timeout=60) as client:
                for n in range(WARMUP_BATCHES):
                    self.post_one(client, n)
                self.latencies.clear()
                self.barrier.wait(timeout=120)
                self.started = time.perf_counter()
                deadline = self.started + SECONDS
                n = WARMUP_BATCHES
                while time.perf_counter() < deadline:
                    self.stored += self.post_one(client, n)
                    self.posted += BATCH
                    n += 1
                self.ended = time.perf_counter()
        except BaseException as error:  # reported by the main thread
            self.error = error
            self.barrier.abort()


def http_throughput(base: str, world, run: str, base_time: float):
    """(readings stored, wall seconds, the loggers' device ids, each POST's seconds)."""
    since = datetime.fromtimestamp(base_time - 60, UTC)
    groups = [
        [
            watched_logger(world, f"BI-{run}-c{c}-{k}", since).device_id
            for k in range(LOGGERS_PER_CLIENT)
        ]
        for c in range(CLIENTS)
    ]
    # The clients warm up, then start together (the main thread only waits with them).
    barrier = threading.Barrier(CLIENTS + 1)
    gateways = [Gateway(base, devices, base_time, barrier) for devices in groups]
    for gateway in gateways:
        gateway.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a client failed: see below
        barrier.wait(timeout=300)
    for gateway in gateways:
        gateway.join()
    failed = [g.error for g in gateways if g.error is not None]
    if failed:
        raise SystemExit(f"a client failed: {failed[0]!r}")
    stored = sum(g.stored for g in gateways)
    posted = sum(g.posted for g in gateways)
    if stored != posted:
        raise SystemExit(f"{posted} readings posted but {stored} stored: some were not new")
    wall = max(g.ended for g in gateways) - min(g.started for g in gateways)
    latencies = [x for g in gateways for x in g.latencies]
    return stored, wall, [d for devices in groups for d in devices], latencies


# --- COPY of the same rows ------------------------------------------------------------------

COPY_SQL = (
    "COPY coldchain_reading (logger_id, recorded_at, temperature_c, humidity_pct, position, "
    "battery_pct) FROM STDIN"
)


def _connect() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"] or 5432,
    )


def copy_rows(logger_ids: list[int], total: int, start: float) -> float:
    """COPY `total` rows, 1,000 a transaction, over CLIENTS connections (each for its share of
    the loggers); returns the wall seconds."""
    position = f"SRID=4326;POINT({POSITION[0]} {POSITION[1]})"
    shares = [logger_ids[c::CLIENTS] for c in range(CLIENTS)]
    per_client = [total // CLIENTS + (c < total % CLIENTS) for c in range(CLIENTS)]
    errors, ends = [], []
    barrier = threading.Barrier(CLIENTS + 1)

    def worker(c: int) -> None:
        try:
            with _connect() as conn:
                next_time = dict.fromkeys(shares[c], start)
                barrier.wait()
                left, n = per_client[c], 0
                while left > 0:
                    count = min(BATCH, left)
                    logger_id = shares[c][n % len(shares[c])]
                    first = next_time[logger_id]
                    next_time[logger_id] += count
                    with (
                        conn.transaction(),
                        conn.cursor() as cursor,
                        cursor.copy(COPY_SQL) as copy,
                    ):
                        for i in range(count):
                            copy.write_row(
                                (
                                    logger_id,
                                    datetime.fromtimestamp(first + i, UTC),
                                    1.5 + (i % 20) / 10,
                                    91.5,
                                    position,
                                    80,
                                )
                            )
                    left -= count
                    n += 1
            ends.append(time.perf_counter())
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(CLIENTS)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=60)
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"COPY failed: {errors[0]!r}")
    return max(ends) - started


# --- Alert latency --------------------------------------------------------------------------


class Screen(threading.Thread):
    """The controller's screen: notes when each shipment's first `alert` event arrives."""

    def __init__(self, base: str, cookie: str):
        super().__init__(daemon=True)
        self.socket = websocket_connect(
            base.replace("http://", "ws://") + "/ws/coldchain/",
            origin=base,
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
            max_size=None,
        )
        self.arrivals: dict[int, float] = {}
        self.arrived = threading.Condition()

    def run(self) -> None:
        try:
            for message in self.socket:
                event = json.loads(message)
                if event.get("type") != "alert":
                    continue
                with self.arrived:
                    subject = event["payload"].get("subject_id")
                    self.arrivals.setdefault(subject, time.perf_counter())
                    self.arrived.notify_all()
        except Exception:  # closed at the end
            return

    def wait_for(self, subject_id: int, timeout: float) -> float | None:
        with self.arrived:
            self.arrived.wait_for(lambda: subject_id in self.arrivals, timeout=timeout)
            return self.arrivals.get(subject_id)


def alert_latencies(base: str, world, run: str) -> tuple[list[float], list[float], int]:
    controller = world[0]
    client = Client()
    client.force_login(controller)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    screen = Screen(base, cookie)
    screen.start()
    latencies, posts, lost = [], [], 0
    with httpx.Client(base_url=base, timeout=30) as http:
        for trial in range(ALERT_TRIALS):
            breach = time.time() - 10 * 60
            logger = watched_logger(
                world, f"BA-{run}-{trial}", datetime.fromtimestamp(breach - 600, UTC), delay=5
            )
            shipment_id = logger.assignments.get().shipment_id
            headers = device_header(logger.device_id)
            # Four minutes at 9 °C, a reading a minute: not yet an excursion.
            before = [rows_from(breach + 60 * m, 1, temperature=9.0)[0] for m in range(5)]
            answer = http.post(
                INGEST_PATH, content=json_dumps({"readings": before}), headers=headers
            )
            answer.raise_for_status()
            confirming = json_dumps({"readings": rows_from(breach + 360, 1, temperature=9.2)})
            sent = time.perf_counter()
            answer = http.post(INGEST_PATH, content=confirming, headers=headers)
            posts.append(time.perf_counter() - sent)
            answer.raise_for_status()
            arrived = screen.wait_for(shipment_id, ALERT_TIMEOUT)
            if arrived is None:
                lost += 1
            else:
                latencies.append(arrived - sent)
    screen.socket.close()
    screen.join(timeout=5)
    return latencies, posts, lost


# --- Where the time goes --------------------------------------------------------------------


def profile_one(world, run: str, batches: int = 10) -> None:
    """Batches of 1,000 through the ingest service in this process, after a warm-up: the
    statements one sends and the functions that take the time (the server adds HTTP, the
    JSON parse and the live push's hop to the event loop)."""
    from coldchain import ingest

    start = time.time() - 5 * 86400
    logger = watched_logger(world, f"BP-{run}", datetime.fromtimestamp(start - 60, UTC))
    for n in range(3):  # warm the code paths and the connection
        ingest.ingest_readings(logger=logger, rows=rows_from(start + n * BATCH, BATCH))
    payloads = [rows_from(start + (3 + n) * BATCH, BATCH) for n in range(batches)]
    profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as captured:
        began = time.perf_counter()
        profiler.enable()
        for rows in payloads:
            ingest.ingest_readings(logger=logger, rows=rows)
        profiler.disable()
        took = (time.perf_counter() - began) / batches
    sql = sum(float(q["time"]) for q in captured.captured_queries) / batches
    print(
        f"a batch of {BATCH} in-process (no HTTP, under cProfile): {1000 * took:.1f} ms, "
        f"{len(captured.captured_queries) // batches} statements taking {1000 * sql:.1f} ms"
    )
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(8)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start_at = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    print(f"  most time of its own over {batches} batches (cProfile, tottime):")
    for line in lines[start_at : start_at + 9]:
        print(f"  {line.strip()[:150]}")


def main() -> None:
    world = build_world()
    run = f"{int(time.time())}-{uuid.uuid4().hex[:4]}"
    base_time = float(int(time.time()) - 20 * 86400)  # 20 days ago, a second a reading
    print(
        f"{os.cpu_count()} CPUs; uvicorn with {WORKERS} worker processes, {CLIENTS} client "
        f"threads × {LOGGERS_PER_CLIENT} loggers, batches of {BATCH}, {SECONDS:g} s"
    )
    with asgi_server(workers=WORKERS) as base:
        stored, wall, devices, post_latencies = http_throughput(base, world, run, base_time)
        http_rate = stored / wall
        print(
            f"HTTP : {stored:8d} readings in {wall:5.1f} s = {http_rate:9.0f}/s "
            f"(POST p50 {1000 * percentile(post_latencies, 50):.0f} ms, "
            f"p99 {1000 * percentile(post_latencies, 99):.0f} ms)"
        )

        logger_ids = list(
            DataLogger.objects.filter(device_id__in=devices)
            .order_by("device_id")
            .values_list("pk", flat=True)
        )
        copy_wall = copy_rows(logger_ids, stored, base_time + 10 * 86400)
        copy_rate = stored / copy_wall
        print(
            f"COPY : {stored:8d} readings in {copy_wall:5.1f} s = {copy_rate:9.0f}/s "
            f"({CLIENTS} connections, {BATCH} rows a transaction)"
        )
        # Every reading is there once: the timed ones, the warm-up's, and COPY's.
        written = Reading.objects.filter(logger_id__in=logger_ids).count()
        expected = 2 * stored + BATCH * WARMUP_BATCHES * CLIENTS
        if written != expected:
            raise SystemExit(f"{written} readings in the table; expected {expected}")

        latencies, posts, lost = alert_latencies(base, world, run)
    ratio = http_rate / copy_rate
    p50 = 1000 * percentile(latencies, 50) if latencies else None
    p99 = 1000 * percentile(latencies, 99) if latencies else None
    if latencies:
        print(
            f"alert: {len(latencies)} of {ALERT_TRIALS} excursions reached the screen; "
            f"post → alert p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {1000 * max(latencies):.1f} ms "
            f"(the confirming POST alone: p50 {1000 * percentile(posts, 50):.1f} ms)"
        )
    if lost:
        print(
            f"alert: {lost} of {ALERT_TRIALS} excursions raised no alert within {ALERT_TIMEOUT:g} s"
        )

    profile_one(world, run)
    print(
        f"targets: readings/s {http_rate:.0f} (>= 20000: {'met' if http_rate >= 20000 else 'MISSED'}), "
        f"ratio {ratio:.2f} (>= 0.25: {'met' if ratio >= 0.25 else 'MISSED'}), "
        f"alert p99 {'-' if p99 is None else f'{p99:.0f}'} ms "
        f"(< 1000: {'met' if p99 is not None and p99 < 1000 and not lost else 'MISSED'})"
    )
    report(
        "ingest",
        readings_per_s=round(http_rate, 1),
        copy_per_s=round(copy_rate, 1),
        ratio=round(ratio, 3),
        alert_p50_ms=None if p50 is None else round(p50, 1),
        alert_p99_ms=None if p99 is None else round(p99, 1),
    )


if __name__ == "__main__":
    main()
