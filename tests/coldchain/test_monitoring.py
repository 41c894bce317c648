"""Judging stored readings: excursions and their one alert, late batches, the logger, the
vehicle, live pushes. Readings are stored as ingest stores them, then handed to
`judge_readings` (the HTTP door is tested with ingest).

The fixtures' shipment keeps 0–4 °C with the default patience: 15 min delay, 10 min recovery,
0.5 °C margin, 15 min signal timeout. Times are minutes after the assignment's start.
"""

import logging
from datetime import timedelta
from functools import partial

import pytest
from django.contrib.gis.geos import Point
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from coldchain import monitoring
from coldchain.choices import AlertKind, ExcursionKind, Severity, ShipmentStatus
from coldchain.models import Alert, Excursion, LoggerAssignment, Reading
from coldchain.monitoring import ReadingIn
from coldchain.services.registry import assign_logger
from common.realtime import send_to_groups


def steady(start: int, end: int, temperature_c: float) -> list[tuple[int, float]]:
    return [(m, temperature_c) for m in range(start, end)]


def assignment_of(logger) -> LoggerAssignment:
    return LoggerAssignment.objects.get(logger=logger)


def readings_at(logger, points, **extra) -> list[ReadingIn]:
    start = assignment_of(logger).starts_at
    return [
        ReadingIn(recorded_at=start + timedelta(minutes=m), temperature_c=t, **extra)
        for m, t in points
    ]


def ingest(logger, points, **extra) -> list[ReadingIn]:
    """Store the readings (as ingest does: ON CONFLICT DO NOTHING) and judge the new ones."""
    readings = readings_at(logger, points, **extra)
    with transaction.atomic():
        new = _store(logger, readings)
        monitoring.judge_readings(logger_id=logger.pk, readings=new)
    return new


def _store(logger, readings: list[ReadingIn]) -> list[ReadingIn]:
    existing = set(
        Reading.objects.filter(
            logger=logger, recorded_at__in=[r.recorded_at for r in readings]
        ).values_list("recorded_at", flat=True)
    )
    new = [r for r in readings if r.recorded_at not in existing]
    Reading.objects.bulk_create(
        [
            Reading(
                logger=logger,
                recorded_at=r.recorded_at,
                temperature_c=r.temperature_c,
                humidity_pct=r.humidity_pct,
                battery_pct=r.battery_pct,
                position=None if r.longitude is None else Point(r.longitude, r.latitude, srid=4326),
            )
            for r in new
        ],
        ignore_conflicts=True,
    )
    return new


def in_batches(logger, points, size: int) -> None:
    for start in range(0, len(points), size):
        ingest(logger, points[start : start + size])


def pushes(callbacks) -> list[tuple[str, dict]]:
    """(event, payload) of every live push waiting for the commit."""
    return [
        (callback.args[1]["event"], callback.args[1]["payload"])
        for callback in callbacks
        if isinstance(callback, partial) and callback.func is send_to_groups
    ]


def alert_events(callbacks) -> list[tuple[str, int, str | None]]:
    return [
        (event, payload["severity"], payload["resolved_at"])
        for event, payload in pushes(callbacks)
        if event.startswith("alert")
    ]


def minutes_after_start(logger, moment):
    return (moment - assignment_of(logger).starts_at).total_seconds() / 60


