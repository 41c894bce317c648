"""A logger cannot rewrite closed history: readings for a watch that ended longer ago than the
late window are refused, late ones are flagged (records, charts, the shipment page), an
excursion that late readings refute is kept as disputed with its alert, and a delivered lot's
shelf life is not improved by readings uploaded after the delivery."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client, override_settings
from django.utils import timezone, translation

from coldchain import ingest
from coldchain.choices import ShipmentStatus
from coldchain.exceptions import IngestRejected
from coldchain.models import Alert, Excursion, LoggerAssignment, Reading, ShipmentLot
from coldchain.selectors.alerts import alert_payload
from coldchain.series import reading_series
from coldchain.services.alerts import acknowledge_alert
from coldchain.services.registry import assign_logger
from coldchain.shelf_life import assess_lot_condition
from tests.coldchain.factories import ShipmentFactory
from tests.farms.factories import HarvestLotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def row(moment, temperature_c: float = 3.0) -> dict:
    return {"recorded_at": moment.isoformat(), "temperature_c": temperature_c}


def watch(logger, subject, *, starts_at, ends_at=None, **more) -> LoggerAssignment:
    assignment = assign_logger(logger=logger, subject=subject, starts_at=starts_at, ends_at=ends_at)
    if more:
        LoggerAssignment.objects.filter(pk=assignment.pk).update(**more)
    return assignment


# --- The late window ------------------------------------------------------------------------


@override_settings(COLDCHAIN_LATE_READING_HOURS=24)
def test_a_reading_for_a_watch_closed_longer_than_the_window_is_refused(data_logger, shipment):
    now = timezone.now().replace(microsecond=0)
    watch(
        data_logger,
        shipment,
        starts_at=now - timedelta(hours=48),
        ends_at=now - timedelta(hours=30),
    )
    rows = [row(now - timedelta(hours=40)), row(now - timedelta(minutes=1))]

    with pytest.raises(IngestRejected) as refusal:
        ingest.ingest_readings(logger=data_logger, rows=rows, now=now)

    assert refusal.value.errors == [
        {
            "index": 0,
            "field": "recorded_at",
            "message": "The logger's watch this reading belongs to ended more than 24 hours "
            "ago; its record is closed.",
        }
    ]
    assert not Reading.objects.exists()

    partial = ingest.ingest_readings(logger=data_logger, rows=rows, now=now, accept_partial=True)

    assert (partial.stored, [error["index"] for error in partial.rejected]) == (1, [0])
    assert list(Reading.objects.values_list("recorded_at", flat=True)) == [
        now - timedelta(minutes=1)
    ]


def test_an_assignment_may_carry_its_own_window(data_logger, shipment):
    now = timezone.now().replace(microsecond=0)
    watch(
        data_logger,
        shipment,
        starts_at=now - timedelta(hours=5),
        ends_at=now - timedelta(hours=2),
        late_window_hours=1,
    )

    with pytest.raises(IngestRejected):
        ingest.ingest_readings(logger=data_logger, rows=[row(now - timedelta(hours=3))], now=now)

    assert not Reading.objects.exists()


def test_late_readings_are_stored_flagged(data_logger, shipment, store):
    now = timezone.now().replace(microsecond=0)
    watch(
        data_logger, shipment, starts_at=now - timedelta(hours=5), ends_at=now - timedelta(hours=2)
    )
    watch(data_logger, store, starts_at=now - timedelta(hours=1))
    after_the_watch = now - timedelta(hours=3)  # its watch ended two hours ago
    long_after = now - timedelta(minutes=40)  # the store's patience is 15 minutes
    on_time = now - timedelta(minutes=2)

    result = ingest.ingest_readings(
        logger=data_logger, rows=[row(after_the_watch), row(long_after), row(on_time)], now=now
    )

    assert (result.stored, result.late) == (3, 2)
    assert dict(Reading.objects.values_list("recorded_at", "late")) == {
        after_the_watch: True,
        long_after: True,
        on_time: False,
    }


def test_charts_and_the_shipment_page_show_late_readings(
    data_logger, shipment, coldchain_controller
):
    now = timezone.now().replace(microsecond=0)
    watch(data_logger, shipment, starts_at=now - timedelta(hours=2))
    ingest.ingest_readings(
        logger=data_logger,
        rows=[row(now - timedelta(minutes=90)), row(now - timedelta(minutes=1))],
        now=now,
    )

    series = reading_series(shipment).as_dict()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(coldchain_controller)
    page = client.get(f"/coldchain/shipments/{shipment.pk}/").content.decode()

    assert series["late_readings"] == 1
    assert [point[3] for point in series["points"]] == [True, False]
    assert "1 reading arrived late" in page


# --- Refuted excursions keep their history ---------------------------------------------------


def test_in_range_readings_slipped_in_late_do_not_close_an_excursion_or_resolve_its_alert(
    shipment_logger, shipment, coldchain_controller
):
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=100)
    breach = [start + timedelta(minutes=5 * step) for step in range(13)]  # 60 minutes at 8 °C
    ingest.ingest_readings(
        logger=shipment_logger, rows=[row(moment, 8.0) for moment in breach], now=breach[-1]
    )
    confirmed = Excursion.objects.get()
    assert confirmed.ended_at is None
    assert Alert.objects.get().resolved_at is None

    # The device later slips an in-range reading one minute after each reading outside.
    slipped = [row(moment + timedelta(minutes=1), 3.0) for moment in breach]
    result = ingest.ingest_readings(
        logger=shipment_logger, rows=slipped, now=breach[-1] + timedelta(minutes=20)
    )

    assert (result.stored, result.late) == (13, 13)
    excursion = Excursion.objects.get()
    assert excursion.pk == confirmed.pk
    assert (excursion.started_at, excursion.confirmed_at, excursion.peak_c) == (
        confirmed.started_at,
        confirmed.confirmed_at,
        confirmed.peak_c,
    )
    assert excursion.ended_at is None  # not closed
    assert excursion.refuted_at is not None  # but recorded as disputed
    alert = Alert.objects.select_related("excursion").get()
    assert alert.resolved_at is None
    assert alert_payload(alert)["disputed"] is True

    # A person judges it: acknowledging a disputed alert resolves it.
    acknowledge_alert(alert=alert, by=coldchain_controller, note="Logger replaced.")
    alert.refresh_from_db()
    assert alert.resolved_at is not None


# --- Shelf life of delivered lots -------------------------------------------------------------


def test_readings_uploaded_after_delivery_do_not_improve_a_delivered_lots_shelf_life(
    data_logger, catalogue, farm
):
    now = timezone.now().replace(microsecond=0)
    departed, arrived = now - timedelta(hours=10), now - timedelta(hours=2)
    shipment = ShipmentFactory(
        status=ShipmentStatus.DELIVERED,
        departed_at=departed,
        arrived_at=arrived,
        planned_departure_at=departed,
        planned_arrival_at=arrived,
    )
    lot = HarvestLotFactory(
        product=catalogue["VEG-LETTUCE"], farm=farm, harvest_date=timezone.localdate()
    )
    ShipmentLot.objects.create(shipment=shipment, lot=lot, quantity_kg=Decimal("50"))
    watch(data_logger, shipment, starts_at=departed, ends_at=arrived)
    # What the receiver had at the handover: the first hour, then the logger fell silent.
    Reading.objects.bulk_create(
        Reading(
            logger=data_logger,
            recorded_at=departed + timedelta(minutes=10 * step),
            temperature_c=1.0,
            received_at=departed + timedelta(minutes=10 * step + 1),
        )
        for step in range(6)
    )
    before = assess_lot_condition(lot=lot, now=now)

    # Afterwards the logger uploads a perfect 0 °C for the silent hours.
    gap = [departed + timedelta(hours=1, minutes=10 * step) for step in range(42)]
    result = ingest.ingest_readings(
        logger=data_logger, rows=[row(moment, 0.0) for moment in gap], now=now
    )
    after = assess_lot_condition(lot=lot, now=now)

    assert (result.stored, result.late) == (42, 42)
    assert after.remaining_days <= before.remaining_days
    assert after.unmonitored_hours == pytest.approx(before.unmonitored_hours)
