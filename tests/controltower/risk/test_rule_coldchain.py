"""The cold chain's rules: shelf life on arrival, silent loggers, excursions left open."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from coldchain.choices import ExcursionKind, ShipmentStatus
from coldchain.models import DataLogger, Excursion, ShipmentLot
from coldchain.services.registry import assign_logger, register_logger
from controltower.models import RiskWarning
from controltower.risk.kinds import RiskKind
from controltower.services.risk import evaluate_all_rules
from tests.coldchain.factories import ColdStoreFactory, ShipmentFactory
from tests.farms.factories import HarvestLotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lettuce_lot(catalogue, farm):
    """lettuce_lot(days_ago) → a lot of lettuce (14 days at 0 °C) harvested days ago."""

    def make(days_ago: int):
        return HarvestLotFactory(
            product=catalogue["VEG-LETTUCE"],
            farm=farm,
            quantity_kg=Decimal("500"),
            harvest_date=timezone.localdate() - timedelta(days=days_ago),
        )

    return make


def carrying(*lots):
    """An in-transit shipment arriving in four hours, carrying the lots."""
    shipment = ShipmentFactory()
    for lot in lots:
        ShipmentLot.objects.create(shipment=shipment, lot=lot, quantity_kg=Decimal("100"))
    return shipment


# --- Shelf life on arrival -----------------------------------------------------------------


def test_shipment_of_a_lot_nearly_spent_raises_one_warning(rule_of, lettuce_lot):
    rule_of(RiskKind.SHELF_LIFE_ON_ARRIVAL, min_remaining_pct=40)
    old, fresh = lettuce_lot(30), lettuce_lot(1)
    shipment = carrying(old, fresh)

    evaluate_all_rules()
    evaluate_all_rules()

    warning = RiskWarning.objects.get()
    assert warning.subject == shipment
    assert [lot["lot_code"] for lot in warning.figures["lots"]] == [old.lot_code]
    assert warning.figures["lots"][0]["days_left_on_arrival"] == 0
    assert warning.figures["lots"][0]["days_needed"] == 5.6  # 40 % of 14 days


def test_shipment_of_fresh_lots_raises_nothing(rule_of, lettuce_lot):
    rule_of(RiskKind.SHELF_LIFE_ON_ARRIVAL, min_remaining_pct=40)
    carrying(lettuce_lot(1))

    evaluate_all_rules()

    assert not RiskWarning.objects.exists()


def test_shelf_life_warning_resolves_once_the_shipment_has_arrived(rule_of, lettuce_lot):
    rule_of(RiskKind.SHELF_LIFE_ON_ARRIVAL)
    shipment = carrying(lettuce_lot(30))
    evaluate_all_rules()

    shipment.status = ShipmentStatus.DELIVERED
    shipment.arrived_at = timezone.now()
    shipment.save(update_fields=["status", "arrived_at"])
    evaluate_all_rules()

    assert RiskWarning.objects.get().resolved_at is not None


# --- Silent loggers --------------------------------------------------------------------------


def watching(subject, *, hours_ago: float = 3) -> DataLogger:
    logger, _secret = register_logger(device_id=f"LOG-RISK-{subject.pk}-{hours_ago}")
    assign_logger(
        logger=logger, subject=subject, starts_at=timezone.now() - timedelta(hours=hours_ago)
    )
    return logger


def test_logger_silent_past_the_limit_raises_one_warning(rule_of):
    rule_of(RiskKind.LOGGER_SILENT, max_silence_minutes=30)
    logger = watching(ShipmentFactory())
    DataLogger.objects.filter(pk=logger.pk).update(
        last_reading_at=timezone.now() - timedelta(minutes=45)
    )

    evaluate_all_rules()
    evaluate_all_rules()

    warning = RiskWarning.objects.get()
    assert warning.subject == logger
    assert warning.figures["silent_minutes"] in (45, 46)
    assert warning.figures["watching_kind"] == "shipment"


def test_logger_that_never_spoke_counts_from_the_start_of_its_watch(rule_of):
    rule_of(RiskKind.LOGGER_SILENT, max_silence_minutes=30)
    watching(ColdStoreFactory(), hours_ago=2)

    evaluate_all_rules()

    assert RiskWarning.objects.get().figures["watching_kind"] == "store"


def test_logger_heard_recently_raises_nothing(rule_of):
    rule_of(RiskKind.LOGGER_SILENT, max_silence_minutes=30)
    logger = watching(ShipmentFactory())
    DataLogger.objects.filter(pk=logger.pk).update(
        last_reading_at=timezone.now() - timedelta(minutes=5)
    )

    evaluate_all_rules()

    assert not RiskWarning.objects.exists()


def test_silent_logger_warning_resolves_when_it_speaks_again(rule_of):
    rule_of(RiskKind.LOGGER_SILENT, max_silence_minutes=30)
    logger = watching(ShipmentFactory())
    evaluate_all_rules()

    DataLogger.objects.filter(pk=logger.pk).update(last_reading_at=timezone.now())
    evaluate_all_rules()

    assert RiskWarning.objects.get().resolved_at is not None


# --- Excursions left open --------------------------------------------------------------------


def excursion_since(minutes_ago: int, **more) -> Excursion:
    shipment = ShipmentFactory()
    logger, _secret = register_logger(device_id=f"LOG-EXC-{shipment.pk}")
    assignment = assign_logger(
        logger=logger, subject=shipment, starts_at=timezone.now() - timedelta(hours=5)
    )
    started = timezone.now() - timedelta(minutes=minutes_ago)
    return Excursion.objects.create(
        assignment=assignment,
        shipment=shipment,
        kind=ExcursionKind.TOO_WARM,
        limit_c=4.0,
        started_at=started,
        confirmed_at=started + timedelta(minutes=10),
        peak_c=9.5,
        **more,
    )


def test_excursion_open_past_the_limit_raises_one_warning(rule_of):
    rule_of(RiskKind.EXCURSION_OPEN, max_open_minutes=60)
    excursion = excursion_since(90)

    evaluate_all_rules()
    evaluate_all_rules()

    warning = RiskWarning.objects.get()
    assert warning.subject == excursion
    assert warning.figures["peak_c"] == 9.5
    assert warning.figures["open_minutes"] in (90, 91)  # the clock may turn a minute


def test_young_or_ended_excursion_raises_nothing(rule_of):
    rule_of(RiskKind.EXCURSION_OPEN, max_open_minutes=60)
    excursion_since(30)
    excursion_since(120, ended_at=timezone.now() - timedelta(minutes=5))

    evaluate_all_rules()

    assert not RiskWarning.objects.exists()
