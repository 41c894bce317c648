"""bench/trace: one lot's whole forward scope (100,000 records) through the real selector,
the recall's frozen scope, and two raw limits: one hand-written recursive SQL over the source
tables (the work without our shape) and the raw index scan of the lot's trail (with it).

The data (bench/tracing/data.py, built once and reused): lot TRACE-MAIN was listed (20
listings, 9,680 buyers' order lines), sold at four markets' counters (20,000 trades, each
settled by a balanced ledger entry), carried on 100 cold trucks, received into 200 front
warehouses (one stock lot per warehouse, from 12,000 trades and 5,808 order lines) and picked
for 70,000 consumer order lines. Around it, 2,000 other lots with 60,000 trades, 20,000
order lines, 40,000 stock lots and 100,000 consumer orders, so each index the walk uses holds
rows that are not the lot's. Every row is written with the triggers on, so the lot's trail
(traceability.models.LotTrailEntry: 117,808 rows of the lot, with its 17,808 stock receipts)
is written as the source rows are; a bench database built before the trail existed gets it
from migration 0006's backfill when bench/run.py migrates it. Before timing, the trail is
VACUUM ANALYZEd (what autovacuum does after a burst of writes: the visibility map lets the
trace read the index alone).

Timed, interleaved, after a warm-up:
- trace (BENCH_TRACE_RUNS, 30): the forward trace as the journey page and the journey API
  read it, exactly `traceability.selectors.journey.forward_scope(lot)`: `downstream_of(lot)`
  and `scope_from_downstream`, which asks it for each kind's ids and the consumers' picks
  (one aggregate, index-only read of the lot's trail: count, kilograms and ids of each kind
  as a few packed arrays) and makes them the sets the step builders take. No record is
  built: the journey uses none (it reads each app's rows by these ids, not timed here).
- records (30): `downstream_of(lot).records`, every DownstreamRecord built (holders, parents,
  whom to tell): what a recall reads, in its scope below too. Two index-only range scans of
  the trail, a few small look-ups of names and staff by id, and the rows turned into records.
- raw (30): bench/tracing/raw.py's WITH RECURSIVE statement over the SOURCE tables on a plain
  psycopg connection, fetching every record's kind, id, time, quantity, holder and the user to
  tell: the limit of the work without the trail (~300,000 index probes across tables).
- raw_trail (30): bench/tracing/raw.py's RAW_TRAIL_SQL on the same connection: the trail's
  index scan alone, every row fetched as tuples, nothing built: the limit of `records`.
- scope (30): what opening a recall does to its scope, in a transaction rolled back: the lot
  locked FOR UPDATE, the recall row and the scope frozen by
  traceability.services.recalls.freeze_scope (the service's own step: one INSERT … SELECT of
  the trail's aggregate, each kind's count, kilograms and packed ids, kept as they are read).
- listing (BENCH_TRACE_LISTING_RUNS, 10: each takes seconds): what the worker does after the
  opening commits, but telling the parties: the scope frozen as above, then listed record by
  record (frozen_downstream's records, write_scope_rows' COPY), rolled back. Not the opening's
  time: nobody waits for it under the lot's lock.
The selector, the raw SQL and the raw trail scan must find the same records (checked, by kind
and id; a trail that disagrees with the source tables stops the bench: a stale database), and
the selector's totals must match its records (count, kilograms and ids of each kind).
Targets: trace p95 under 200 ms, p95 / raw p95 at most 3. The last line also gives
records_p95_ms, raw_trail_p95_ms and trail_ratio (records p95 / raw trail scan p95), and the
Python CPU time of this process (cpu_p50_ms): on a shared machine the wall-clock figures carry
everyone's load.
"""

import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.support import percentile, report  # noqa: E402
from bench.tracing.data import Scale, build  # noqa: E402
from bench.tracing.raw import (  # noqa: E402
    RAW_DOWNSTREAM_SQL,
    RAW_TRAIL_SQL,
    count_by_kind,
    raw_downstream,
    raw_trail,
    trail_records,
)
from bench.tracing.scope import (  # noqa: E402
    freeze_scope_rolled_back,
    list_scope_rolled_back,
    recall_service_present,
)
from traceability.choices import DownstreamKind  # noqa: E402
from traceability.selectors.downstream import downstream_of  # noqa: E402
from traceability.selectors.journey import scope_from_downstream  # noqa: E402
from traceability.trail import Downstream  # noqa: E402

