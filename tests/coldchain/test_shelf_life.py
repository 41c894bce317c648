"""Remaining shelf life of lots from their readings, and a subject's temperature summary.

Expected values are worked by hand from produce-storage.md's consumed-life model:
f = Σ Δt / SL(T), SL(T) = SL_ref / r(T), remaining = SL_ref · (1 − f)."""

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coldchain.choices import ShipmentStatus
from coldchain.exceptions import ColdChainError
from coldchain.kinetics import (
    CHILLING_PENALTY_PER_DEGREE_C,
    held_intervals,
    weighted_mean_kinetic_temperature,
)
from coldchain.models import LotCondition, Reading, ShipmentLot
from coldchain.services.registry import assign_logger
from coldchain.shelf_life import (
    TemperatureSummary,
    evaluate_lot_condition,
    harvested_at,
    refresh_lot_conditions,
    temperature_summary,
)
from farms.choices import ShelfLifeModel
from farms.models.catalogue import GAS_CONSTANT_J_PER_MOL_K
from tests.coldchain.factories import ColdStoreFactory, ShipmentFactory
from tests.coldchain.shipment_factories import carry, hours, new_logger, record
from tests.farms.factories import HarvestLotFactory, ProductFactory

HARVEST_DAY = date(2026, 11, 27)
HARVESTED = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # 08:00 in Beijing
LETTUCE_AT_BAND_TOP = 2.1 ** (2 / 10)  # lettuce: Q10 2.1, reference 0 °C, band 0–2 °C


@pytest.fixture
def lettuce(catalogue):
    return catalogue["VEG-LETTUCE"]


@pytest.fixture
def banana(catalogue):
    return catalogue["FRT-BANANA"]


def lot_of(product, farm, harvest_date: date = HARVEST_DAY):
    return HarvestLotFactory(product=product, farm=farm, harvest_date=harvest_date)


def test_the_clock_starts_at_eight_in_the_morning_beijing_time(lettuce, farm):
    lot = lot_of(lettuce, farm)

    assert harvested_at(lot) == HARVESTED


# Constant temperatures


def test_at_the_reference_temperature_a_lot_uses_time_over_its_nominal_life(lettuce, farm):
    lot = lot_of(lettuce, farm)
    carry(lot, departed_at=HARVESTED, pieces=[(48, 0.0)])
    now = HARVESTED + hours(48)

    evaluate_lot_condition(lot=lot, now=now)

    condition = LotCondition.objects.get(lot=lot)
    assert condition.consumed_fraction == pytest.approx(2 / 14)  # 2 days of 14 at 0 °C
    assert condition.remaining_days == pytest.approx(12.0)
    assert condition.expected_expiry_at == now + timedelta(days=12)
    assert condition.evaluated_at == now
    assert (condition.monitored_hours, condition.unmonitored_hours) == (48.0, 0.0)
    assert condition.chilling_hours == 0.0


def test_a_constant_warmer_temperature_scales_by_q10(lettuce, farm):
    lot = lot_of(lettuce, farm)
    carry(lot, departed_at=HARVESTED, pieces=[(48, 10.0)])

    condition = evaluate_lot_condition(lot=lot, now=HARVESTED + hours(48))

    # 10 °C above the reference with Q10 = 2.1: life runs 2.1 times as fast.
    assert condition.consumed_fraction == pytest.approx(2 * 2.1 / 14)  # 0.3
    assert condition.remaining_days == pytest.approx(9.8)


