"""Storing a checked batch of readings (coldchain/ingest.py checks it): one statement, one row
back."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection

from .models import Reading
from .monitoring import ReadingIn

if TYPE_CHECKING:
    from .ingest import _Batch

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

# One statement for the whole batch. Each column is sent as one array literal, built here with
# str.join: psycopg would otherwise adapt the 6,000 values of a batch one by one, which takes
# longer than the INSERT itself. A column no row has (no position in a cold store's batch) is
# sent empty and unnest pads it with NULLs; ST_MakePoint is strict, so no position, no point.
# Rows go in in time order: two batches of one logger that overlap (a gateway's retry) then
# take their keys in the same order, so one waits for the other instead of deadlocking.
_INSERT_NEW = f"""
    INSERT INTO {Reading._meta.db_table}
        (logger_id, recorded_at, temperature_c, humidity_pct, position, battery_pct, late)
    SELECT %s, r.recorded_at, r.temperature_c, r.humidity_pct,
           ST_SetSRID(ST_MakePoint(r.longitude, r.latitude), 4326), r.battery_pct, r.late
    FROM unnest(%s::timestamptz[], %s::float8[], %s::float8[], %s::float8[], %s::float8[],
                %s::int2[], %s::bool[])
        AS r(recorded_at, temperature_c, humidity_pct, longitude, latitude, battery_pct, late)
    ORDER BY r.recorded_at
    ON CONFLICT (logger_id, recorded_at) DO NOTHING
    RETURNING recorded_at, late
"""  # the table name is the model's; every value is a parameter
# One row back, not one per reading: how many were new, how many of those late, and which
# (microseconds since the epoch, read only when some were duplicates). Loading 1,000
# timestamps in Python cost about a twentieth of a batch.
_INSERT_NEW = f"""
    WITH new AS ({_INSERT_NEW})
    SELECT count(*), count(*) FILTER (WHERE late),
           string_agg((extract(epoch FROM recorded_at) * 1000000)::bigint::text, ',')
    FROM new
"""


def insert_new(*, logger_id: int, batch: "_Batch") -> tuple[list[ReadingIn], int]:
    """Insert the batch's good rows; the ones that were new, as ReadingIn in time order, and
    how many of those were flagged late."""
    optional = [batch.humidity_pct, batch.longitude, batch.latitude, batch.battery_pct]
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_NEW,
            [
                logger_id,
                _array_literal([moment.isoformat() for moment in batch.recorded_at]),
                _array_literal(map(repr, batch.temperature_c)),
                *(_optional_array_literal(column) for column in optional),
                _array_literal("true" if late else "false" for late in batch.late),
            ],
        )
        new_count, late_count, new_times = cursor.fetchone()
    if not new_count:
        return [], 0
    if new_count == len(batch.recorded_at):
        chosen: Sequence[int] = range(new_count)
    else:
        position = {
            (moment - EPOCH) // MICROSECOND: index for index, moment in enumerate(batch.recorded_at)
        }
        chosen = [position[int(micros)] for micros in new_times.split(",")]
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
    return readings, late_count


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
