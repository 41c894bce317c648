"""A subject's temperature series as charts draw it: its range, and at most ~720 points.

A window with more readings than that is averaged into equal time buckets by PostgreSQL
(date_bin), so a week of one-minute readings costs one grouped range scan, not 10,000 rows sent
to a phone.

Before the raw window (READINGS_RAW_MONTHS) the buckets are summed from the hourly rollups, and
so is any window whose buckets are an hour or longer, up to the last rolled-up hour: three years
of a logger are then ~26,000 rollup rows, not 1.5 million readings. Such buckets are whole
hours, counted from the hour of the first reading.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.contrib.postgres.aggregates import BoolOr
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    F,
    FloatField,
    Func,
    Max,
    Min,
    Q,
    Sum,
    Value,
)
from django.utils import timezone

from .history import assignments_of, subject_hours, subject_readings
from .models import ColdStore, Shipment
from .reading_keeping import HOUR, hour_of, raw_window_start, rolled_up_until

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


EPOCH = "extract(epoch FROM %(expressions)s)::float8"


def _epoch(moment: datetime) -> int | float:
    return _seconds(moment.timestamp())


def _seconds(seconds: float) -> int | float:
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
    now: datetime | None = None,
) -> ReadingSeries:
    """The subject's readings in [since, until), raw when they fit in `max_points`, else each
    point the mean of one time bucket (stamped with the bucket's start)."""
    now = now or timezone.now()
    boundary = raw_window_start(now)
    rolled = rolled_up_until()
    # Read once: every statement below names the loggers' periods.
    assignments = list(assignments_of(subject))
    if since is None and assignments:
        # A shipment's whole watch starts with its first assignment; saying so spares a watch
        # inside the raw window the probe of the rollups.
        since = assignments[0].starts_at
    if rolled is not None and rolled > boundary and _hours_wide(since, until, now, max_points):
        # Hour-long buckets or longer: the rollups say the same as the readings, and are
        # decided on before counting, so a long window never counts its raw readings.
        boundary = rolled if until is None else max(boundary, min(rolled, until))
    span = _span(subject, assignments, since=since, until=until, boundary=boundary)
    if span["hours"]:
        points, late_readings = _points_with_hours(
            subject, assignments, since, until, boundary, span, max_points
        )
        return ReadingSeries(
            min_temperature_c=float(subject.min_temperature_c),
            max_temperature_c=float(subject.max_temperature_c),
            points=points,
            late_readings=late_readings,
        )
    readings = subject_readings(
        subject, assignments=assignments, start=_later(since, boundary), end=until
    )
    if span["count"] <= max_points:
        rows = readings.values_list("recorded_at", "temperature_c", "humidity_pct", "late")
        points = [
            [_epoch(recorded_at), _rounded(temperature_c, 2), _rounded(humidity_pct, 1), late]
            for recorded_at, temperature_c, humidity_pct, late in rows
        ]
    else:
        width = _width(span, max_points)
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
            # The bucket's start as epoch seconds from PostgreSQL: turning 700 timestamps into
            # aware datetimes in Python cost more than the grouped scan itself.
            .annotate(epoch=Func(F("bucket"), template=EPOCH, output_field=FloatField()))
            .order_by("bucket")
            .values_list("epoch", "temperature_c", "humidity_pct", "any_late")
        )
        points = [
            [
                _seconds(cast(float, epoch)),
                _rounded(temperature_c, 2),
                _rounded(humidity_pct, 1),
                late,
            ]
            for epoch, temperature_c, humidity_pct, late in rows
        ]
    return ReadingSeries(
        min_temperature_c=float(subject.min_temperature_c),
        max_temperature_c=float(subject.max_temperature_c),
        points=points,
        late_readings=span["late"],
    )


def _hours_wide(since, until, now, max_points: int) -> bool:
    """Whether the window asked for is long enough for buckets of an hour or more."""
    if since is None:
        return False  # nothing ever watched it
    return (until or now) - since >= (max_points - 1) * HOUR


