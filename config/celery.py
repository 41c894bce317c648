"""The Celery app. Every periodic schedule is listed here, in one place."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("freshchain")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Beat schedule: each entry with its crontab in words (Asia/Shanghai).
app.conf.beat_schedule = {
    # Every day at 04:00, when hardly anyone is signed in.
    "clear-expired-sessions": {
        "task": "accounts.clear_expired_sessions",
        "schedule": crontab(hour=4, minute=0),
    },
    # Every five minutes, all day: orders not accepted within ORDER_ACCEPT_HOURS expire and
    # their quantity goes back on sale.
    "expire-overdue-orders": {
        "task": "marketplace.expire_overdue_orders",
        "schedule": crontab(minute="*/5"),
    },
    # Every minute, all day: entries committed since the last run are chained into the
    # ledger's hash chain. A run left waiting past the next one is dropped, not stacked.
    # (settlement.tasks.seal_ledger: its name is older than the settlement app.)
    "seal-ledger": {
        "task": "marketplace.seal_ledger",
        "schedule": crontab(),
        "options": {"expires": 50},
    },
    # Every minute: a watched shipment or store silent for its signal timeout raises one
    # loss-of-signal alert (coldchain.monitoring).
    "coldchain-signal-losses": {
        "task": "coldchain.raise_signal_losses",
        "schedule": crontab(),
        "options": {"expires": 50},
    },
    # Every five minutes: remaining shelf life of the lots on active and recent shipments.
    "coldchain-lot-conditions": {
        "task": "coldchain.refresh_lot_conditions",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 280},
    },
    # Years of readings (coldchain/reading_keeping.py). Daily at 01:10 (beat's time zone): the readings
    # partitions of this month and the months ahead, and of any month the DEFAULT partition
    # caught. Hourly at :05: each logger's closed hours rolled up. Daily at 02:20: raw
    # months older than READINGS_RAW_MONTHS dropped, once their hours are all rolled up.
    "coldchain-reading-partitions": {
        "task": "coldchain.prepare_reading_partitions",
        "schedule": crontab(hour=1, minute=10),
        "options": {"expires": 3600},
    },
    "coldchain-reading-hours": {
        "task": "coldchain.roll_up_reading_hours",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
    "coldchain-expired-readings": {
        "task": "coldchain.drop_expired_readings",
        "schedule": crontab(hour=2, minute=20),
        "options": {"expires": 3600},
    },
    # Every 20 seconds: the safety net of dispatch (delivery.services.dispatch.sweep). Offers
    # past their time whose countdown task was lost (a worker restarted) move on; packed orders
    # without a task, and tasks nobody took, are offered again.
    "delivery-dispatch-sweep": {
        "task": "delivery.sweep_dispatch",
        "schedule": 20.0,
        "options": {"expires": 18},
    },
    # Every minute: a recall whose scope listing task was lost (a worker restarted) is listed
    # and its parties told (traceability.services.recalls.list_waiting_recalls).
    "traceability-list-waiting-recalls": {
        "task": "traceability.list_waiting_recalls",
        "schedule": crontab(),
        "options": {"expires": 50},
    },
    # Every day at 05:00, before the morning buying: each warehouse's suggested purchases.
    "delivery-replenishment-plans": {
        "task": "delivery.suggest_replenishment",
        "schedule": crontab(hour=5, minute=0),
    },
    # Every day at 06:30, after the night's end of day: yesterday's control-tower digest for
    # the whole country and each regulator's area, kept and sent to the regulators.
    "controltower-daily-digests": {
        "task": "controltower.send_daily_digests",
        "schedule": crontab(hour=6, minute=30),
    },
    # Every day at 02:30: the whole ledger verified (its hash chain, balances, holds); the
    # outcome is a metric that an alert watches (deploy/prometheus/alerts.yml).
    "verify-ledger": {
        "task": "settlement.verify_ledger",
        "schedule": crontab(hour=2, minute=30),
    },
    # Every day at 03:00: a backup of the database and the media into BACKUP_DIR, keeping the
    # newest BACKUP_KEEP (common/backups.py).
    "nightly-backup": {
        "task": "common.take_nightly_backup",
        "schedule": crontab(hour=3, minute=0),
    },
    # Every minute: the control tower's risk rules (controltower.services.risk); a condition
    # already warned of raises nothing new, one that is gone closes its warning.
    "controltower-risk-rules": {
        "task": "controltower.evaluate_risk_rules",
        "schedule": crontab(),
        "options": {"expires": 50},
    },
    # "close-business-days" is added below, once Django's settings are loaded: every day at
    # MARKET_END_OF_DAY (23:30 unless set), every market's business day closes: trades stop,
    # sellers are paid out, statements and the daily report are written. Earlier days left
    # open or half-closed (a missed night, a crashed run) are closed in the same sweep.
}


@app.on_after_configure.connect
def schedule_end_of_day(sender, **kwargs) -> None:
    """The end of day's time is a Django setting; reading it at import would load the settings
    while config/ itself is still being imported."""
    from django.conf import settings

    closing = settings.MARKET_END_OF_DAY
    sender.conf.beat_schedule["close-business-days"] = {
        "task": "marketplace.close_business_days",
        "schedule": crontab(hour=closing.hour, minute=closing.minute),
    }
