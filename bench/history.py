"""bench/history: a cold store's temperature chart over three years, beside the hand-written
SQL of the same answer.

The benchmark database gets one cold store watched by one logger for three years and a week:
hourly rollups for the months before the raw window (as `drop_expired_readings` leaves them)
and one reading a minute for the READINGS_RAW_MONTHS months of the raw window and this month
(about 580,000 rows), built with generate_series in the monthly partitions, then rolled up by
the real task. Built once, reused by later runs.

- chart: coldchain.series.reading_series over three years, as the store's chart API asks it
  (720 points at most), BENCH_HISTORY_TRIALS times; p50 and p95.
- raw: one statement of SQL giving the same buckets from the rollups (the floor of this work).
- shipment: a two-day leg ten days ago, watched by its own logger (a reading a minute), charted
  as its page asks (`reading_series(shipment)`, the whole leg) in the same three-year table;
  p50 and p95, beside the hand-written SQL of its raw readings.
- raw_13_months_ms: for scale, the same chart's last 13 months bucketed from the raw readings
  alone, as the history read before the rollups.

Target (issue 19): a shipment's history over a three-year table p95 < 20 ms; the store's
three-year chart is printed beside it.
"""

import os
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.contrib.gis.geos import Point  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.support import percentile, report  # noqa: E402
from coldchain.choices import ShipmentStatus, SiteKind  # noqa: E402
from coldchain.models import (  # noqa: E402
    ColdStore,
    DataLogger,
    Reading,
    ReadingHour,
    Shipment,
    Site,
)
from coldchain.reading_keeping import (  # noqa: E402
    add_months,
    hour_of,
    month_of,
    raw_window_start,
    roll_up_reading_hours,
)
from coldchain.series import MAX_POINTS, reading_series  # noqa: E402
from coldchain.services.registry import assign_logger, register_logger  # noqa: E402

TRIALS = int(os.environ.get("BENCH_HISTORY_TRIALS", "60"))
DEVICE = "bench-history-logger"
YEARS = timedelta(days=3 * 365 + 7)
# A store at 2–4 °C with a daily swing and a slow seasonal one; humidity around 90 %.
TEMPERATURE = "3 + sin(extract(epoch FROM {t}) / 86400 * 2 * pi()) + 0.5 * sin(extract(epoch FROM {t}) / 31557600 * 2 * pi())"


def build(now) -> tuple[ColdStore, DataLogger]:
    site, _ = Site.objects.get_or_create(
        name="基准测试历史冷库",
        defaults={"kind": SiteKind.OTHER, "location": Point(116.4, 39.9, srid=4326)},
    )
    store, _created = ColdStore.objects.get_or_create(
        code="bench-history-store",
        defaults={
            "name": "基准测试三年冷库",
            "site": site,
            "min_temperature_c": Decimal("0.0"),
            "max_temperature_c": Decimal("6.0"),
        },
    )
    logger = DataLogger.objects.filter(device_id=DEVICE).first()
    if logger is not None and ReadingHour.objects.filter(logger=logger).exists():
        roll_up_reading_hours(now=now)  # what an interrupted build left, and the last hours
        return store, logger
    started = time.perf_counter()
    logger, _secret = register_logger(device_id=DEVICE, secret="bench-history-secret")
    assign_logger(logger=logger, subject=store, starts_at=now - YEARS)
    raw_start = raw_window_start(now)
    with connection.cursor() as cursor:
        month = month_of(raw_start)
        while month <= add_months(month_of(now), 1):
            cursor.execute("SELECT coldchain_prepare_reading_partition(%s)", [month])
            month = add_months(month, 1)
        temperature = TEMPERATURE.format(t="h")
        cursor.execute(
            f"""
            INSERT INTO coldchain_readinghour (
                logger_id, hour, readings, late_readings, temperature_min_c, temperature_max_c,
                temperature_sum_c, humidity_readings, humidity_min_pct, humidity_max_pct,
                humidity_sum_pct, first_at, last_at)
            SELECT %s, h, 60, 0, {temperature} - 0.2, {temperature} + 0.2, 60 * ({temperature}),
                   60, 88, 92, 60 * 90.0, h, h + interval '59 minutes'
            FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour',
                                 interval '1 hour') AS h
            """,
            [logger.pk, hour_of(now - YEARS), raw_start],
        )
        temperature = TEMPERATURE.format(t="t")
        cursor.execute(
            f"""
            INSERT INTO {Reading._meta.db_table}
                (logger_id, recorded_at, temperature_c, humidity_pct, received_at, late)
            SELECT %s, t, {temperature}, 90 + 2 * sin(extract(epoch FROM t) / 3600), t, false
            FROM generate_series(%s::timestamptz, %s::timestamptz, interval '1 minute') AS t
            """,
            [logger.pk, raw_start, now - timedelta(minutes=1)],
        )
        cursor.execute(f"ANALYZE {Reading._meta.db_table}")
        cursor.execute("ANALYZE coldchain_readinghour")
        # What autovacuum does for new block ranges (autosummarize), now rather than later:
        # an unsummarized range is read by every range query.
        cursor.execute(
            "SELECT brin_summarize_new_values(i.inhrelid) FROM pg_inherits i "
            "WHERE i.inhparent IN ('reading_received_brin'::regclass, "
            "'reading_recorded_brin'::regclass)"
        )
    roll_up_reading_hours(now=now)
    print(f"built three years of {DEVICE} in {time.perf_counter() - started:.1f} s", flush=True)
    return store, logger


