"""Periodic cold-chain work (config/celery.py schedules it). Each task is harmless run twice."""

from celery import shared_task
from django.utils import timezone

from . import monitoring, reading_keeping, shelf_life


@shared_task(name="coldchain.raise_signal_losses")
def raise_signal_losses() -> int:
    return monitoring.raise_signal_losses(now=timezone.now())


@shared_task(name="coldchain.refresh_lot_conditions")
def refresh_lot_conditions() -> int:
    return shelf_life.refresh_lot_conditions(now=timezone.now())


@shared_task(name="coldchain.prepare_reading_partitions")
def prepare_reading_partitions() -> int:
    return len(reading_keeping.prepare_reading_partitions(now=timezone.now()))


@shared_task(name="coldchain.roll_up_reading_hours")
def roll_up_reading_hours() -> int:
    return reading_keeping.roll_up_reading_hours(now=timezone.now())


@shared_task(name="coldchain.drop_expired_readings")
def drop_expired_readings() -> int:
    return len(reading_keeping.drop_expired_readings(now=timezone.now()))
