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
"""

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from orjson import JSONDecodeError
from orjson import loads as json_loads

from .exceptions import BatchTooLarge, ForeignReadings, IngestRejected, MalformedBatch
from .models import DataLogger, Reading
from .monitoring import ReadingIn, judge_readings

TEMPERATURE_RANGE_C = (-50.0, 70.0)
PERCENT_RANGE = (0.0, 100.0)
LATITUDE_RANGE = (-90.0, 90.0)
LONGITUDE_RANGE = (-180.0, 180.0)
# A reading older than this comes from a logger whose clock was never set (or a reset one
# counting from 2000-01-01), not from a late upload.
MAX_READING_AGE = timedelta(days=365)
# Bytes a batch may take per reading: a pretty-printed JSON reading with every field and a
# device id takes about 250; more is not a batch of readings.
MAX_BYTES_PER_READING = 400

CSV_COLUMNS = (
    "recorded_at",
    "temperature_c",
    "humidity_pct",
    "latitude",
    "longitude",
    "battery_pct",
)
CSV_REQUIRED_COLUMNS = ("recorded_at", "temperature_c")
# The key under which the CSV reader marks a line with the wrong number of values; a header
# name can never be it (the csv module refuses NUL characters).
_RAGGED = "\x00values"


@dataclass(frozen=True)
class JsonBatch:
    rows: list
    accept_partial: bool | None  # None when the body does not say


@dataclass(frozen=True)
class IngestResult:
    """What became of a batch: `stored` new readings, `duplicates` already known (or repeated
    within the batch), `rejected` the bad fields of the rows left out ({index, field,
    message}, only with accept_partial)."""

    received: int
    stored: int
    duplicates: int
    rejected: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }


def max_batch_bytes() -> int:
    return settings.COLDCHAIN_MAX_BATCH_READINGS * MAX_BYTES_PER_READING


def parse_json_batch(body: bytes) -> JsonBatch:
    """`{"readings": [{...}, ...], "accept_partial": false}` → its rows, unchecked."""
    if not body.strip():
        raise MalformedBatch(_('The body is empty: send {"readings": [...]}.'))
    try:
        data = json_loads(body)
    except JSONDecodeError as error:
        raise MalformedBatch(
            _("The body is not valid JSON: %(reason)s (line %(line)d, column %(column)d).")
            % {"reason": error.msg, "line": error.lineno, "column": error.colno}
        ) from error
    if not isinstance(data, dict):
        raise MalformedBatch(_('Send a JSON object holding a list: {"readings": [...]}.'))
    rows = data.get("readings")
    if not isinstance(rows, list):
        raise MalformedBatch(_("Give the readings as a list of objects."), field="readings")
    accept_partial = data.get("accept_partial")
    if accept_partial is not None and not isinstance(accept_partial, bool):
        raise MalformedBatch(_("Must be true or false."), field="accept_partial")
    return JsonBatch(rows=rows, accept_partial=accept_partial)


def parse_csv_batch(content: bytes, *, encoding: str | None = None) -> list[dict]:
    """A logger's CSV file → one dict of strings per line after the header row, unchecked.

    The header names the columns (CSV_COLUMNS, any order, any case; `recorded_at` and
    `temperature_c` required; others ignored). Blank lines are skipped and not counted. The
    text is UTF-8 (a byte-order mark is fine) unless `encoding` says otherwise: desktop
    exports of Chinese loggers are often GBK.
    """
    try:
        text = content.decode(encoding or "utf-8-sig")
    except LookupError as error:
        raise MalformedBatch(
            _("Unknown character set “%(encoding)s”.") % {"encoding": encoding}
        ) from error
    except UnicodeDecodeError as error:
        raise MalformedBatch(
            _(
                "The CSV file is not %(encoding)s text (byte %(position)d); say its character set, e.g. text/csv; charset=gbk."
            )
            % {"encoding": encoding or "UTF-8", "position": error.start}
        ) from error
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise MalformedBatch(
                _("The CSV file is empty; its first line names the columns: %(columns)s.")
                % {"columns": ",".join(CSV_COLUMNS)}
            )
        names = [name.strip().lower() for name in header]
        if missing := [name for name in CSV_REQUIRED_COLUMNS if name not in names]:
            raise MalformedBatch(
                _("The CSV header lacks %(missing)s; it names %(found)s.")
                % {"missing": ", ".join(missing), "found": ", ".join(names)}
            )
        if len(set(names)) != len(names):
            raise MalformedBatch(_("The CSV header names a column twice."))
        width = len(names)
        rows = []
        for values in reader:
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            if len(values) != width:
                rows.append({_RAGGED: (reader.line_num, len(values), width)})
            else:
                rows.append(dict(zip(names, values, strict=True)))
    except csv.Error as error:
        raise MalformedBatch(
            _("The CSV file is malformed at line %(line)d: %(reason)s.")
            % {"line": reader.line_num, "reason": error}
        ) from error
    return rows


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
        raise BatchTooLarge(
            _("A batch holds at most %(limit)d readings; this one has %(count)d. Send it in parts.")
            % {"limit": limit, "count": len(rows)}
        )
    batch = _checked_batch(
        rows, device_id=logger.device_id, now=now or timezone.now(), is_text=is_text
    )
    if batch.errors and not accept_partial:
        raise IngestRejected(
            _("%(count)d of %(total)d readings are not valid; nothing was stored.")
            % {"count": batch.rejected_rows, "total": len(rows)},
            errors=batch.errors,
        )
    stored: list[ReadingIn] = []
    if batch.recorded_at:
        with transaction.atomic():
            stored = _insert_new(logger_id=logger.pk, batch=batch)
            if stored:
                judge_readings(logger_id=logger.pk, readings=stored)
    return IngestResult(
        received=len(rows),
        stored=len(stored),
        duplicates=len(rows) - batch.rejected_rows - len(stored),
        rejected=batch.errors,
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
    errors: list = field(default_factory=list)
    rejected_rows: int = 0


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
    seen: set[datetime] = set()
    fromisoformat = datetime.fromisoformat
    number = _text_number if is_text else _json_number
    t_low, t_high = TEMPERATURE_RANGE_C
    for index, row in enumerate(rows):
        if type(row) is not dict:
            errors.append(_error(index, "reading", _("Each reading must be an object.")))
            batch.rejected_rows += 1
            continue
        if is_text and _RAGGED in row:
            line, count, width = row[_RAGGED]
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
    return batch


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


# One statement for the whole batch. Each column is sent as one array literal, built here with
# str.join: psycopg would otherwise adapt the 6,000 values of a batch one by one, which takes
# longer than the INSERT itself. A column no row has (no position in a cold store's batch) is
# sent empty and unnest pads it with NULLs; ST_MakePoint is strict, so no position, no point.
# Rows go in in time order: two batches of one logger that overlap (a gateway's retry) then
# take their keys in the same order, so one waits for the other instead of deadlocking.
_INSERT_NEW = f"""
    INSERT INTO {Reading._meta.db_table}
        (logger_id, recorded_at, temperature_c, humidity_pct, position, battery_pct)
    SELECT %s, r.recorded_at, r.temperature_c, r.humidity_pct,
           ST_SetSRID(ST_MakePoint(r.longitude, r.latitude), 4326), r.battery_pct
    FROM unnest(%s::timestamptz[], %s::float8[], %s::float8[], %s::float8[], %s::float8[],
                %s::int2[])
        AS r(recorded_at, temperature_c, humidity_pct, longitude, latitude, battery_pct)
    ORDER BY r.recorded_at
    ON CONFLICT (logger_id, recorded_at) DO NOTHING
    RETURNING recorded_at