def build_shipment(now, store: ColdStore) -> tuple[Shipment, DataLogger]:
    """A two-day leg from the store to a market ten days ago, its own logger reading every
    minute: 2,880 rows among the store's years."""
    shipment = Shipment.objects.filter(code="BENCH-HISTORY-LEG").first()
    if shipment is not None:
        return shipment, DataLogger.objects.get(device_id=f"{DEVICE}-truck")
    departed = (now - timedelta(days=10)).replace(second=0, microsecond=0)
    arrived = departed + timedelta(days=2)
    planner, _ = User.objects.get_or_create(
        username="bench-history-planner", defaults={"phone": "+8619900000001"}
    )
    market, _ = Site.objects.get_or_create(
        name="基准测试历史市场",
        defaults={"kind": SiteKind.OTHER, "location": Point(116.5, 39.8, srid=4326)},
    )
    shipment = Shipment.objects.create(
        code="BENCH-HISTORY-LEG",
        origin=store.site,
        destination=market,
        status=ShipmentStatus.DELIVERED,
        planned_departure_at=departed,
        planned_arrival_at=arrived,
        departed_at=departed,
        arrived_at=arrived,
        min_temperature_c=Decimal("0.0"),
        max_temperature_c=Decimal("4.0"),
        planned_by=planner,
    )
    logger, _secret = register_logger(device_id=f"{DEVICE}-truck", secret="bench-history-truck")
    assign_logger(logger=logger, subject=shipment, starts_at=departed, ends_at=arrived)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Reading._meta.db_table}
                (logger_id, recorded_at, temperature_c, humidity_pct, received_at, late)
            SELECT %s, t, 2 + sin(extract(epoch FROM t) / 3600), 90, t, false
            FROM generate_series(%s::timestamptz, %s::timestamptz, interval '1 minute') AS t
            """,
            [logger.pk, departed, arrived - timedelta(minutes=1)],
        )
    return shipment, logger


def timed(function) -> list[float]:
    function()  # warm: plans, caches
    samples = []
    for _ in range(TRIALS):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    now = timezone.now()
    store, logger = build(now)
    since = now - timedelta(days=3 * 365)
    readings = Reading.objects.filter(logger=logger).count()
    hours = ReadingHour.objects.filter(logger=logger).count()
    print(f"{DEVICE}: {readings} raw readings, {hours} hourly rollups", flush=True)

    series = reading_series(store, since=since)
    chart = timed(lambda: reading_series(store, since=since))

    # The same buckets, one statement over the rollups (what the chart reads at this span).
    first = ReadingHour.objects.filter(logger=logger, hour__gte=hour_of(since)).order_by("hour")
    first_at = first.values_list("first_at", flat=True)[0]
    last_at = Reading.objects.filter(logger=logger).order_by("-recorded_at")[0].recorded_at
    seconds = int((last_at - first_at).total_seconds()) + 1
    width = timedelta(hours=-(-(seconds // (MAX_POINTS - 1) + 1) // 3600))

    def hand_written() -> list:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT date_bin(%s, hour, %s) AS bucket,
                       sum(temperature_sum_c) / sum(readings),
                       sum(humidity_sum_pct) / nullif(sum(humidity_readings), 0),
                       sum(late_readings) > 0
                FROM coldchain_readinghour
                WHERE logger_id = %s AND hour >= %s
                GROUP BY bucket ORDER BY bucket
                """,
                [width, hour_of(first_at), logger.pk, hour_of(since)],
            )
            return cursor.fetchall()

    raw = timed(hand_written)

    shipment, truck = build_shipment(now, store)
    leg = reading_series(shipment)
    leg_chart = timed(lambda: reading_series(shipment))

    # The same buckets as the page's chart, one statement over the leg's raw readings.
    leg_width = timedelta(
        seconds=int((shipment.arrived_at - shipment.departed_at).total_seconds())
        // (MAX_POINTS - 1)
        + 1
    )

    def leg_hand_written() -> list:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT date_bin(%s, recorded_at, %s) AS bucket, avg(temperature_c),
                       avg(humidity_pct), bool_or(late)
                FROM {Reading._meta.db_table}
                WHERE logger_id = %s AND recorded_at >= %s AND recorded_at < %s
                GROUP BY bucket ORDER BY bucket
                """,
                [
                    leg_width,
                    shipment.departed_at,
                    truck.pk,
                    shipment.departed_at,
                    shipment.arrived_at,
                ],
            )
            return cursor.fetchall()

    leg_raw = timed(leg_hand_written)

    def thirteen_months_raw() -> list:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT date_bin(%s, recorded_at, %s) AS bucket, avg(temperature_c),
                       avg(humidity_pct), bool_or(late)
                FROM {Reading._meta.db_table}
                WHERE logger_id = %s AND recorded_at >= %s
                GROUP BY bucket ORDER BY bucket
                """,
                [width, raw_window_start(now), logger.pk, raw_window_start(now)],
            )
            return cursor.fetchall()

    before = timed(thirteen_months_raw)[: max(5, TRIALS // 6)]

    p50, p95 = percentile(chart, 50), percentile(chart, 95)
    raw_p95 = percentile(raw, 95)
    print(
        f"chart over 3 years ({len(series.points)} points): p50 {p50:.1f} ms, p95 {p95:.1f} ms; "
        f"hand-written SQL p95 {raw_p95:.1f} ms; 13 months from raw readings alone "
        f"p50 {percentile(before, 50):.0f} ms",
        flush=True,
    )
    leg_p50, leg_p95 = percentile(leg_chart, 50), percentile(leg_chart, 95)
    print(
        f"one shipment's history in the three-year table ({len(leg.points)} points): "
        f"p50 {leg_p50:.1f} ms, p95 {leg_p95:.1f} ms; hand-written SQL p95 "
        f"{percentile(leg_raw, 95):.1f} ms",
        flush=True,
    )
    print(
        f"target: shipment p95 {leg_p95:.1f} ms (< 20: {'met' if leg_p95 < 20 else 'MISSED'})",
        flush=True,
    )
    report(
        "history",
        points=len(series.points),
        raw_readings=readings,
        hourly_rollups=hours,
        p50_ms=round(p50, 2),
        p95_ms=round(p95, 2),
        raw_p95_ms=round(raw_p95, 2),
        raw_13_months_ms=round(percentile(before, 50), 1),
        ratio=round(p95 / raw_p95, 2),
        shipment_points=len(leg.points),
        shipment_p50_ms=round(leg_p50, 2),
        shipment_p95_ms=round(leg_p95, 2),
        shipment_raw_p95_ms=round(percentile(leg_raw, 95), 2),
    )


if __name__ == "__main__":
    main()