def test_a_sustained_breach_is_one_excursion_and_one_alert_however_many_batches(
    shipment_logger, shipment, django_capture_on_commit_callbacks
):
    points = steady(0, 30, 3.0) + steady(30, 120, 8.0)

    with django_capture_on_commit_callbacks() as callbacks:
        in_batches(shipment_logger, points, size=7)

    excursion = Excursion.objects.get()
    assert excursion.shipment == shipment
    assert excursion.kind == ExcursionKind.TOO_WARM
    assert minutes_after_start(shipment_logger, excursion.started_at) == 30
    assert minutes_after_start(shipment_logger, excursion.confirmed_at) == 45
    assert excursion.ended_at is None
    assert excursion.peak_c == 8.0
    assert excursion.limit_c == 4.0
    assert excursion.degree_minutes == pytest.approx(4 * 89)
    assert excursion.severity == Severity.CRITICAL
    alert = Alert.objects.get()
    assert (alert.kind, alert.excursion, alert.severity) == (
        AlertKind.EXCURSION,
        excursion,
        Severity.CRITICAL,
    )
    assert alert.resolved_at is None
    # 4 °C over: MAJOR when confirmed (60 °C·min), CRITICAL at 60 min outside (240).
    assert alert_events(callbacks) == [
        ("alert", Severity.MAJOR, None),
        ("alert.updated", Severity.CRITICAL, None),
    ]


