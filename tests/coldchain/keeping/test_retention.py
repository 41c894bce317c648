"""Raw readings older than READINGS_RAW_MONTHS go, a month at a time, only once the hourly
rollups count every one of them; the history still answers from the rollups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from coldchain.models import ReadingHour
from coldchain.reading_keeping import (
    add_months,
    drop_expired_readings,
    hour_of,
    month_of,
    month_start,
    prepare_reading_partitions,
    reading_partitions,
    roll_up_reading_hours,
)
from coldchain.series import reading_series
from coldchain.shelf_life import temperature_summary


def three_hours(start):
    """One reading a minute: 2 °C, then 3 and 5 °C by turns, then 6 °C (hourly means 2, 4, 6)."""
    temperatures = [2.0] * 60 + [3.0, 5.0] * 30 + [6.0] * 60
    return [(start + timedelta(minutes=i), t, None) for i, t in enumerate(temperatures)]


@pytest.fixture
def rolled_up_old_month(old_leg, put_readings):
    """Three hours of readings 20 months ago, received as they were taken and rolled up then."""
    _shipment, logger = old_leg
    month = add_months(month_of(timezone.now()), -20)
    start = month_start(month) + timedelta(days=9, hours=6)
    for recorded_at, t, h in three_hours(start):
        put_readings(logger, [(recorded_at, t, h)], received_at=recorded_at + timedelta(minutes=1))
    prepare_reading_partitions(now=timezone.now())
    roll_up_reading_hours(now=month_start(add_months(month, 2)))
    return month, start


@pytest.mark.django_db
def test_rolled_up_old_month_is_dropped_and_an_unrolled_one_kept(
    old_leg, put_readings, rolled_up_old_month, rows_in
):
    _shipment, logger = old_leg
    old_month, _start = rolled_up_old_month
    # Rows of an old month that nobody rolled up (they came after the rollups stopped at it).
    unrolled = add_months(month_of(timezone.now()), -18)
    put_readings(logger, [(month_start(unrolled) + timedelta(days=2), 4.0, None)])
    prepare_reading_partitions(now=timezone.now())

    dropped = drop_expired_readings(now=timezone.now())

    assert dropped == [old_month]
    months = reading_partitions()
    assert old_month not in months
    assert rows_in(months[unrolled]) == 1
    assert (
        ReadingHour.objects.filter(
            logger=logger, hour__lt=month_start(add_months(old_month, 1))
        ).count()
        == 3
    )


@pytest.mark.django_db
def test_history_of_a_dropped_month_comes_from_the_rollups(old_leg, rolled_up_old_month):
    shipment, _logger = old_leg
    old_month, start = rolled_up_old_month
    drop_expired_readings(now=timezone.now())
    month_end = month_start(add_months(old_month, 1))

    series = reading_series(shipment, since=month_start(old_month), until=month_end).as_dict()
    summary = temperature_summary(subject=shipment, start=month_start(old_month), end=month_end)

    assert series["points"] == [
        [int((start + timedelta(hours=h)).timestamp()), mean, None, False]
        for h, mean in enumerate([2.0, 4.0, 6.0])
    ]
    assert (summary.readings, summary.min_c, summary.max_c, summary.mean_c) == (180, 2.0, 6.0, 4.0)


@pytest.mark.django_db
def test_whole_leg_joins_rollups_and_raw_readings(old_leg, put_readings, rolled_up_old_month):
    shipment, logger = old_leg
    recent = hour_of(timezone.now()) - timedelta(hours=30)
    put_readings(logger, [(recent + timedelta(minutes=i), 7.0, 60.0) for i in range(120)])
    drop_expired_readings(now=timezone.now())

    series = reading_series(shipment).as_dict()
    summary = temperature_summary(subject=shipment, end=recent + timedelta(hours=2))

    temperatures = [point[1] for point in series["points"]]
    assert temperatures[0] == 4.0  # the three old hours, in one bucket
    assert set(temperatures[1:]) == {7.0}
    assert {point[2] for point in series["points"][1:]} == {60.0}
    assert (summary.readings, summary.min_c, summary.max_c) == (300, 2.0, 7.0)
