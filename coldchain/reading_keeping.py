"""Years of readings: monthly partitions, hourly rollups kept forever, raw readings kept for
READINGS_RAW_MONTHS months. Beat runs these (config/celery.py); each is harmless run twice.

- The readings table is partitioned by month of `recorded_at` (UTC), with a DEFAULT partition
  that catches a reading whose month has no partition yet, so ingest never refuses one.
  `prepare_reading_partitions` makes the current month and READINGS_PARTITIONS_AHEAD_MONTHS
  ahead, and a partition for any month DEFAULT caught, moving its rows there (one transaction).
- `roll_up_reading_hours` sums each logger's closed hours into `ReadingHour`: the hours of
  every reading received since the last run, read back whole from the raw rows and upserted,
  so a late reading re-rolls its hour. Ingest does nothing more per batch.
- `drop_expired_readings` drops the months older than the raw window, each only when its
  readings are all counted in the rollups (the SQL function checks it again).

Schema changes need the table's owner; the web and the workers connect as the application
role, so partitions are made and dropped by two SECURITY DEFINER functions (migrations 0008
and 0009) that the role may execute, and nothing else.
"""

import logging
import re
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min

from .models import Reading, ReadingHour, ReadingRollupProgress

logger = logging.getLogger(__name__)

READINGS = Reading._meta.db_table
HOURS = ReadingHour._meta.db_table
DEFAULT_PARTITION = f"{READINGS}_default"
MONTH_PARTITION = re.compile(rf"^{READINGS}_(\d{{4}})_(\d{{2}})$")
# A reading's `received_at` is its transaction's start: each run reads again what arrived
# this long before the last one ended, so a batch still committing then is not missed.
ROLLUP_MARGIN = timedelta(minutes=15)
# Received readings read per transaction: bounded work, so a first run over years of data
# moves on in steps and a crash loses one step.
ROLLUP_STEP = timedelta(days=1)
HOUR = timedelta(hours=1)


def month_of(moment: datetime) -> date:
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def raw_window_start(now: datetime) -> datetime:
    """The first moment whose raw readings are kept: readings before it are read from the
    hourly rollups."""
    return month_start(add_months(month_of(now), -settings.READINGS_RAW_MONTHS))


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def reading_partitions() -> dict[date, str]:
    """The month partitions there are, by month (DEFAULT left out)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [READINGS],
        )
        names = [name for (name,) in cursor.fetchall()]
    months = {}
    for name in names:
        match = MONTH_PARTITION.match(name)
        if match:
            months[date(int(match[1]), int(match[2]), 1)] = name
    return dict(sorted(months.items()))


def prepare_reading_partitions(*, now: datetime) -> list[date]:
    """Make the partitions of this month, the months ahead, and of any month the DEFAULT
    partition holds readings of (moving them in); the months made."""
    current = month_of(now)
    months = {
        add_months(current, ahead) for ahead in range(settings.READINGS_PARTITIONS_AHEAD_MONTHS + 1)
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', recorded_at AT TIME ZONE 'UTC')::date "
            f"FROM {DEFAULT_PARTITION}"
        )
        months.update(month for (month,) in cursor.fetchall())
    made = []
    for month in sorted(months):
        # One function call, one statement: its rows move and it attaches in one transaction.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT coldchain_prepare_reading_partition(%s)", [month])
            if cursor.fetchone()[0]:
                made.append(month)
    if made:
        logger.info("readings partitions made: %s", ", ".join(m.strftime("%Y-%m") for m in made))
    return made


_ROLL_UP = f"""
    WITH touched AS (
        SELECT DISTINCT logger_id, date_trunc('hour', recorded_at, 'UTC') AS hour
        FROM {READINGS}
        WHERE received_at >= %(received_from)s AND received_at < %(received_until)s
          AND recorded_at >= %(oldest)s AND recorded_at < %(hours_until)s
    )
    INSERT INTO {HOURS} (
        logger_id, hour, readings, late_readings,
        temperature_min_c, temperature_max_c, temperature_sum_c,
        humidity_readings, humidity_min_pct, humidity_max_pct, humidity_sum_pct,
        first_at, last_at, rolled_up_at)
    SELECT t.logger_id, t.hour, count(*), count(*) FILTER (WHERE r.late),
           min(r.temperature_c), max(r.temperature_c), sum(r.temperature_c),
           count(r.humidity_pct), min(r.humidity_pct), max(r.humidity_pct), sum(r.humidity_pct),
           min(r.recorded_at), max(r.recorded_at), now()
    FROM touched t
    JOIN {READINGS} r ON r.logger_id = t.logger_id
        AND r.recorded_at >= t.hour AND r.recorded_at < t.hour + interval '1 hour'
    -- Bounds known before the join starts, so only the months touched are read.
    WHERE r.recorded_at >= (SELECT min(hour) FROM touched)
      AND r.recorded_at < (SELECT max(hour) FROM touched) + interval '1 hour'
    GROUP BY t.logger_id, t.hour
    ON CONFLICT (logger_id, hour) DO UPDATE SET
        readings = EXCLUDED.readings, late_readings = EXCLUDED.late_readings,
        temperature_min_c = EXCLUDED.temperature_min_c,
        temperature_max_c = EXCLUDED.temperature_max_c,
        temperature_sum_c = EXCLUDED.temperature_sum_c,
        humidity_readings = EXCLUDED.humidity_readings,
        humidity_min_pct = EXCLUDED.humidity_min_pct,
        humidity_max_pct = EXCLUDED.humidity_max_pct,
        humidity_sum_pct = EXCLUDED.humidity_sum_pct,
        first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at,
        rolled_up_at = EXCLUDED.rolled_up_at
