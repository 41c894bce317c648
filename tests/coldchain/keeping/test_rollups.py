"""Each logger's closed hours are rolled up: count, lowest, highest and mean equal to the raw
readings'; a reading that arrives late re-rolls its hour; the open hour waits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from coldchain.models import ReadingHour
from coldchain.reading_keeping import hour_of, roll_up_reading_hours


def minutes_from(start, temperatures, humidities=None):
    humidities = humidities or [None] * len(temperatures)
    return [
        (start + timedelta(minutes=i), t, h)
        for i, (t, h) in enumerate(zip(temperatures, humidities, strict=True))
    ]


@pytest.mark.django_db
def test_closed_hours_rolled_up_equal_the_raw_readings(old_leg, put_readings):
    _shipment, logger = old_leg
    now = timezone.now()
    three_hours_ago = hour_of(now) - timedelta(hours=3)
    put_readings(logger, minutes_from(three_hours_ago, [2.0, 4.0, 9.0], [80.0, None, 90.0]))
    put_readings(logger, minutes_from(three_hours_ago + timedelta(hours=1), [1.0, 1.5]))
    put_readings(logger, minutes_from(hour_of(now), [5.0]))  # the open hour

    roll_up_reading_hours(now=now + timedelta(hours=1))

    hours = list(ReadingHour.objects.filter(logger=logger).order_by("hour"))
    assert [(h.hour, h.readings) for h in hours] == [
        (three_hours_ago, 3),
        (three_hours_ago + timedelta(hours=1), 2),
        (hour_of(now), 1),
    ]
    first = hours[0]
    assert (first.temperature_min_c, first.temperature_max_c, first.temperature_mean_c) == (
        2.0,
        9.0,
        5.0,
    )
    assert (first.humidity_readings, first.humidity_min_pct, first.humidity_max_pct) == (
        2,
        80.0,
        90.0,
    )
    assert first.humidity_sum_pct == 170.0
    assert first.first_at == three_hours_ago
    assert first.last_at == three_hours_ago + timedelta(minutes=2)
    assert hours[1].temperature_mean_c == 1.25


@pytest.mark.django_db
def test_open_hour_is_not_rolled_up(old_leg, put_readings):
    _shipment, logger = old_leg
    now = timezone.now() + timedelta(hours=1)
    put_readings(logger, minutes_from(hour_of(now) - timedelta(hours=2), [3.0]))
    put_readings(logger, minutes_from(hour_of(now), [5.0]))  # the hour `now` is in

    roll_up_reading_hours(now=now)

    assert ReadingHour.objects.filter(logger=logger).count() == 1


@pytest.mark.django_db
def test_late_reading_rolls_its_hour_again(old_leg, put_readings):
    _shipment, logger = old_leg
    now = timezone.now()
    hour = hour_of(now) - timedelta(hours=5)
    put_readings(logger, minutes_from(hour, [2.0, 2.0]))
    roll_up_reading_hours(now=now + timedelta(hours=1))

    put_readings(
        logger,
        [(hour + timedelta(minutes=30), 8.0, None)],
        received_at=now + timedelta(hours=1, minutes=30),
        late=True,
    )
    roll_up_reading_hours(now=now + timedelta(hours=3))

    rolled = ReadingHour.objects.get(logger=logger, hour=hour)
    assert (rolled.readings, rolled.late_readings, rolled.temperature_max_c) == (3, 1, 8.0)
    assert rolled.temperature_mean_c == 4.0


@pytest.mark.django_db
def test_rolling_up_twice_changes_nothing(old_leg, put_readings):
    _shipment, logger = old_leg
    now = timezone.now()
    put_readings(logger, minutes_from(hour_of(now) - timedelta(hours=2), [3.0, 4.0]))
    roll_up_reading_hours(now=now + timedelta(hours=1))
    before = list(ReadingHour.objects.values_list("hour", "readings", "temperature_sum_c"))

    roll_up_reading_hours(now=now + timedelta(hours=1))

    assert list(ReadingHour.objects.values_list("hour", "readings", "temperature_sum_c")) == before
