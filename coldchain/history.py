"""A subject's temperature history: the readings of the loggers that watched it, each within
its assignment's period. Charts, handover records, MKT and shelf life all read it here.

Raw readings are kept READINGS_RAW_MONTHS months (coldchain/reading_keeping.py); before
`raw_window_start` the history is the loggers' hourly rollups (`subject_hours`). An hour at
either end of an assignment counts whole: the rollup cannot split it."""

from collections.abc import Sequence
from datetime import datetime

from django.db.models import Q, QuerySet

from .models import ColdStore, LoggerAssignment, Reading, ReadingHour, Shipment


def assignments_of(subject: Shipment | ColdStore) -> QuerySet[LoggerAssignment]:
    field = "shipment" if isinstance(subject, Shipment) else "store"
    return LoggerAssignment.objects.filter(**{field: subject}).order_by("starts_at")


def subject_readings(
    subject: Shipment | ColdStore,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    assignments: Sequence[LoggerAssignment] | None = None,
) -> QuerySet[Reading]:
    """Readings of `subject` in [start, end), in time order. Each assignment is one range scan
    of the readings' primary key (logger, recorded_at)."""
    periods = Q(pk__in=[])
    for assignment in assignments_of(subject) if assignments is None else assignments:
        period = Q(logger_id=assignment.logger_id, recorded_at__gte=assignment.starts_at)
        if assignment.ends_at is not None:
            period &= Q(recorded_at__lt=assignment.ends_at)
        periods |= period
    readings = Reading.objects.filter(periods)
    if start is not None:
        readings = readings.filter(recorded_at__gte=start)
    if end is not None:
        readings = readings.filter(recorded_at__lt=end)
    return readings.order_by("recorded_at")


def subject_hours(
    subject: Shipment | ColdStore,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    assignments: Sequence[LoggerAssignment] | None = None,
) -> QuerySet[ReadingHour]:
    """Hourly rollups of `subject`'s loggers for the hours starting in [start's hour, end), in
    time order; each assignment one range scan of the rollups' key (logger, hour)."""
    periods = Q(pk__in=[])
    for assignment in assignments_of(subject) if assignments is None else assignments:
        period = Q(logger_id=assignment.logger_id, hour__gte=_hour(assignment.starts_at))
        if assignment.ends_at is not None:
            period &= Q(hour__lt=assignment.ends_at)
        periods |= period
    hours = ReadingHour.objects.filter(periods)
    if start is not None:
        hours = hours.filter(hour__gte=_hour(start))
    if end is not None:
        hours = hours.filter(hour__lt=end)
    return hours.order_by("hour")


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)