RUNS = int(os.environ.get("BENCH_TRACE_RUNS", "30"))
LISTING_RUNS = int(os.environ.get("BENCH_TRACE_LISTING_RUNS", "10"))  # each takes seconds
WARMUP = 2
TARGET_MS = 200
TARGET_RATIO = 3


def _connect() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"] or 5432,
        autocommit=True,
    )


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def check_same_records(lot, scale: Scale, raw_connection) -> int:
    """The selector, the raw SQL and the data's plan agree, record by record."""
    downstream = downstream_of(lot)
    with raw_connection.cursor() as cursor:
        rows = raw_downstream(cursor, lot.pk)
        trail = trail_records(raw_trail(cursor, lot.pk))
    by_selector = {(str(r.kind), r.id) for r in downstream.records}
    by_raw = {(row[0], row[1]) for row in rows}
    selector_counts = count_by_kind((str(r.kind), r.id) for r in downstream.records)
    raw_counts = count_by_kind(rows)
    print(f"records by kind: selector  {selector_counts}")
    print(f"                 raw SQL   {raw_counts}")
    print(f"                 raw trail {count_by_kind(trail)}")
    if by_selector != by_raw or selector_counts != dict(sorted(scale.expected().items())):
        raise SystemExit(
            f"the selector and the raw SQL disagree: {len(by_selector - by_raw)} only in the "
            f"selector, {len(by_raw - by_selector)} only in the raw SQL; planned "
            f"{scale.expected()}"
        )
    records = Downstream(downstream.lot_id, downstream.records)  # totals counted from records
    totals = downstream_of(lot)  # totals read by the aggregate
    for kind in DownstreamKind:
        read, counted = totals.total(kind), records.total(kind)
        if (read.count, read.quantity_kg, sorted(read.ids)) != (
            counted.count,
            counted.quantity_kg,
            sorted(counted.ids),
        ):
            raise SystemExit(f"the selector's totals of {kind} disagree with its records")
    if set(trail) != by_raw:
        raise SystemExit(
            f"the lot's trail disagrees with its source tables: a stale bench database? "
            f"Drop it (dropdb {settings.DATABASES['default']['NAME']}) and run the bench again "
            f"to rebuild it."
        )
    return len(downstream.records)


def vacuum_trail(raw_connection) -> None:
    """What autovacuum does after a burst of writes: statistics, and the visibility map the
    trace's index-only scan reads (a page not all-visible costs a heap fetch)."""
    raw_connection.execute("VACUUM ANALYZE traceability_lottrail")


def profile(name: str, run) -> None:
    """Where a run's time goes: each statement's time, and the rest (Python)."""
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        run()
        total = _ms(started)
    in_sql = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    print(
        f"one {name}: {total:.0f} ms, {len(captured.captured_queries)} statements taking "
        f"{in_sql:.0f} ms (with fetching their rows), {total - in_sql:.0f} ms in Python"
    )
    for query in captured.captured_queries:
        print(f"  {float(query['time']) * 1000:7.1f} ms  {' '.join(query['sql'].split())[:120]}")


def explain_raw(raw_connection, lot_id: int, statement: str, name: str) -> None:
    with raw_connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, {"lot": lot_id})
        lines = [row[0] for row in cursor.fetchall()]
    print(f"  EXPLAIN ANALYZE of {name} (last lines):")
    for line in lines[-3:]:
        print("    " + line)


