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
}
