"""Which Celery queue each of our tasks goes to, decided by who waits for it.

`realtime`: someone is waiting now — a consumer's order looking for a courier, a courier's offer
running out, a truck gone silent, a recall's parties, the price warnings after a trade, the
health probe. `batch`: nobody is waiting for the minute — end of day, the ledger's sealing and
verification, forecasts, digests, clean-ups. Split so an end of day with a thousand payouts never
holds a courier's offer back: production runs one worker per queue (deploy/systemd/), `make run`
one worker for all three (Procfile). `celery` (Celery's default) takes only tasks not named here;
tests/common/test_task_queues.py fails for any of ours that is not.
"""

from kombu import Queue

REALTIME = "realtime"
BATCH = "batch"
DEFAULT = "celery"

# A worker started without -Q consumes every queue declared here (the tests' in-process worker).
TASK_QUEUES = (Queue(REALTIME), Queue(BATCH), Queue(DEFAULT))

REALTIME_TASKS = (
    "common.ping",  # /healthz waits for its answer
    "delivery.dispatch_order",
    "delivery.expire_offer",
    "delivery.sweep_dispatch",
    "coldchain.raise_signal_losses",
    "coldchain.refresh_lot_conditions",
    "controltower.evaluate_prices_after_trade",
    "traceability.list_recall_scope",
    "traceability.list_waiting_recalls",
)
BATCH_TASKS = (
    "marketplace.close_business_days",
    "marketplace.close_business_day",
    "marketplace.expire_overdue_orders",
    "marketplace.seal_ledger",
    "settlement.verify_ledger",
    "delivery.suggest_replenishment",
    "controltower.send_daily_digests",
    "controltower.evaluate_risk_rules",
    "common.take_nightly_backup",
    "accounts.clear_expired_sessions",
    # The readings' upkeep: partitions ahead, hourly rollups, whole old months dropped.
    "coldchain.prepare_reading_partitions",
    "coldchain.roll_up_reading_hours",
    "coldchain.drop_expired_readings",
)

TASK_ROUTES = {
    **{name: {"queue": REALTIME} for name in REALTIME_TASKS},
    **{name: {"queue": BATCH} for name in BATCH_TASKS},
}