"""  # the table name is the model's; every value is a parameter


def _insert_new(*, logger_id: int, batch: _Batch) -> list[ReadingIn]:
    """Insert the batch's good rows; the ones that were new, as ReadingIn in time order."""
    optional = [batch.humidity_pct, batch.longitude, batch.latitude, batch.battery_pct]
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_NEW,
            [
                logger_id,
                _array_literal([moment.isoformat() for moment in batch.recorded_at]),
                _array_literal(map(repr, batch.temperature_c)),
                *(_optional_array_literal(column) for column in optional),
            ],
        )
        new_times = cursor.fetchall()
    if not new_times:
        return []
    if len(new_times) == len(batch.recorded_at):
        chosen = range(len(new_times))
    else:
        position = {moment: index for index, moment in enumerate(batch.recorded_at)}
        chosen = [position[moment] for (moment,) in new_times]
    readings = [
        ReadingIn(
            batch.recorded_at[i],
            batch.temperature_c[i],
            batch.humidity_pct[i],
            batch.longitude[i],
            batch.latitude[i],
            batch.battery_pct[i],
        )
        for i in chosen
    ]
    readings.sort(key=_by_time)  # loggers upload buffers out of order
    return readings


def _array_literal(texts) -> str:
    # Safe unquoted: ISO times and Python's reprs of numbers hold no comma, brace, quote,
    # backslash or space.
    return "{" + ",".join(texts) + "}"


def _optional_array_literal(column: list) -> str:
    if all(value is None for value in column):
        return "{}"
    return _array_literal("NULL" if value is None else repr(value) for value in column)


def _by_time(reading: ReadingIn) -> datetime:
    return reading.recorded_at
