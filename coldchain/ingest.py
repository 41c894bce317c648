"""Readings from loggers: read a batch (JSON or CSV), check every row, store the good ones with
one statement and hand the new ones to monitoring, in one transaction. Usable from any door:
the API, a management command, a test.

The rules:
- A reading is unique per (logger, recorded_at). A re-sent reading, or a second one for the
  same moment in one batch, is counted as a duplicate and changes nothing (the first one
  stays). Late and out-of-order batches are welcome: loggers buffer while offline.
- Every row is checked: `recorded_at` is ISO 8601 with its UTC offset, at most
  COLDCHAIN_MAX_CLOCK_SKEW_SECONDS ahead of the server's clock and at most a year old;
  temperature −50…70 °C, humidity 0…100 %, battery 0…100 %, latitude −90…90 and longitude
  −180…180 given together. Fields this server does not know are ignored, so a gateway may
  add its own (signal strength, firmware) and newer firmware keeps working with an older
  server; a required field misspelt is still caught because it is missing.
- A batch with a bad row is refused whole, every bad field listed with its row's index (the
  first reading, or the first CSV line after the header, is 0), unless `accept_partial`:
  then the good rows are stored and the bad ones listed in `rejected`.
- A row naming another logger's device id refuses the whole batch, `accept_partial` or not:
  a logger writes only its own readings.
- A closed record stays closed: a reading that falls in a logger's watch (assignment) which
  ended longer ago than its late window (COLDCHAIN_LATE_READING_HOURS, or the assignment's
  own) is refused like any bad row. A reading stored after its watch ended, or more than the
  subject's loss-of-signal time after it was recorded, is flagged `late`: charts mark it,
  and an excursion it would refute is kept as disputed (coldchain/monitoring.py).
"""

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.metrics import count, count_now

from .batch_files import RAGGED
from .exceptions import BatchTooLarge, ForeignReadings, IngestRejected
from .ingest_store import insert_new
from .metrics import INGEST_REFUSED, READINGS_STORED
from .models import DataLogger, LoggerAssignment
from .monitoring import ReadingIn, judge_readings
from .selectors.loggers import assignments_covering

TEMPERATURE_RANGE_C = (-50.0, 70.0)
PERCENT_RANGE = (0.0, 100.0)
LATITUDE_RANGE = (-90.0, 90.0)
LONGITUDE_RANGE = (-180.0, 180.0)
# A reading older than this comes from a logger whose clock was never set (or a reset one
# counting from 2000-01-01), not from a late upload.
MAX_READING_AGE = timedelta(days=365)
# How long after it was recorded a reading outside any watch counts as late: the loss-of-signal
# time a shipment or a store has by default.
LATE_AFTER_UNWATCHED = timedelta(minutes=15)
# Bytes a batch may take per reading: a pretty-printed JSON reading with every field and a
# device id takes about 250; more is not a batch of readings.
MAX_BYTES_PER_READING = 400


@dataclass(frozen=True)
class IngestResult:
    """What became of a batch: `stored` new readings, `duplicates` already known (or repeated
    within the batch), `rejected` the bad fields of the rows left out ({index, field,
    message}, only with accept_partial)."""

    received: int
    stored: int
    duplicates: int
    rejected: list[dict] = field(default_factory=list)
    late: int = 0  # of the stored, how many were flagged late

    def as_dict(self) -> dict:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "late": self.late,
            "rejected": self.rejected,
        }


def max_batch_bytes() -> int:
    return settings.COLDCHAIN_MAX_BATCH_READINGS * MAX_BYTES_PER_READING


