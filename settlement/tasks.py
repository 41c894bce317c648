"""Celery entry points of the ledger: ids in, one service call, harmless when run twice."""

import logging

from celery import shared_task

from . import chain, verification
from .metrics import record_verification

logger = logging.getLogger(__name__)


# The name is older than the app: beat schedules and queued messages carry it.
@shared_task(name="marketplace.seal_ledger")
def seal_ledger() -> int:
    """Chain the entries committed since the last run into the ledger's hash chain; returns
    how many were sealed. One sealer at a time; a second run finds nothing to seal."""
    return chain.seal_entries()


@shared_task(name="settlement.verify_ledger")
def verify_ledger() -> dict:
    """Verify the whole ledger (settlement.verification) and publish the outcome as metrics
    (alerted on when it fails); reads only."""
    result = verification.verify_ledger()
    record_verification(ok=result.ok)
    problems = sorted({finding.code for finding in result.findings if finding.is_error})
    if problems:
        logger.error("ledger verification failed: %s", ", ".join(problems))
    return {"ok": result.ok, "entries": result.entries, "problems": problems}
