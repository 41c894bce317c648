"""A recall's scope computed and frozen as opening a recall does it, then rolled back.

Opening a recall (traceability.services.recalls.open_recall) also holds the lot, pauses its
listings and notifies every party; the bench times only the scope: the lot locked FOR UPDATE
(the lock order rule), the recall row, downstream_of and the frozen scope rows written by the
service's own step (`freeze_scope`, one COPY), in one transaction that is rolled back so the
next run finds the lot as before.
"""

from django.db import transaction
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


def freeze_scope_rolled_back(lot: HarvestLot) -> int:
    """The number of scope rows frozen, in a transaction rolled back."""
    try:
        with transaction.atomic():
            raise _RolledBack(_freeze(lot))
    except _RolledBack as done:
        return done.count


def _freeze(lot: HarvestLot) -> int:
    from traceability.models import Recall
    from traceability.selectors.downstream import downstream_of
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
    return freeze_scope(recall=recall, downstream=downstream_of(locked))
