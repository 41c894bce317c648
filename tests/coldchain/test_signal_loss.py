"""Loss of signal: a watched subject whose logger has been silent for its signal timeout
(15 min in the fixtures) raises one alert, however often the beat task runs."""

from datetime import timedelta
from functools import partial

import pytest
from django.db import transaction
from django.utils import timezone

from coldchain import monitoring, realtime
from coldchain.choices import AlertKind, Severity, ShipmentStatus
from coldchain.models import Alert, LoggerAssignment, Reading
from coldchain.monitoring import ReadingIn
from coldchain.services.registry import assign_logger, register_logger
from coldchain.tasks import raise_signal_losses as raise_signal_losses_task
from common.realtime import send_to_groups


def hear(logger, moment) -> None:
    """One reading at `moment`, stored and judged as ingest does."""
    with transaction.atomic():
        Reading.objects.create(logger=logger, recorded_at=moment, temperature_c=3.0)
        monitoring.judge_readings(
            logger_id=logger.pk, readings=[ReadingIn(recorded_at=moment, temperature_c=3.0)]
        )


def test_a_silent_shipment_raises_one_alert_however_often_the_task_runs(
    shipment_logger, shipment, django_capture_on_commit_callbacks
):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert monitoring.raise_signal_losses(now=now) == 1
        assert monitoring.raise_signal_losses(now=now + timedelta(minutes=1)) == 0

    alert = Alert.objects.get()
    assert (alert.kind, alert.shipment, alert.severity) == (
        AlertKind.SIGNAL_LOST,
        shipment,
        Severity.MAJOR,
    )
    assert alert.assignment == LoggerAssignment.objects.get(logger=shipment_logger)
    assert alert.raised_at == now
    assert alert.resolved_at is None
    [(groups, message)] = [
        callback.args
        for callback in callbacks
        if isinstance(callback, partial) and callback.func is send_to_groups
    ]
    event, payload = message["event"], message["payload"]
    assert event == "alert"
    assert payload["id"] == alert.pk
    assert payload["kind"] == AlertKind.SIGNAL_LOST
    assert groups == realtime.groups_for_shipment(shipment)


def test_a_logger_heard_within_the_timeout_raises_nothing(shipment_logger):
    now = timezone.now()
    hear(shipment_logger, now - timedelta(minutes=14))

    assert monitoring.raise_signal_losses(now=now) == 0
    assert monitoring.raise_signal_losses(now=now + timedelta(minutes=2)) == 1


def test_silence_counts_from_departure_when_nothing_was_heard(shipment_logger, shipment):
    departed = timezone.now() - timedelta(minutes=10)
    shipment.departed_at = departed
    shipment.save()

    assert monitoring.raise_signal_losses(now=departed + timedelta(minutes=15)) == 0
    assert monitoring.raise_signal_losses(now=departed + timedelta(minutes=16)) == 1


def test_a_silent_store_raises_an_alert(store_logger, store):
    now = timezone.now()
    hear(store_logger, now - timedelta(minutes=40))

    assert monitoring.raise_signal_losses(now=now) == 1
    assert Alert.objects.get().store == store


@pytest.mark.parametrize(
    "status", [ShipmentStatus.PLANNED, ShipmentStatus.DELIVERED, ShipmentStatus.CANCELLED]
)
def test_only_shipments_in_transit_are_watched_for_signal(shipment_logger, shipment, status):
    shipment.status = status
    shipment.save()

    assert monitoring.raise_signal_losses(now=timezone.now()) == 0


def test_an_ended_assignment_is_not_watched(shipment_logger):
    LoggerAssignment.objects.update(ends_at=timezone.now() - timedelta(minutes=1))

    assert monitoring.raise_signal_losses(now=timezone.now()) == 0


def test_after_the_signal_came_back_a_new_silence_raises_a_new_alert(shipment_logger):
    now = timezone.now()
    assert monitoring.raise_signal_losses(now=now - timedelta(minutes=60)) == 1
    hear(shipment_logger, now - timedelta(minutes=50))  # resolves it
    assert Alert.objects.get().resolved_at is not None

    assert monitoring.raise_signal_losses(now=now) == 1

    assert Alert.objects.filter(kind=AlertKind.SIGNAL_LOST).count() == 2
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 1


def test_one_query_finds_the_candidates(shipment, store, django_assert_max_num_queries):
    now = timezone.now()
    for n in range(3):  # silent since the departure two hours ago
        logger, _secret = register_logger(device_id=f"LOG-SILENT-{n}")
        assign_logger(logger=logger, subject=shipment, starts_at=now - timedelta(hours=3))
    for n in range(2):  # heard a minute ago
        logger, _secret = register_logger(device_id=f"LOG-HEARD-{n}")
        assign_logger(logger=logger, subject=store, starts_at=now - timedelta(hours=3))
        hear(logger, now - timedelta(minutes=1))
    logger, _secret = register_logger(device_id="LOG-LATER")
    assign_logger(logger=logger, subject=store, starts_at=now + timedelta(hours=1))

    with django_assert_max_num_queries(20) as captured:
        assert monitoring.raise_signal_losses(now=now) == 3

    statements = [query["sql"].split()[0] for query in captured.captured_queries]
    assert statements.count("SELECT") == 1  # the candidates; then one INSERT per alert
    assert statements.count("INSERT") == 3


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_through_a_real_worker_alerts_once(celery_worker_live, shipment_logger):
    first = raise_signal_losses_task.delay().get(timeout=30)
    second = raise_signal_losses_task.delay().get(timeout=30)

    assert (first, second) == (1, 0)
    assert Alert.objects.filter(kind=AlertKind.SIGNAL_LOST).count() == 1