"""  # table names are the models'; every value is a parameter


def roll_up_reading_hours(*, now: datetime) -> int:
    """Roll up every closed hour that received readings since the last run (all of them, the
    first time); the hours written. Runs in steps of ROLLUP_STEP of arrival time, each one
    transaction holding the progress row, so two runs at once take turns."""
    hours_until = hour_of(now)
    target = now
    oldest = raw_window_start(now)
    written = 0
    while True:
        with transaction.atomic():
            progress = ReadingRollupProgress.objects.select_for_update().first()
            if progress is None:
                first = Reading.objects.aggregate(first=Min("received_at"))["first"]
                ReadingRollupProgress.objects.create(
                    received_until=first or target, hours_until=oldest
                )
                continue
            received_from = progress.received_until - ROLLUP_MARGIN
            received_until = min(progress.received_until + ROLLUP_STEP, target)
            if progress.received_until >= target and progress.hours_until >= hours_until:
                return written
            with connection.cursor() as cursor:
                cursor.execute(
                    _ROLL_UP,
                    {
                        "received_from": received_from,
                        "received_until": max(received_until, progress.received_until),
                        "oldest": oldest,
                        "hours_until": hours_until,
                    },
                )
                written += cursor.rowcount
            progress.received_until = max(received_until, progress.received_until)
            if progress.received_until >= target:
                progress.hours_until = hours_until
            progress.save(update_fields=["received_until", "hours_until"])


def rolled_up_until() -> datetime | None:
    """Every hour before this is in the rollups (None: nothing rolled up yet)."""
    progress = ReadingRollupProgress.objects.first()
    return None if progress is None else progress.hours_until


def drop_expired_readings(*, now: datetime) -> list[date]:
    """Roll up, then drop the months of raw readings older than the raw window whose readings
    the rollups all count; the months dropped. A month the rollups do not account for yet is
    kept and logged (the next run tries again)."""
    roll_up_reading_hours(now=now)
    cutoff = raw_window_start(now)
    dropped = []
    for month, name in reading_partitions().items():
        if month_start(add_months(month, 1)) > cutoff:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT coldchain_drop_reading_partition(%s)", [month])
            if cursor.fetchone()[0]:
                dropped.append(month)
            else:
                logger.warning("readings of %s kept: not all rolled up yet (%s)", month, name)
    return dropped
