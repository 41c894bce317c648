"""The ledger's metrics (common/metrics.py says how they are counted and served)."""

import time

from common.metrics import last_value_gauge

LEDGER_VERIFIED = last_value_gauge(
    "ledger_verification_ok", "1 when the last ledger verification found nothing wrong, else 0"
)
LEDGER_VERIFIED_AT = last_value_gauge(
    "ledger_verification_timestamp_seconds", "When the ledger was last verified (Unix time)"
)


def record_verification(*, ok: bool) -> None:
    LEDGER_VERIFIED.set(1 if ok else 0)
    LEDGER_VERIFIED_AT.set(time.time())