def ingest_readings(
    *,
    logger: DataLogger,
    rows: Sequence,
    accept_partial: bool = False,
    is_text: bool = False,
    now: datetime | None = None,
) -> IngestResult:
    """Store the good rows of a batch for `logger`, once each, and judge the new ones.

    `rows` are dicts as parse_json_batch or parse_csv_batch give them (`is_text` for CSV,
    whose values are strings). Raises BatchTooLarge, ForeignReadings, or IngestRejected
    (every bad field, nothing stored) unless `accept_partial`. One transaction: the readings
    and what monitoring makes of them (excursions, alerts) are stored together or not at all.
    """
    limit = settings.COLDCHAIN_MAX_BATCH_READINGS
    if len(rows) > limit:
        count_now(INGEST_REFUSED, reason="too_large")
        raise BatchTooLarge(
            _("A batch holds at most %(limit)d readings; this one has %(count)d. Send it in parts.")
            % {"limit": limit, "count": len(rows)}
        )
    now = now or timezone.now()
    try:
        batch = _checked_batch(rows, device_id=logger.device_id, now=now, is_text=is_text)
    except ForeignReadings:
        count_now(INGEST_REFUSED, reason="foreign")
        raise
    _sort_out_late(batch, logger_id=logger.pk, now=now)
    if batch.errors and not accept_partial:
        count_now(INGEST_REFUSED, reason="invalid")
        raise IngestRejected(
            _("%(count)d of %(total)d readings are not valid; nothing was stored.")
            % {"count": batch.rejected_rows, "total": len(rows)},
            errors=batch.errors,
        )
    stored: list[ReadingIn] = []
    late = 0
    if batch.recorded_at:
        with transaction.atomic():
            stored, late = insert_new(logger_id=logger.pk, batch=batch)
            if stored:
                judge_readings(logger_id=logger.pk, readings=stored)
            count(READINGS_STORED, len(stored))
    count_now(INGEST_REFUSED, batch.rejected_rows, reason="rejected_rows")
    return IngestResult(
        received=len(rows),
        stored=len(stored),
        duplicates=len(rows) - batch.rejected_rows - len(stored),
        rejected=batch.errors,
        late=late,
    )


@dataclass
class _Batch:
    """The good rows as columns (what the INSERT takes), the errors of the bad ones."""

    recorded_at: list = field(default_factory=list)
    temperature_c: list = field(default_factory=list)
    humidity_pct: list = field(default_factory=list)
    longitude: list = field(default_factory=list)
    latitude: list = field(default_factory=list)
    battery_pct: list = field(default_factory=list)
    late: list = field(default_factory=list)  # filled by _sort_out_late
    index: list = field(default_factory=list)  # each good row's index in the batch
    errors: list = field(default_factory=list)
    rejected_rows: int = 0

    COLUMNS = (
        "recorded_at",
        "temperature_c",
        "humidity_pct",
        "longitude",
        "latitude",
        "battery_pct",
        "index",
    )