def test_a_constant_warmer_temperature_scales_by_arrhenius(farm):
    product = ProductFactory(
        storage_profile__shelf_life_model=ShelfLifeModel.ARRHENIUS,
        storage_profile__activation_energy_kj_mol=Decimal("70.70"),
    )
    lot = lot_of(product, farm)
    carry(lot, departed_at=HARVESTED, pieces=[(48, 10.0)])

    condition = evaluate_lot_condition(lot=lot, now=HARVESTED + hours(48))

    # k(10 °C)/k(0 °C) = exp(Ea/R · (1/273.15 − 1/283.15)); 70.7 kJ/mol is Q10 = 3 on 0–10 °C
    # (produce-storage.md, "Arrhenius").
    rate = math.exp(70_700 / GAS_CONSTANT_J_PER_MOL_K * (1 / 273.15 - 1 / 283.15))
    assert rate == pytest.approx(3.00, abs=0.01)
    assert condition.consumed_fraction == pytest.approx(2 * rate / 14)
    assert condition.remaining_days == pytest.approx(14 * (1 - 2 * rate / 14))


# Varying temperatures


def test_varying_temperatures_add_up_piece_by_piece(lettuce, farm):
    lot = lot_of(lettuce, farm)
    carry(lot, departed_at=HARVESTED, pieces=[(12, 0.0), (12, 5.0), (24, 10.0)])

    condition = evaluate_lot_condition(lot=lot, now=HARVESTED + hours(48))

    # Half a day at 0 °C (rate 1), half a day at 5 °C (2.1^0.5), a day at 10 °C (2.1).
    used_days = 0.5 * 1 + 0.5 * 2.1**0.5 + 1 * 2.1
    assert condition.consumed_fraction == pytest.approx(used_days / 14)  # 0.2375
    assert condition.remaining_days == pytest.approx(14 - used_days)
    assert condition.monitored_hours == 48.0


# Chilling injury


def test_cold_never_gains_life_for_a_chilling_sensitive_product_and_counts_its_hours(banana, farm):
    kept_right = lot_of(banana, farm)
    chilled = lot_of(banana, farm)
    carry(kept_right, departed_at=HARVESTED, pieces=[(48, 13.0)])
    carry(chilled, departed_at=HARVESTED, pieces=[(24, 13.0), (24, 8.0)])
    now = HARVESTED + hours(48)

    right = evaluate_lot_condition(lot=kept_right, now=now)
    cold = evaluate_lot_condition(lot=chilled, now=now)

    # Banana: 7 days at 13 °C, Q10 2.5, lowest safe 11.5 °C. At 8 °C the Q10 model alone
    # would slow it to 2.5^−0.5 = 0.63; instead: rate at 11.5 °C × (1 + penalty × 3.5 °C).
    chilled_rate = 2.5 ** ((11.5 - 13) / 10) * (1 + CHILLING_PENALTY_PER_DEGREE_C * 3.5)
    model_alone = 7 - (1 + 2.5**-0.5)
    assert right.remaining_days == pytest.approx(5.0)
    assert cold.consumed_fraction == pytest.approx((1 + chilled_rate) / 7)
    assert cold.remaining_days < right.remaining_days < model_alone
    assert (right.chilling_hours, cold.chilling_hours) == (0.0, 24.0)


# Time nobody measured


def test_a_lot_never_shipped_is_counted_at_the_top_of_its_band(lettuce, farm):
    lot = lot_of(lettuce, farm)

    condition = evaluate_lot_condition(lot=lot, now=HARVESTED + hours(30))

    assert condition.consumed_fraction == pytest.approx(30 / 24 * LETTUCE_AT_BAND_TOP / 14)
    assert (condition.monitored_hours, condition.unmonitored_hours) == (0.0, 30.0)


def test_time_before_departure_after_arrival_and_in_a_long_gap_is_unmonitored(lettuce, farm):
    lot = lot_of(lettuce, farm)
    # Leaves six hours after harvest, a day on the road at 0 °C with no readings for an hour
    # (10:00–11:00 into the trip; the gap 9:50–11:00 exceeds the 15-minute signal timeout).
    carry(lot, departed_at=HARVESTED + hours(6), pieces=[(24, 0.0)], skip=[(10, 11)])
    now = HARVESTED + hours(32)  # two hours after arrival

    condition = evaluate_lot_condition(lot=lot, now=now)

    unmonitored = 6 + 70 / 60 + 2
    monitored = 24 - 70 / 60
    assert condition.unmonitored_hours == pytest.approx(unmonitored)
    assert condition.monitored_hours == pytest.approx(monitored)
    assert condition.consumed_fraction == pytest.approx(
        (monitored + unmonitored * LETTUCE_AT_BAND_TOP) / (14 * 24)
    )


