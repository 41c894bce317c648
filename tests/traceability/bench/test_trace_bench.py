"""bench/trace at a tiny scale: its data satisfies the ledger, and its hand-written recursive
SQL finds exactly the records the real selector finds; the recall service freezes the scope
as the trace counts it (one INSERT … SELECT), then lists one row per record, field for
field."""

from django.db import connection
from django.utils import timezone

from bench.tracing.raw import count_by_kind, raw_downstream
from settlement.verification import verify_ledger
from traceability.choices import DownstreamKind
from traceability.models import Recall, RecallScopeRow
from traceability.selectors.downstream import downstream_of
from traceability.selectors.recalls import frozen_totals
from traceability.services.recalls import freeze_scope, list_recall_scope
from traceability.trail import NO_TOTAL

FIELDS = (
    "position", "kind", "record_id", "at", "quantity_kg", "holder", "reference", "status",
    "parent_kind", "parent_id", "party_user_id", "user_ids",
)  # fmt: skip


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


def test_recall_scope_is_frozen_as_the_trace_counts_it_then_listed_field_for_field(bench_lot):
    recall = Recall.objects.create(
        lot=bench_lot, cooperative_id=bench_lot.farm.cooperative_id, reason="bench",
        severity="class_ii", opened_by_id=bench_lot.recorded_by_id, opened_at=timezone.now(),
    )  # fmt: skip
    downstream = downstream_of(bench_lot)

    frozen = freeze_scope(recall=recall)

    kept = frozen_totals(recall)
    for kind in DownstreamKind:
        read, held = downstream.total(kind), kept.get(kind, NO_TOTAL)
        assert (held.count, held.quantity_kg, sorted(held.ids)) == (
            read.count,
            read.quantity_kg,
            sorted(read.ids),
        )
    assert frozen == sum(downstream.count(kind) for kind in DownstreamKind)

    listed = list_recall_scope(recall_id=recall.pk)

    rows = list(
        RecallScopeRow.objects.filter(recall=recall).order_by("position").values_list(*FIELDS)
    )
    expected = [
        (
            position,
            str(r.kind),
            r.id,
            r.at,
            r.quantity_kg,
            r.holder[:200],
            r.reference[:120],
            r.status[:24],
            r.parent[0] if r.parent else "",
            r.parent[1] if r.parent else None,
            r.party_id if r.party_id is not None else (r.user_ids[0] if r.user_ids else None),
            list(r.user_ids),
        )
        for position, r in enumerate(downstream.records)
    ]
    assert listed == len(rows) == 50
    assert rows == expected
