"""bench/trace at a tiny scale: its data satisfies the ledger, and its hand-written recursive
SQL finds exactly the records the real selector finds."""

from django.db import connection

from bench.tracing.raw import count_by_kind, raw_downstream
from settlement.verification import verify_ledger
from traceability.selectors.downstream import downstream_of


def test_bench_lot_has_the_scope_it_was_built_with_and_raw_sql_agrees(bench_lot, tiny_scale):
    downstream = downstream_of(bench_lot)
    with connection.cursor() as cursor:
        rows = raw_downstream(cursor, bench_lot.pk)

    by_selector = {(str(r.kind), r.id) for r in downstream.records}
    by_raw = {(kind, id_) for kind, id_, *_ in rows}
    assert len(downstream.records) == tiny_scale.records == 50
    assert count_by_kind(rows) == dict(sorted(tiny_scale.expected().items()))
    assert by_raw == by_selector


def test_bench_ledger_rows_verify_like_real_settlements(bench_lot):
    result = verify_ledger()

    assert result.ok, result.findings
    assert result.entries > 22  # the tiny scale's 22 trades and the buyers' top-ups
    assert result.unsealed == 0
