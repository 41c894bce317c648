"""Celery entry points of traceability: ids in, one service call, harmless when run twice."""

from celery import shared_task

from .services import recalls


@shared_task(name="traceability.list_recall_scope", acks_late=True, ignore_result=True)
def list_recall_scope(recall_id: int) -> int:
    """Queued when a recall's opening commits: its frozen scope listed record by record and
    every party told. A recall already listed is left alone."""
    return recalls.list_recall_scope(recall_id=recall_id)


@shared_task(name="traceability.list_waiting_recalls", acks_late=True)
def list_waiting_recalls() -> list[int]:
    """Beat's safety net: recalls whose listing task was lost are listed."""
    return recalls.list_waiting_recalls()