def test_a_lot_not_yet_harvested_has_its_whole_life(lettuce, farm):
    lot = lot_of(lettuce, farm)

    condition = evaluate_lot_condition(lot=lot, now=HARVESTED - hours(1))

    assert condition.consumed_fraction == 0.0
    assert condition.remaining_days == 14.0


def test_evaluating_again_replaces_the_lots_condition(lettuce, farm):
    lot = lot_of(lettuce, farm)
    evaluate_lot_condition(lot=lot, now=HARVESTED + hours(24))

    evaluate_lot_condition(lot=lot, now=HARVESTED + hours(48))

    condition = LotCondition.objects.get(lot=lot)
    assert condition.evaluated_at == HARVESTED + hours(48)
    assert condition.unmonitored_hours == 48.0


def test_a_product_without_a_storage_profile_is_refused(farm):
    lot = lot_of(ProductFactory(storage_profile=None), farm)

    with pytest.raises(ColdChainError):
        evaluate_lot_condition(lot=lot, now=HARVESTED + hours(1))

    assert not LotCondition.objects.exists()


# The beat task's refresh


def test_refresh_scores_lots_on_active_and_recently_arrived_shipments(lettuce, farm):
    now = HARVESTED + timedelta(days=20)
    in_transit = lot_of(lettuce, farm)
    carry(
        in_transit,
        departed_at=now - hours(5),
        pieces=[(5, 1.0)],
        status=ShipmentStatus.IN_TRANSIT,
        arrived=False,
    )
    arrived_lately = lot_of(lettuce, farm)
    carry(arrived_lately, departed_at=now - timedelta(days=3), pieces=[(24, 1.0)])
    arrived_long_ago = lot_of(lettuce, farm)
    carry(arrived_long_ago, departed_at=now - timedelta(days=12), pieces=[(24, 1.0)])
    cancelled = lot_of(lettuce, farm)
    ShipmentLot.objects.create(
        shipment=ShipmentFactory(status=ShipmentStatus.CANCELLED, departed_at=None),
        lot=cancelled,
        quantity_kg=Decimal("5"),
    )

    refreshed = refresh_lot_conditions(now=now)

    assert refreshed == 2
    assert set(LotCondition.objects.values_list("lot_id", flat=True)) == {
        in_transit.pk,
        arrived_lately.pk,
    }
    assert LotCondition.objects.get(lot=in_transit).monitored_hours == pytest.approx(5.0)


def test_refresh_scores_a_lots_whole_journey(lettuce, farm):
    lot = lot_of(lettuce, farm)
    carry(lot, departed_at=HARVESTED, pieces=[(10, 0.0)])  # to the packhouse
    carry(  # on to the market, under way now
        lot,
        departed_at=HARVESTED + hours(14),
        pieces=[(6, 0.0)],
        status=ShipmentStatus.IN_TRANSIT,
        arrived=False,
    )
    now = HARVESTED + hours(20)

    refresh_lot_conditions(now=now)

    condition = LotCondition.objects.get(lot=lot)
    assert (condition.monitored_hours, condition.unmonitored_hours) == (16.0, 4.0)
    assert condition.consumed_fraction == pytest.approx((16 + 4 * LETTUCE_AT_BAND_TOP) / (14 * 24))


