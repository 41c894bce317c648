"""A recall opened and listed, as a user's opening and then the worker's task leave it."""

from traceability.services.recalls import list_recall_scope, open_recall


def open_and_list(**opening):
    """open_recall, then what its task does once the opening commits (list_recall_scope):
    the scope's rows written and every party told."""
    recall = open_recall(**opening)
    list_recall_scope(recall_id=recall.pk)
    recall.refresh_from_db()
    return recall