def _checked_batch(rows: Sequence, *, device_id: str, now: datetime, is_text: bool) -> _Batch:
    """One pass over the rows: a tight loop, no serializer, no model instances (about 2 ms
    for 1,000 rows)."""
    batch = _Batch()
    errors = batch.errors
    latest = now + timedelta(seconds=settings.COLDCHAIN_MAX_CLOCK_SKEW_SECONDS)
    earliest = now - MAX_READING_AGE
    # Columns of the good rows, appended together so they stay aligned.
    times, temperatures, humidities = batch.recorded_at, batch.temperature_c, batch.humidity_pct
    longitudes, latitudes, batteries = batch.longitude, batch.latitude, batch.battery_pct
    indexes = batch.index
    seen: set[datetime | None] = set()  # None only on a row refused already
    fromisoformat = datetime.fromisoformat
    number = _text_number if is_text else _json_number
    t_low, t_high = TEMPERATURE_RANGE_C
    for index, row in enumerate(rows):
        if type(row) is not dict:
            errors.append(_error(index, "reading", _("Each reading must be an object.")))
            batch.rejected_rows += 1
            continue
        if is_text and RAGGED in row:
            line, count, width = row[RAGGED]
            errors.append(
                _error(
                    index,
                    "line",
                    _("Line %(line)d has %(count)d values; the header names %(width)d.")
                    % {"line": line, "count": count, "width": width},
                )
            )
            batch.rejected_rows += 1
            continue
        error_count = len(errors)

        device = row.get("device_id")
        if device is not None and device != device_id and device != "":
            raise ForeignReadings(
                _(
                    "Reading %(index)d is for logger “%(device)s”; logger “%(logger)s” may only send its own readings. Nothing was stored."
                )
                % {"index": index, "device": device, "logger": device_id}
            )

        value = row.get("recorded_at")
        moment = None
        if value is None or value == "":
            errors.append(_error(index, "recorded_at", _("Every reading needs this value.")))
        elif type(value) is not str:
            errors.append(_error(index, "recorded_at", _time_format_message()))
        else:
            try:
                moment = fromisoformat(value)
            except ValueError:
                errors.append(_error(index, "recorded_at", _time_format_message()))
            else:
                if moment.tzinfo is None or moment.utcoffset() is None:
                    errors.append(
                        _error(
                            index,
                            "recorded_at",
                            _(
                                "“%(value)s” has no UTC offset; add one, e.g. %(example)s, so the time is not guessed."
                            )
                            % {"value": value, "example": "2026-11-28T04:00:00+00:00"},
                        )
                    )
                    moment = None
                elif moment > latest:
                    errors.append(_future_error(index, moment, now))
                elif moment < earliest:
                    errors.append(
                        _error(
                            index,
                            "recorded_at",
                            _(
                                "%(value)s is more than a year ago; the logger's clock is probably not set."
                            )
                            % {"value": value},
                        )
                    )

        temperature = number(row.get("temperature_c"))
        if temperature is None:
            errors.append(_error(index, "temperature_c", _("Every reading needs this value.")))
        elif temperature is _NOT_A_NUMBER:
            errors.append(_not_a_number(index, "temperature_c", row["temperature_c"]))
        elif not t_low <= temperature <= t_high:
            errors.append(_out_of_range(index, "temperature_c", temperature, TEMPERATURE_RANGE_C))

        humidity = number(row.get("humidity_pct"))
        if humidity is _NOT_A_NUMBER:
            errors.append(_not_a_number(index, "humidity_pct", row["humidity_pct"]))
        elif humidity is not None and not 0.0 <= humidity <= 100.0:
            errors.append(_out_of_range(index, "humidity_pct", humidity, PERCENT_RANGE))

        battery = number(row.get("battery_pct"))
        if battery is _NOT_A_NUMBER:
            errors.append(_not_a_number(index, "battery_pct", row["battery_pct"]))
        elif battery is not None:
            if 0.0 <= battery <= 100.0:
                battery = round(battery)
            else:
                errors.append(_out_of_range(index, "battery_pct", battery, PERCENT_RANGE))

        latitude = number(row.get("latitude"))
        longitude = number(row.get("longitude"))
        if latitude is not None or longitude is not None:
            _check_position(errors, index, row, latitude, longitude)

        if len(errors) != error_count:
            batch.rejected_rows += 1
        elif moment in seen:
            continue  # a repeat within the batch: a duplicate, the first one counts
        else:
            seen.add(moment)
            times.append(moment)
            temperatures.append(temperature)
            humidities.append(humidity)
            longitudes.append(longitude)
            latitudes.append(latitude)
            batteries.append(battery)
            indexes.append(index)
    return batch


def _sort_out_late(batch: _Batch, *, logger_id: int, now: datetime) -> None:
    """Refuse the good rows whose watch closed longer ago than its late window (an error each,
    the row left out) and flag the rest late or not, in `batch.late`. One query: the
    assignments the batch's times meet."""
    if not batch.recorded_at:
        return
    assignments = list(
        assignments_covering(logger_id, min(batch.recorded_at), max(batch.recorded_at)).order_by(
            "starts_at"
        )
    )
    if _one_open_watch(assignments, batch.recorded_at, now):
        # The common case (a logger on one open watch, or on none): nothing is refused and
        # lateness is one comparison a row, without rebuilding the columns.
        watch = assignments[0] if assignments else None
        threshold = now - _late_after(watch)
        batch.late = [moment < threshold for moment in batch.recorded_at]
        return
    starts = [assignment.starts_at for assignment in assignments]
    default_window = timedelta(hours=settings.COLDCHAIN_LATE_READING_HOURS)
    kept: dict[str, list] = {name: [] for name in _Batch.COLUMNS}
    for row in zip(*(getattr(batch, name) for name in _Batch.COLUMNS), strict=True):
        moment = row[0]
        at = bisect_right(starts, moment) - 1
        watch = assignments[at] if at >= 0 and assignments[at].covers(moment) else None
        late = now - moment > _late_after(watch)
        if watch is not None and watch.ends_at is not None and watch.ends_at <= now:
            window = (
                timedelta(hours=watch.late_window_hours)
                if watch.late_window_hours is not None
                else default_window
            )
            if now - watch.ends_at > window:
                batch.errors.append(_closed_watch_error(row[-1], window))
                batch.rejected_rows += 1
                continue
            late = True
        for name, value in zip(_Batch.COLUMNS, row, strict=True):
            kept[name].append(value)
        batch.late.append(late)
    for name, values in kept.items():
        setattr(batch, name, values)
    batch.errors.sort(key=lambda error: error["index"])