def test_refresh_reads_a_shipments_readings_once_for_all_its_lots(lettuce, farm):
    now = HARVESTED + hours(30)
    first = lot_of(lettuce, farm)
    shipment = carry(
        first,
        departed_at=HARVESTED,
        pieces=[(30, 1.0)],
        status=ShipmentStatus.IN_TRANSIT,
        arrived=False,
    )
    with CaptureQueriesContext(connection) as one_lot:
        refresh_lot_conditions(now=now)
    for _ in range(4):
        ShipmentLot.objects.create(
            shipment=shipment, lot=lot_of(lettuce, farm), quantity_kg=Decimal("5")
        )

    with CaptureQueriesContext(connection) as five_lots:
        refreshed = refresh_lot_conditions(now=now)

    assert refreshed == 5
    assert len(five_lots.captured_queries) == len(one_lot.captured_queries)
    assert len(set(LotCondition.objects.values_list("consumed_fraction", flat=True))) == 1


# Temperature summary


def test_temperature_summary_of_a_shipment_is_time_weighted(lettuce, farm):
    shipment = carry(lot_of(lettuce, farm), departed_at=HARVESTED, pieces=[(6, 2.0), (1, 8.0)])

    summary = temperature_summary(subject=shipment, start=HARVESTED, end=HARVESTED + hours(7))

    hot = math.exp(-10_000 / (8 + 273.15))
    cool = math.exp(-10_000 / (2 + 273.15))
    mkt = 10_000 / -math.log((6 * cool + 1 * hot) / 7) - 273.15
    assert summary == TemperatureSummary(
        readings=42,
        min_c=2.0,
        max_c=8.0,
        mean_c=round((6 * 2 + 1 * 8) / 7, 2),  # 2.86
        mkt_c=round(mkt, 2),
    )


def test_temperature_summary_keeps_to_its_window(lettuce, farm):
    shipment = carry(lot_of(lettuce, farm), departed_at=HARVESTED, pieces=[(6, 2.0), (1, 8.0)])

    warm_hour = temperature_summary(subject=shipment, start=HARVESTED + hours(6))
    before = temperature_summary(subject=shipment, end=HARVESTED)

    assert warm_hour == TemperatureSummary(6, 8.0, 8.0, 8.0, 8.0)
    assert before == TemperatureSummary(0, None, None, None, None)


def test_temperature_summary_of_a_cold_store(db):
    store = ColdStoreFactory()
    logger = new_logger()
    assign_logger(logger=logger, subject=store, starts_at=HARVESTED)
    record(logger, HARVESTED, [(2, 3.0), (2, 5.0)])

    summary = temperature_summary(subject=store)

    assert (summary.readings, summary.min_c, summary.max_c, summary.mean_c) == (24, 3.0, 5.0, 4.0)
    halves = (math.exp(-10_000 / 276.15) + math.exp(-10_000 / 278.15)) / 2
    assert summary.mkt_c == round(10_000 / -math.log(halves) - 273.15, 2)  # 4.06


@pytest.mark.parametrize("end_minutes", [None, 140])
def test_temperature_summary_weighs_readings_as_the_kinetics_do(db, end_minutes):
    # Uneven readings with a 75-minute gap in a store with a 15-minute signal timeout: the SQL
    # aggregate and coldchain.kinetics give the same time-weighted mean and MKT.
    store = ColdStoreFactory()
    logger = new_logger()
    assign_logger(logger=logger, subject=store, starts_at=HARVESTED)
    points = [(0, 2.0), (7, 4.5), (20, 9.0), (95, 3.0), (101, 12.5), (130, 1.0)]
    samples = [(HARVESTED + timedelta(minutes=minute), c) for minute, c in points]
    Reading.objects.bulk_create(
        [Reading(logger=logger, recorded_at=at, temperature_c=c) for at, c in samples]
    )
    end = HARVESTED + timedelta(minutes=end_minutes) if end_minutes else None

    summary = temperature_summary(subject=store, end=end)

    held = held_intervals(samples, until=end, max_hold=timedelta(minutes=15))
    weight = sum(seconds for _c, seconds in held)
    assert summary.readings == 6
    assert summary.mean_c == round(sum(c * seconds for c, seconds in held) / weight, 2)
    assert summary.mkt_c == round(weighted_mean_kinetic_temperature(held), 2)
