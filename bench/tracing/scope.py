"""A recall's scope computed and frozen as opening a recall does it, then rolled back.

Opening a recall (traceability.services.recalls.open_recall) also holds the lot, pauses its
listings and notifies every party; the bench times only the scope: the lot locked FOR UPDATE
(the lock order rule), the recall row, downstream_of and the frozen scope rows written by the
service's own step, in one transaction that is rolled back so the next run finds the lot as
before. `freeze_with_copy` writes the very same rows with COPY: the proposal it is compared to.
"""

from django.db import connection, transaction
from django.utils import timezone

from farms.models import HarvestLot


class _RolledBack(Exception):
    def __init__(self, count: int):
        self.count = count


def recall_service_present() -> bool:
    try:
        from traceability.models import RecallScopeRow  # noqa: F401
    except ImportError:
        return False
    return True


def freeze_scope_rolled_back(lot: HarvestLot, *, copy: bool = False) -> int:
    """The number of scope rows frozen, in a transaction rolled back."""
    try:
        with transaction.atomic():
            raise _RolledBack(_freeze(lot, copy=copy))
    except _RolledBack as done:
        return done.count


def _freeze(lot: HarvestLot, *, copy: bool) -> int:
    from traceability.models import Recall
    from traceability.selectors.downstream import downstream_of

    # Opening a recall freezes its scope with this (private) step; the bench times it alone.
    from traceability.services.recalls import _freeze_scope

    locked = (
        HarvestLot.objects.select_for_update(of=("self",)).select_related("farm").get(pk=lot.pk)
    )
    recall = Recall.objects.create(
        lot=locked,
        cooperative_id=locked.farm.cooperative_id,
        reason="bench",
        severity="class_ii",
        opened_by_id=locked.recorded_by_id,
        opened_at=timezone.now(),
    )
    downstream = downstream_of(locked)
    if copy:
        freeze_with_copy(recall, downstream)
    else:
        _freeze_scope(recall, downstream)
    return len(downstream.records)


def freeze_with_copy(recall, downstream) -> None:
    """The rows traceability.services.recalls._freeze_scope writes, with one COPY."""
    columns = (
        "recall_id, position, kind, record_id, at, quantity_kg, holder, reference, status,"
        " parent_kind, parent_id, party_user_id, user_ids"
    )
    statement = f"COPY traceability_recallscoperow ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as out:
        for position, record in enumerate(downstream.records):
            parent = record.parent
            party = record.party_id
            if party is None and record.user_ids:
                party = record.user_ids[0]
            out.write_row((
                recall.pk, position, record.kind, record.id, record.at, record.quantity_kg,
                str(record.holder)[:200], str(record.reference)[:120], str(record.status)[:24],
                parent[0] if parent else "", parent[1] if parent else None, party,
                list(record.user_ids),
            ))  # fmt: skip
