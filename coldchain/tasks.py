"""Periodic cold-chain work (config/celery.py schedules it). Each task is harmless run twice."""

from celery import shared_task
from django.utils import timezone

from . import monitoring, shelf_life


@shared_task(name="coldchain.raise_signal_losses")
def raise_signal_losses() -> int:
    return monitoring.raise_signal_losses(now=timezone.now())


@shared_task(name="coldchain.refresh_lot_conditions")
def refresh_lot_conditions() -> int:
    return shelf_life.refresh_lot_conditions(now=timezone.now())