def main() -> None:
    scale = Scale()
    lot = build(scale)
    raw_connection = _connect()
    vacuum_trail(raw_connection)
    records = check_same_records(lot, scale, raw_connection)
    print(f"lot {lot.lot_code}: {records} records downstream; runs after {WARMUP} warm-up runs")

    def trace() -> None:
        scope_from_downstream(downstream_of(lot))  # journey.forward_scope(lot)

    def all_records() -> None:
        len(downstream_of(lot).records)  # every record built

    def raw() -> None:
        with raw_connection.cursor() as cursor:
            raw_downstream(cursor, lot.pk)

    def raw_trail_scan() -> None:
        with raw_connection.cursor() as cursor:
            raw_trail(cursor, lot.pk)

    runs = [
        ("trace", trace, RUNS),
        ("records", all_records, RUNS),
        ("raw", raw, RUNS),
        ("raw_trail", raw_trail_scan, RUNS),
    ]
    if recall_service_present():
        runs += [
            ("scope", lambda: freeze_scope_rolled_back(lot), RUNS),
            ("listing", lambda: list_scope_rolled_back(lot), LISTING_RUNS),
        ]
    else:
        print("scope: not measured, the recall service (traceability.services.recalls) is missing")
    timings: dict[str, list[float]] = {name: [] for name, _run, _count in runs}
    cpu: dict[str, list[float]] = {name: [] for name, _run, _count in runs}  # this process's
    for n in range(WARMUP + RUNS):
        for name, run, count in runs:
            if n < WARMUP + count:
                started, cpu_started = time.perf_counter(), time.process_time()
                run()
                if n >= WARMUP:
                    timings[name].append(_ms(started))
                    cpu[name].append((time.process_time() - cpu_started) * 1000)

    figures = {name: (percentile(s, 50), percentile(s, 95)) for name, s in timings.items()}
    for name, (p50, p95) in figures.items():
        print(
            f"{name:12s} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   ({len(timings[name])} runs; "
            f"Python CPU in this process p50 {percentile(cpu[name], 50):7.1f} ms)"
        )
    raw_p95, trail_p95 = figures["raw"][1], figures["raw_trail"][1]
    ratio = figures["trace"][1] / raw_p95
    scope_p50, scope_p95 = figures.get("scope", (None, None))
    scope_ratio = scope_p95 / raw_p95 if scope_p95 else None
    print(
        f"trace p95 / raw p95 = {ratio:.2f}, scope p95 / raw p95 = {scope_ratio or 0:.2f} "
        f"(targets: trace p95 < {TARGET_MS} ms, ratio <= {TARGET_RATIO}); "
        f"records p95 / raw trail scan p95 = {figures['records'][1] / trail_p95:.2f}"
    )
    profile("trace", trace)
    profile("records", all_records)
    explain_raw(raw_connection, lot.pk, RAW_DOWNSTREAM_SQL, "the raw SQL")
    explain_raw(raw_connection, lot.pk, RAW_TRAIL_SQL, "the raw trail scan")
    raw_connection.close()
    report(
        "trace",
        p95_ms=round(figures["trace"][1], 1),
        raw_p95_ms=round(raw_p95, 1),
        ratio=round(ratio, 2),
        records=records,
        p50_ms=round(figures["trace"][0], 1),
        scope_p50_ms=scope_p50 and round(scope_p50, 1),
        scope_p95_ms=scope_p95 and round(scope_p95, 1),
        scope_ratio=scope_ratio and round(scope_ratio, 2),
        records_p50_ms=round(figures["records"][0], 1),
        records_p95_ms=round(figures["records"][1], 1),
        raw_p50_ms=round(figures["raw"][0], 1),
        raw_trail_p95_ms=round(trail_p95, 1),
        raw_trail_p50_ms=round(figures["raw_trail"][0], 1),
        trail_ratio=round(figures["records"][1] / trail_p95, 2),
        cpu_p50_ms=round(percentile(cpu["trace"], 50), 1),
        records_cpu_p50_ms=round(percentile(cpu["records"], 50), 1),
        raw_cpu_p50_ms=round(percentile(cpu["raw"], 50), 1),
        raw_trail_cpu_p50_ms=round(percentile(cpu["raw_trail"], 50), 1),
        scope_cpu_p50_ms=cpu.get("scope") and round(percentile(cpu["scope"], 50), 1),
        listing_p50_ms=figures.get("listing") and round(figures["listing"][0], 1),
        listing_p95_ms=figures.get("listing") and round(figures["listing"][1], 1),
    )


if __name__ == "__main__":
    main()
