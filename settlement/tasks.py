"""Celery entry points of the ledger: ids in, one service call, harmless when run twice."""

from celery import shared_task

from . import chain


# The name is older than the app: beat schedules and queued messages carry it.
@shared_task(name="marketplace.seal_ledger")
def seal_ledger() -> int:
    """Chain the entries committed since the last run into the ledger's hash chain; returns
    how many were sealed. One sealer at a time; a second run finds nothing to seal."""
    return chain.seal_entries()