def test_a_door_opening_spike_opens_nothing(shipment_logger, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        ingest(shipment_logger, steady(0, 30, 3.0) + steady(30, 40, 9.0) + steady(40, 80, 3.0))

    assert not Excursion.objects.exists()
    assert not Alert.objects.exists()
    assert alert_events(callbacks) == []


def test_recovery_closes_the_excursion_and_resolves_its_alert(
    shipment_logger, django_capture_on_commit_callbacks
):
    ingest(shipment_logger, steady(0, 30, 6.0))

    with django_capture_on_commit_callbacks() as callbacks:
        ingest(shipment_logger, steady(30, 45, 3.0))

    excursion = Excursion.objects.get()
    assert minutes_after_start(shipment_logger, excursion.ended_at) == 30
    alert = Alert.objects.get()
    assert alert.resolved_at is not None
    assert [event for event, _severity, resolved in alert_events(callbacks) if resolved] == [
        "alert.updated"
    ]
    # A new breach later is a new excursion with its own alert.
    ingest(shipment_logger, steady(45, 80, 7.0))
    assert Excursion.objects.count() == 2
    assert Alert.objects.count() == 2
    assert Excursion.objects.filter(ended_at__isnull=True).count() == 1


def test_too_cold_for_a_chilling_sensitive_store(store, store_logger):
    store.min_temperature_c, store.max_temperature_c = 12, 14  # bananas
    store.save()

    ingest(store_logger, steady(0, 10, 13.0) + steady(10, 40, 10.0))

    excursion = Excursion.objects.get()
    assert (excursion.kind, excursion.store, excursion.shipment) == (
        ExcursionKind.TOO_COLD,
        store,
        None,
    )
    assert excursion.limit_c == 12.0
    assert excursion.peak_c == 10.0
    assert Alert.objects.get().store == store


def test_a_late_batch_extends_the_stored_excursion_without_a_second_alert(
    shipment_logger, django_capture_on_commit_callbacks
):
    # The gateway sent 0–30 and 60–120; the readings of 30–60 come later from the USB file.
    ingest(shipment_logger, steady(0, 30, 3.0) + steady(60, 120, 8.0))
    before = Excursion.objects.get()
    assert before.severity == Severity.MAJOR  # 4 °C × 59 min
    assert minutes_after_start(shipment_logger, before.started_at) == 60

    with django_capture_on_commit_callbacks() as callbacks:
        ingest(shipment_logger, steady(30, 60, 8.0))

    excursion = Excursion.objects.get()
    assert excursion.pk == before.pk
    assert minutes_after_start(shipment_logger, excursion.started_at) == 30
    assert minutes_after_start(shipment_logger, excursion.confirmed_at) == 45
    assert excursion.degree_minutes > before.degree_minutes
    assert Alert.objects.count() == 1
    assert [event for event, *_ in alert_events(callbacks)] == ["alert.updated"]
    assert Alert.objects.get().severity == Severity.CRITICAL


def test_a_late_batch_reveals_a_past_excursion_once(
    shipment_logger, django_capture_on_commit_callbacks
):
    # Everything but 40–80 arrived; those readings show a breach that has long ended.
    ingest(shipment_logger, steady(0, 40, 3.0) + steady(80, 150, 3.0))
    assert not Excursion.objects.exists()

    with django_capture_on_commit_callbacks() as callbacks:
        ingest(shipment_logger, steady(40, 80, 7.0))

    excursion = Excursion.objects.get()
    assert minutes_after_start(shipment_logger, excursion.started_at) == 40
    assert minutes_after_start(shipment_logger, excursion.ended_at) == 80
    alert = Alert.objects.get()
    assert alert.resolved_at is not None  # over before anyone heard of it
    assert [event for event, *_ in alert_events(callbacks)] == ["alert"]

    # The same file uploaded again: ingest stores nothing, the judge is asked once more.
    with django_capture_on_commit_callbacks() as callbacks:
        monitoring.judge_readings(
            logger_id=shipment_logger.pk, readings=readings_at(shipment_logger, steady(40, 80, 7.0))
        )
    assert Excursion.objects.count() == 1
    assert Alert.objects.count() == 1
    assert alert_events(callbacks) == []


def test_late_readings_that_join_two_stored_excursions_keep_both_alerts_and_add_none(
    shipment_logger,
):
    # Stored: one breach 20–50 (recovered by 60), a second from 66. A late reading at 55,
    # still warm, shows the first never recovered (9 min in range before 66): one excursion.
    ingest(
        shipment_logger,
        steady(0, 20, 3.0) + steady(20, 50, 8.0) + steady(50, 55, 3.0) + steady(56, 62, 3.0),
    )
    ingest(shipment_logger, steady(62, 66, 3.0) + steady(66, 100, 8.0))
    first, second = Excursion.objects.order_by("started_at")
    assert first.ended_at is not None
    assert second.ended_at is None

    ingest(shipment_logger, [(55, 8.0)])

    first.refresh_from_db()
    second.refresh_from_db()
    assert minutes_after_start(shipment_logger, first.started_at) == 20
    assert first.ended_at is None  # still outside at 99
    assert second.ended_at is not None  # part of the first now; kept, its alert resolved
    assert Alert.objects.count() == 2
    assert Alert.objects.get(excursion=first).resolved_at is None
    assert Alert.objects.get(excursion=second).resolved_at is not None
    assert Excursion.objects.filter(ended_at__isnull=True).count() == 1

    # And the engine carries on from there: recovery closes the merged excursion.
    ingest(shipment_logger, steady(100, 120, 3.0))
    first.refresh_from_db()
    assert minutes_after_start(shipment_logger, first.ended_at) == 100
    assert Alert.objects.get(excursion=first).resolved_at is not None


def test_a_late_batch_leaves_earlier_excursions_alone(shipment_logger):
    ingest(shipment_logger, steady(0, 10, 3.0) + steady(10, 40, 8.0) + steady(40, 100, 3.0))
    ingest(shipment_logger, steady(101, 150, 3.0))
    early = Excursion.objects.get()

    ingest(shipment_logger, [(100, 3.2)])  # one reading the gateway had dropped

    assert list(Excursion.objects.all()) == [early]
    early.refresh_from_db()
    assert minutes_after_start(shipment_logger, early.ended_at) == 40
    assert Alert.objects.count() == 1


def test_judging_the_same_readings_twice_creates_nothing(
    shipment_logger, django_capture_on_commit_callbacks
):
    points = steady(0, 30, 3.0) + steady(30, 90, 8.0) + steady(90, 100, 3.8)
    ingest(shipment_logger, points)
    state_before = assignment_of(shipment_logger).monitor_state
    excursion_before = Excursion.objects.values().get()

    with django_capture_on_commit_callbacks() as callbacks:
        monitoring.judge_readings(
            logger_id=shipment_logger.pk, readings=readings_at(shipment_logger, points)
        )

    assert Excursion.objects.values().get() == excursion_before
    assert Alert.objects.count() == 1
    assert alert_events(callbacks) == []
    assert assignment_of(shipment_logger).monitor_state == state_before


def test_the_in_order_path_picks_up_after_a_late_batch(shipment_logger):
    ingest(shipment_logger, steady(0, 30, 3.0) + steady(40, 50, 8.0))
    ingest(shipment_logger, steady(30, 40, 8.0))  # late: 30–50 is outside now, confirmed at 45
    assert Excursion.objects.count() == 1

    ingest(shipment_logger, steady(50, 80, 8.0))

    excursion = Excursion.objects.get()
    assert minutes_after_start(shipment_logger, excursion.started_at) == 30
    assert excursion.degree_minutes == pytest.approx(4 * 49)
    assert Alert.objects.count() == 1


def test_a_delivered_shipments_readings_are_stored_but_not_judged(
    shipment_logger, shipment, django_capture_on_commit_callbacks
):
    shipment.status = ShipmentStatus.DELIVERED
    shipment.save()

    with django_capture_on_commit_callbacks() as callbacks:
        new = ingest(shipment_logger, steady(0, 60, 9.0))

    assert Reading.objects.filter(logger=shipment_logger).count() == 60
    assert not Excursion.objects.exists()
    assert pushes(callbacks) == []
    shipment_logger.refresh_from_db()
    assert shipment_logger.last_reading_at == new[-1].recorded_at


def test_readings_outside_any_assignment_are_only_stored(
    data_logger, django_capture_on_commit_callbacks
):
    moment = timezone.now() - timedelta(hours=1)
    readings = [ReadingIn(moment + timedelta(minutes=m), 9.0) for m in range(40)]
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        monitoring.judge_readings(logger_id=data_logger.pk, readings=_store(data_logger, readings))

    assert Reading.objects.filter(logger=data_logger).count() == 40
    assert not Excursion.objects.exists()
    assert pushes(callbacks) == []
    data_logger.refresh_from_db()
    assert data_logger.last_reading_at == readings[-1].recorded_at


def test_the_logger_and_the_vehicle_move_forward_only(shipment_logger, shipment):
    ingest(shipment_logger, steady(0, 10, 3.0), battery_pct=80, longitude=116.3, latitude=39.9)
    ingest(shipment_logger, steady(10, 20, 3.0), battery_pct=70, longitude=116.5, latitude=40.0)
    ingest(shipment_logger, steady(20, 25, 3.0))  # no battery, no position in these

    shipment_logger.refresh_from_db()
    vehicle = shipment.vehicle
    vehicle.refresh_from_db()
    assert minutes_after_start(shipment_logger, shipment_logger.last_reading_at) == 24
    assert shipment_logger.battery_pct == 70
    assert (vehicle.last_position.x, vehicle.last_position.y) == (116.5, 40.0)
    assert minutes_after_start(shipment_logger, vehicle.last_position_at) == 19

    # An older batch, late: neither goes back.
    ingest(shipment_logger, [(-0.5, 3.0)], battery_pct=99, longitude=100.0, latitude=30.0)
    shipment_logger.refresh_from_db()
    vehicle.refresh_from_db()
    assert shipment_logger.battery_pct == 70
    assert (vehicle.last_position.x, vehicle.last_position.y) == (116.5, 40.0)


def test_one_readings_event_per_subject_with_at_most_200_points(
    shipment_logger, shipment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        ingest(
            shipment_logger,
            [(m / 6, 3.0 + (m % 7) / 10) for m in range(1000)],  # every 10 s
            longitude=116.4,
            latitude=39.9,
        )

    [(event, payload)] = pushes(callbacks)
    assert event == "readings"
    assert payload["subject"] == "shipment"
    assert payload["subject_id"] == shipment.pk
    assert payload["vehicle_id"] == shipment.vehicle_id
    assert payload["position"] == [116.4, 39.9]
    assert 100 < len(payload["points"]) <= 200
    times = [point[0] for point in payload["points"]]
    assert times == sorted(times)
    assert all(3.0 <= point[1] <= 3.6 for point in payload["points"])


def test_a_reading_after_a_loss_of_signal_resolves_its_alert(
    shipment_logger, django_capture_on_commit_callbacks
):
    start = assignment_of(shipment_logger).starts_at
    raised_at = start + timedelta(minutes=100)
    assert monitoring.raise_signal_losses(now=raised_at) == 1

    ingest(shipment_logger, steady(90, 100, 3.0))  # buffered from before the alert
    assert Alert.objects.get().resolved_at is None

    with django_capture_on_commit_callbacks() as callbacks:
        ingest(shipment_logger, steady(100, 102, 3.0))

    alert = Alert.objects.get()
    assert alert.kind == AlertKind.SIGNAL_LOST
    assert alert.resolved_at is not None
    assert [event for event, _severity, resolved in alert_events(callbacks)] == ["alert.updated"]


def test_a_1000_reading_batch_takes_a_few_queries(shipment_logger, django_assert_max_num_queries):
    ingest(shipment_logger, steady(0, 5, 3.0))  # the assignment has a state to carry on from
    # One reading every 5 s: 1,000 readings are 83 min. The last 200 open a MINOR excursion.
    first = [(5 + m / 12, 3.0 if m < 800 else 5.0) for m in range(1000)]
    second = [(5 + m / 12, 5.0) for m in range(1000, 2000)]  # 1 °C over: MAJOR by the end
    for points, severity in ((first, Severity.MINOR), (second, Severity.MAJOR)):
        readings = readings_at(
            shipment_logger, points, battery_pct=90, longitude=116.4, latitude=39.9
        )
        with transaction.atomic():
            new = _store(shipment_logger, readings)
            # Lock the assignments; logger; vehicle; signal alerts; excursion and alert
            # (created, or updated and read for the push); the assignment's state.
            with django_assert_max_num_queries(8):
                monitoring.judge_readings(logger_id=shipment_logger.pk, readings=new)
        assert Alert.objects.get().severity == severity


@pytest.mark.django_db(transaction=True)
@override_settings(
    CHANNEL_LAYERS={
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # nothing listens there
        }
    }
)
def test_an_excursion_and_its_alert_are_stored_when_the_push_fails(shipment_logger, caplog):
    with caplog.at_level(logging.WARNING, logger="coldchain.realtime"):
        ingest(shipment_logger, steady(0, 40, 9.0))  # commits; the pushes then fail

    assert Excursion.objects.count() == 1
    assert Alert.objects.filter(kind=AlertKind.EXCURSION).count() == 1
    assert any("push alert" in record.getMessage() for record in caplog.records)


def test_a_planned_shipment_is_judged_already(shipment_logger, shipment):
    shipment.status = ShipmentStatus.PLANNED
    shipment.save()

    ingest(shipment_logger, steady(0, 40, 9.0))

    assert Excursion.objects.get().shipment == shipment


def test_readings_stored_before_the_assignment_are_judged_with_its_first_batch(
    data_logger, shipment
):
    packed_at = timezone.now() - timedelta(hours=2)
    earlier = [ReadingIn(packed_at + timedelta(minutes=m), 8.0) for m in range(40)]
    with transaction.atomic():  # the logger ran before anyone assigned it
        monitoring.judge_readings(logger_id=data_logger.pk, readings=_store(data_logger, earlier))
    assert not Excursion.objects.exists()
    assign_logger(logger=data_logger, subject=shipment, starts_at=packed_at)

    ingest(data_logger, [(41, 8.0)])

    excursion = Excursion.objects.get()
    assert excursion.started_at == packed_at
    assert excursion.ended_at is None
    assert Alert.objects.count() == 1
