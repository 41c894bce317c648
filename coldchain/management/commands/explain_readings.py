"""Show how the two hot reads of readings are served: EXPLAIN (ANALYZE, BUFFERS) of

1. a shipment's history (coldchain.history.subject_readings): one range scan of the primary
   key (logger_id, recorded_at) per logger assignment;
2. a time range across all loggers: the BRIN index on recorded_at (rows arrive roughly in
   time order, so each block range covers a short span of time and a window reads few).

On a small table PostgreSQL rightly prefers a sequential scan, which shows nothing about the
indexes; `--sample N` first adds N synthetic readings (50 loggers, one a minute, in time order)
inside a transaction that is rolled back at the end, so the plans at volume are shown and
nothing is left behind.

    manage.py explain_readings                       # the real data, last 24 hours
    manage.py explain_readings --shipment SH-00012 --hours 6
    manage.py explain_readings --sample 1000000
"""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from coldchain.choices import SiteKind
from coldchain.history import subject_readings
from coldchain.models import LoggerAssignment, Reading, Shipment, Site
from coldchain.services.registry import assign_logger, register_logger

SAMPLE_LOGGERS = 50


class Command(BaseCommand):
    help = "EXPLAIN (ANALYZE, BUFFERS) of a shipment's reading history and of a time range."

    def add_arguments(self, parser):
        parser.add_argument("--shipment", help="Code or id (default: the latest one watched).")
        parser.add_argument(
            "--hours", type=float, default=24, help="The window of the range query (24)."
        )
        parser.add_argument(
            "--sample",
            type=int,
            default=0,
            metavar="N",
            help="Add N synthetic readings first, in a transaction rolled back at the end.",
        )

    def handle(self, *args, shipment=None, hours=24, sample=0, **options):
        with transaction.atomic():
            end = timezone.now()
            if sample:
                subject, end = self._add_sample(sample, shipment)
            else:
                subject = self._shipment(shipment)
            start = end - timedelta(hours=hours)
            self._show_table()
            if subject is None:
                self.stdout.write("No shipment is watched by a logger: no history to explain.")
            else:
                self._explain(
                    f"1. History of shipment {subject.code} (subject_readings)",
                    subject_readings(subject),
                )
            self._explain(
                f"2. Every logger's readings from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC",
                Reading.objects.filter(recorded_at__gte=start, recorded_at__lt=end),
            )
            # Nothing of a sample (nor the statistics taken on it) survives the command.
            transaction.set_rollback(True)

    def _shipment(self, wanted: str | None) -> Shipment | None:
        if wanted:
            found = Shipment.objects.filter(code=wanted).first()
            if found is None and wanted.isdigit():
                found = Shipment.objects.filter(pk=int(wanted)).first()
            if found is None:
                raise CommandError(f"No shipment {wanted!r}.")
            return found
        latest = (
            LoggerAssignment.objects.filter(shipment__isnull=False)
            .select_related("shipment")
            .order_by("-starts_at")
            .first()
        )
        return latest.shipment if latest else None

    def _add_sample(self, count: int, wanted: str | None) -> tuple[Shipment, datetime]:
        """`count` readings of SAMPLE_LOGGERS new loggers, one a minute each, ending now, in
        time order; the first logger watches a shipment for the last tenth of the time."""
        per_logger = max(count // SAMPLE_LOGGERS, 1)
        end = timezone.now().replace(second=0, microsecond=0)
        start = end - timedelta(minutes=per_logger)
        loggers = [
            register_logger(device_id=f"EXPLAIN-SAMPLE-{n:03d}")[0] for n in range(SAMPLE_LOGGERS)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {Reading._meta.db_table} (logger_id, recorded_at, temperature_c)
                SELECT logger_id, %s + minute * interval '1 minute', 2 + random() * 3
                FROM generate_series(0, %s - 1) AS minute, unnest(%s::bigint[]) AS logger_id
                ORDER BY minute, logger_id
                """,  # the model's table name; every value is a parameter
                [start, per_logger, [logger.pk for logger in loggers]],
            )
            cursor.execute(f"ANALYZE {Reading._meta.db_table}")
            # The index on the partitioned table is one BRIN index per month.
            cursor.execute(
                "SELECT brin_summarize_new_values(inhrelid) FROM pg_inherits "
                "WHERE inhparent = 'reading_recorded_brin'::regclass"
            )
        shipment = self._shipment(wanted) if wanted else _sample_shipment()
        assign_logger(
            logger=loggers[0],
            subject=shipment,
            starts_at=end - (end - start) / 10,
            ends_at=end,
        )
        self.stdout.write(
            f"Sample: {per_logger * SAMPLE_LOGGERS} readings of {SAMPLE_LOGGERS} loggers "
            f"from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC (rolled back at the end)."
        )
        return shipment, end

    def _show_table(self) -> None:
        with connection.cursor() as cursor:
            # The table is partitioned by month: its size is the sum of its partitions'.
            cursor.execute(
                "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint, "
                "coalesce(sum(c.relpages), 0)::bigint FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
                [Reading._meta.db_table],
            )
            rows, pages = cursor.fetchone()
        self.stdout.write(
            f"Table {Reading._meta.db_table}: about {max(rows, 0)} rows, {pages} pages."
        )
        if rows < 100_000:
            self.stdout.write(
                "A table this small is read whole (a sequential scan is cheaper than any "
                "index); run with --sample 1000000 to see the plans at volume."
            )

    def _explain(self, title: str, readings) -> None:
        self.stdout.write(f"\n{title}\n{'-' * len(title)}")
        self.stdout.write(readings.explain(analyze=True, buffers=True))


def _sample_shipment() -> Shipment:
    """A throwaway shipment for the sample (rolled back with it)."""
    here, there = (
        Site.objects.create(
            name=f"EXPLAIN sample {name}", kind=SiteKind.OTHER, location=Point(116.4, 39.9)
        )
        for name in ("origin", "destination")
    )
    planner = get_user_model().objects.create(username="explain-readings-sample")
    now = timezone.now()
    return Shipment.objects.create(
        code="EXPLAIN-SAMPLE",
        origin=here,
        destination=there,
        planned_departure_at=now - timedelta(days=1),
        planned_arrival_at=now,
        min_temperature_c=0,
        max_temperature_c=4,
        planned_by=planner,
    )