def _later(moment: datetime | None, boundary: datetime) -> datetime:
    return boundary if moment is None else max(moment, boundary)


def _span(subject, assignments, *, since, until, boundary) -> dict:
    """Count, late count, first and last reading of [since, until): hourly rollups before
    `boundary`, readings from it; `hours` is how many readings the rollups gave."""
    span = (
        subject_readings(subject, assignments=assignments, start=_later(since, boundary), end=until)
        .order_by()
        .aggregate(
            count=Count("recorded_at"),
            late=Count("recorded_at", filter=Q(late=True)),
            first=Min("recorded_at"),
            last=Max("recorded_at"),
        )
    )
    span["hours"] = 0
    if since is not None and since >= boundary:
        return span
    hours = subject_hours(
        subject,
        assignments=assignments,
        start=since,
        end=boundary if until is None else min(until, boundary),
    )
    # The first and the last hour by the rollups' key: two index probes, not a pass over
    # years of hours; the counts come with the buckets (_points_with_hours).
    first = hours.values_list("first_at", flat=True).first()
    if first is None:
        return span
    span["hours"] = 1
    span["first"] = first
    span["last"] = span["last"] or hours.reverse().values_list("last_at", flat=True).first()
    return span


def _width(span: dict, max_points: int) -> timedelta:
    seconds = int((span["last"] - span["first"]).total_seconds()) + 1
    # floor(span / width) + 1 buckets, which this width keeps below max_points.
    return timedelta(seconds=seconds // (max_points - 1) + 1)


def _date_bin(width: timedelta, field: str, origin: datetime) -> Func:
    return Func(
        Value(width),
        F(field),
        Value(origin, output_field=DateTimeField()),
        function="date_bin",
        output_field=DateTimeField(),
    )


def _points_with_hours(
    subject, assignments, since, until, boundary, span, max_points
) -> tuple[list[list], int]:
    """Buckets of whole hours: sums of the rollups before `boundary`, of the readings from it,
    added together where a bucket straddles it; and how many readings came late."""
    hours_wide = max(1, math.ceil(_width(span, max_points) / HOUR))
    width = hours_wide * HOUR
    origin = hour_of(span["first"])
    end = boundary if until is None else min(until, boundary)
    sums: dict[datetime, list] = {}
    hourly = (
        subject_hours(subject, assignments=assignments, start=since, end=end)
        .order_by()
        .annotate(bucket=_date_bin(width, "hour", origin))
        .values("bucket")
        .annotate(
            n=Sum("readings"),
            t=Sum("temperature_sum_c"),
            hn=Sum("humidity_readings"),
            h=Sum("humidity_sum_pct"),
            late=Sum("late_readings"),
        )
        .values_list("bucket", "n", "t", "hn", "h", "late")
    )
    raw = (
        subject_readings(subject, assignments=assignments, start=_later(since, boundary), end=until)
        .order_by()
        .annotate(bucket=_date_bin(width, "recorded_at", origin))
        .values("bucket")
        .annotate(
            n=Count("recorded_at"),
            t=Sum("temperature_c"),
            hn=Count("humidity_pct"),
            h=Sum("humidity_pct"),
            late=Count("recorded_at", filter=Q(late=True)),
        )
        .values_list("bucket", "n", "t", "hn", "h", "late")
    )
    for rows in (hourly, raw):
        for bucket, n, t, hn, h, late in rows:
            total = sums.setdefault(bucket, [0, 0.0, 0, 0.0, 0])
            total[0] += n
            total[1] += t
            total[2] += hn
            total[3] += h or 0.0
            total[4] += late
    points = [
        [
            _epoch(bucket),
            _rounded(t / n, 2),
            _rounded(h / hn, 1) if hn else None,
            late > 0,
        ]
        for bucket, (n, t, hn, h, late) in sorted(sums.items())
    ]
    return points, sum(total[4] for total in sums.values())
