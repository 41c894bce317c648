"""The readings table is cut by month; the daily task makes the months ahead and gives a
month that only the DEFAULT partition caught its own partition, its readings moved in."""

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from coldchain.models import Reading
from coldchain.reading_keeping import (
    add_months,
    month_of,
    prepare_reading_partitions,
    reading_partitions,
)
from tests.conftest import application_database_url

FAR_AHEAD = datetime(2031, 5, 17, 6, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_migrated_table_is_partitioned_with_this_month_and_the_next_ones(settings):
    this_month = month_of(timezone.now())

    months = reading_partitions()

    for ahead in range(settings.READINGS_PARTITIONS_AHEAD_MONTHS + 1):
        assert add_months(this_month, ahead) in months


@pytest.mark.django_db
def test_reading_far_ahead_waits_in_default_then_gets_its_month(old_leg, put_readings, rows_in):
    _shipment, logger = old_leg
    put_readings(logger, [(FAR_AHEAD, 3.5, 80.0), (FAR_AHEAD + timedelta(minutes=1), 3.7, None)])
    assert rows_in("coldchain_reading_default") == 2

    made = prepare_reading_partitions(now=timezone.now())

    assert date(2031, 5, 1) in made
    assert rows_in("coldchain_reading_2031_05") == 2
    assert rows_in("coldchain_reading_default") == 0
    assert list(Reading.objects.filter(logger=logger).values_list("temperature_c", flat=True)) == [
        3.5,
        3.7,
    ]


@pytest.mark.django_db
def test_preparing_twice_makes_nothing_the_second_time():
    prepare_reading_partitions(now=timezone.now())

    assert prepare_reading_partitions(now=timezone.now()) == []


@pytest.mark.django_db(transaction=True)
def test_application_role_makes_a_month_and_stores_readings_in_it(old_leg):
    _shipment, logger = old_leg
    url = application_database_url().replace("postgis://", "postgresql://", 1)
    try:
        with psycopg.connect(url) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT coldchain_prepare_reading_partition(%s)", [FAR_AHEAD.date()])
            made = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO coldchain_reading (logger_id, recorded_at, temperature_c) "
                "VALUES (%s, %s, 4.0)",
                [logger.pk, FAR_AHEAD],
            )
            conn.commit()
            # The month itself is granted too, not only the parent.
            cursor.execute("SELECT temperature_c FROM coldchain_reading_2031_05")
            stored = cursor.fetchall()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                cursor.execute("DROP TABLE coldchain_reading_2031_05")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS coldchain_reading_2031_05")

    assert made is True
    assert stored == [(4.0,)]