def _one_open_watch(assignments: list, times: list, now: datetime) -> bool:
    """No watch meets the batch, or one open watch covers all of it."""
    if not assignments:
        return True
    if len(assignments) > 1:
        return False
    watch = assignments[0]
    return watch.starts_at <= min(times) and (watch.ends_at is None or watch.ends_at > now)


def _late_after(watch: LoggerAssignment | None) -> timedelta:
    """A reading is late once its subject would have reported a loss of signal."""
    if watch is None:
        return LATE_AFTER_UNWATCHED
    return timedelta(minutes=watch.subject.signal_timeout_minutes)


def _closed_watch_error(index: int, window: timedelta) -> dict:
    return _error(
        index,
        "recorded_at",
        _(
            "The logger's watch this reading belongs to ended more than %(hours)d hours ago; its record is closed."
        )
        % {"hours": window.total_seconds() // 3600},
    )


# What a number parser returns for a value that is there but is not a number.
_NOT_A_NUMBER = object()


def _json_number(value):
    kind = type(value)
    if kind is float or kind is int:
        return value
    if value is None:
        return None
    return _NOT_A_NUMBER  # a string, a boolean, a list: JSON numbers only


def _text_number(value):
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return _NOT_A_NUMBER
    return _NOT_A_NUMBER if math.isnan(number) else number


def _check_position(errors: list, index: int, row: dict, latitude, longitude) -> None:
    for name, value, (low, high) in (
        ("latitude", latitude, LATITUDE_RANGE),
        ("longitude", longitude, LONGITUDE_RANGE),
    ):
        if value is None:
            errors.append(_error(index, name, _("Give latitude and longitude together.")))
        elif value is _NOT_A_NUMBER:
            errors.append(_not_a_number(index, name, row[name]))
        elif not low <= value <= high:
            errors.append(_out_of_range(index, name, value, (low, high)))


def _error(index: int, name: str, message: str) -> dict:
    return {"index": index, "field": name, "message": str(message)}


def _time_format_message() -> str:
    return _("Give the time in ISO 8601 with its UTC offset, e.g. %(example)s.") % {
        "example": "2026-11-28T04:00:00+00:00"
    }


def _future_error(index: int, moment: datetime, now: datetime) -> dict:
    return _error(
        index,
        "recorded_at",
        _(
            "This time is %(seconds)d seconds ahead of the server's clock (at most %(skew)d allowed); check the logger's clock."
        )
        % {
            "seconds": (moment - now).total_seconds(),
            "skew": settings.COLDCHAIN_MAX_CLOCK_SKEW_SECONDS,
        },
    )


def _not_a_number(index: int, name: str, value) -> dict:
    return _error(index, name, _("“%(value)s” is not a number.") % {"value": str(value)[:40]})


def _out_of_range(index: int, name: str, value: float, bounds: tuple[float, float]) -> dict:
    return _error(
        index,
        name,
        _("%(value)s is outside the plausible range %(low)s to %(high)s.")
        % {"value": f"{value:g}", "low": f"{bounds[0]:g}", "high": f"{bounds[1]:g}"},
    )
