"""A subject's temperature series as charts draw it: its range, and at most ~720 points.

A window with more readings than that is averaged into equal time buckets by PostgreSQL
(date_bin), so a week of one-minute readings costs one grouped range scan, not 10,000 rows sent
to a phone.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.postgres.aggregates import BoolOr
from django.db.models import Avg, Count, DateTimeField, F, Func, Max, Min, Q, Value
from django.utils import timezone

from .history import subject_readings
from .models import ColdStore, Shipment

MAX_POINTS = 720
STORE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class ReadingSeries:
    """`points` are [epoch seconds, °C, RH % or None, late], in time order; `late` is true
    for a reading that arrived late (for a bucket: one of its readings did), and
    `late_readings` counts them in the window."""

    min_temperature_c: float
    max_temperature_c: float
    points: list[list]
    late_readings: int = 0

    def as_dict(self) -> dict:
        return {
            "min_temperature_c": self.min_temperature_c,
            "max_temperature_c": self.max_temperature_c,
            "late_readings": self.late_readings,
            "points": self.points,
        }


def _epoch(moment: datetime) -> int | float:
    seconds = moment.timestamp()
    return int(seconds) if seconds.is_integer() else round(seconds, 3)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def default_since(subject: Shipment | ColdStore, *, now: datetime | None = None):
    """A shipment's whole watched leg (None: from its first assignment); a store's last 24 h."""
    if isinstance(subject, Shipment):
        return None
    return (now or timezone.now()) - STORE_WINDOW


def reading_series(
    subject: Shipment | ColdStore,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    max_points: int = MAX_POINTS,
) -> ReadingSeries:
    """The subject's readings in [since, until), raw when they fit in `max_points`, else each
    point the mean of one time bucket (stamped with the bucket's start)."""
    readings = subject_readings(subject, start=since, end=until)
    span = readings.order_by().aggregate(
        count=Count("recorded_at"),
        late=Count("recorded_at", filter=Q(late=True)),
        first=Min("recorded_at"),
        last=Max("recorded_at"),
    )
    if span["count"] <= max_points:
        rows = readings.values_list("recorded_at", "temperature_c", "humidity_pct", "late")
        points = [
            [_epoch(recorded_at), _rounded(temperature_c, 2), _rounded(humidity_pct, 1), late]
            for recorded_at, temperature_c, humidity_pct, late in rows
        ]
    else:
        seconds = int((span["last"] - span["first"]).total_seconds()) + 1
        # floor(span / width) + 1 buckets, which this width keeps below max_points.
        width = timedelta(seconds=seconds // (max_points - 1) + 1)
        bucket = Func(
            Value(width),
            F("recorded_at"),
            Value(span["first"], output_field=DateTimeField()),
            function="date_bin",
            output_field=DateTimeField(),
        )
        rows = (
            readings.order_by()
            .annotate(bucket=bucket)
            .values("bucket")
            .annotate(
                temperature_c=Avg("temperature_c"),
                humidity_pct=Avg("humidity_pct"),
                any_late=BoolOr("late"),
            )
            .order_by("bucket")
            .values_list("bucket", "temperature_c", "humidity_pct", "any_late")
        )
        points = [
            [_epoch(start), _rounded(temperature_c, 2), _rounded(humidity_pct, 1), late]
            for start, temperature_c, humidity_pct, late in rows
        ]
    return ReadingSeries(
        min_temperature_c=float(subject.min_temperature_c),
        max_temperature_c=float(subject.max_temperature_c),
        points=points,
        late_readings=span["late"],
    )
