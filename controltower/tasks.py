"""The tower's Celery entry point: the morning's digests (config/celery.py schedules it)."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from common.dates import business_today

from .services.digests import compile_daily_digests


@shared_task(name="controltower.send_daily_digests")
def send_daily_digests() -> int:
    """Yesterday's digests (Asia/Shanghai), kept and sent; harmless when run twice."""
    created = compile_daily_digests(day=business_today() - timedelta(days=1), now=timezone.now())
    return len(created)
