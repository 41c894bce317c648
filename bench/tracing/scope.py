"""A recall's scope frozen as opening a recall does it, and listed as its task does it, each
in a transaction rolled back.

Opening a recall (traceability.services.recalls.open_recall) also holds the lot and pauses its
listings; the bench times its scope: the lot locked FOR UPDATE (the lock order rule), the
recall row and the scope frozen by the service's own step (`freeze_scope`: one INSERT … SELECT
of the trail's aggregate). After the opening commits, the worker lists the frozen scope record
by record (`list_recall_scope`); the bench times its listing part: the frozen scope read, the
records built and kept where frozen, and the rows written (`write_scope_rows`, one COPY);
telling the parties is left out. Rolled back, so the next run finds the lot as before.
"""

from django.db import transaction
from django.utils import timezone

from farms.models import HarvestLot


class _RolledBack(Exception):
    def __init__(self, count: int):
        self.count = count


def recall_service_present() -> bool:
    try:
        from traceability.models import RecallScopeKind  # noqa: F401
    except ImportError:
        return False
    return True


def freeze_scope_rolled_back(lot: HarvestLot) -> int:
    """The number of records frozen, in a transaction rolled back."""
    try:
        with transaction.atomic():
            raise _RolledBack(_freeze(lot)[1])
    except _RolledBack as done:
        return done.count


def list_scope_rolled_back(lot: HarvestLot) -> int:
    """The number of scope rows listed from a frozen scope, in a transaction rolled back."""
    from traceability.selectors.recalls import frozen_downstream
    from traceability.services.recalls import write_scope_rows

    try:
        with transaction.atomic():
            recall, _count = _freeze(lot)
            raise _RolledBack(write_scope_rows(recall=recall, downstream=frozen_downstream(recall)))
    except _RolledBack as done:
        return done.count


def _freeze(lot: HarvestLot):
    from traceability.models import Recall
    from traceability.services.recalls import freeze_scope

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
    return recall, freeze_scope(recall=recall)
