"""Mean kinetic temperature and the consumed-life arithmetic, without a database."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from coldchain.kinetics import (
    CHILLING_PENALTY_PER_DEGREE_C,
    TemperatureExposure,
    consumed_life,
    exposure_of_stretch,
    held_intervals,
    mean_kinetic_temperature,
    mean_kinetic_temperature_of,
    spoilage_rate,
)
from farms.choices import ShelfLifeModel
from farms.models import StorageProfile

T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
ENERGY_OVER_R = 10_000.0  # ΔH/R for ΔH = 83.144 kJ/mol, R = 8.3144 J/(mol·K) (USP <1160>)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def closed_form_mkt(weighted: list[tuple[float, float]]) -> float:
    """The Haynes formula written out, in °C, for the tests to compare against."""
    total = sum(weight for _temperature, weight in weighted)
    mean = sum(weight * math.exp(-ENERGY_OVER_R / (t + 273.15)) for t, weight in weighted) / total
    return ENERGY_OVER_R / -math.log(mean) - 273.15


# Mean kinetic temperature: published examples


def test_mkt_matches_a_published_example_of_equally_spaced_readings():
    # zelti/mkt, "Mean kinetic temperature aggregate function for postgres", README, "Usage
    # example": INSERT INTO data VALUES (2), (2), (5), (8), (8), (8), (8); select mkt(temp)
    # → 6.25 (ΔH = 83.14472 kJ/mol, R = 0.008314472 kJ/(mol·K), 273.15, two decimals).
    # https://github.com/zelti/mkt/blob/master/README.md
    assert mean_kinetic_temperature_of([2, 2, 5, 8, 8, 8, 8]) == pytest.approx(6.25, abs=0.01)


def test_mkt_matches_a_published_time_weighted_example():
    # Isopharm, "What is Mean Kinetic Temperature?": "A product is sat in a 20 °C room for
    # 2 hours, in 2 °C refrigeration for 4 hours, and on a 25 °C loading dock for 1 hour. Using
    # MKT we can calculate that temperature profile of the product was 'thermally equivalent'
    # to storing them at 15.7 °C for 7 hours." (published to 0.1 °C; the formula gives 15.68).
    # https://systems.isopharm.co.uk/mean-kinetic-temperature/
    samples = [(T0, 20.0), (T0 + hours(2), 2.0), (T0 + hours(6), 25.0)]

    mkt = mean_kinetic_temperature(samples, until=T0 + hours(7))

    assert round(mkt, 1) == 15.7
    assert mkt == pytest.approx(closed_form_mkt([(20, 2), (2, 4), (25, 1)]), abs=1e-9)
    assert mkt == pytest.approx(15.68, abs=0.01)


# Mean kinetic temperature: hand-checkable cases


@pytest.mark.parametrize("temperature", [-18.0, 0.0, 4.0, 25.0])
def test_mkt_of_a_constant_temperature_is_that_temperature(temperature):
    samples = [(T0 + timedelta(minutes=10 * i), temperature) for i in range(50)]

    assert mean_kinetic_temperature(samples) == pytest.approx(temperature, abs=1e-9)
    assert mean_kinetic_temperature_of([temperature] * 7) == pytest.approx(temperature, abs=1e-9)


def test_mkt_of_two_equal_halves_is_the_closed_form():
    # Half the time at 2 °C, half at 8 °C: TK = 10000 / −ln((e^(−10000/275.15) +
    # e^(−10000/281.15)) / 2) = 278.69 K, i.e. 5.54 °C, above the arithmetic mean of 5 °C.
    samples = [(T0, 2.0), (T0 + hours(12), 8.0)]

    mkt = mean_kinetic_temperature(samples, until=T0 + hours(24))

    expected_k = ENERGY_OVER_R / -math.log(
        (math.exp(-ENERGY_OVER_R / 275.15) + math.exp(-ENERGY_OVER_R / 281.15)) / 2
    )
    assert mkt == pytest.approx(expected_k - 273.15, abs=1e-9)
    assert mkt == pytest.approx(5.54, abs=0.01)


def test_mkt_weighs_each_sample_by_the_time_until_the_next():
    # 23 h at 4 °C then 1 h at 25 °C, sampled unevenly: the spike counts for one hour.
    samples = [(T0, 4.0), (T0 + hours(3), 4.0), (T0 + hours(23), 25.0)]

    mkt = mean_kinetic_temperature(samples, until=T0 + hours(24))

    assert mkt == pytest.approx(closed_form_mkt([(4, 23), (25, 1)]), abs=1e-9)


def test_without_until_the_last_sample_weighs_the_mean_interval():
    # Evenly spaced: the time-weighted MKT is the textbook formula with n in the denominator.
    temperatures = [3.0, 5.5, 4.0, 12.0, 2.0]
    samples = [(T0 + hours(i), t) for i, t in enumerate(temperatures)]

    assert mean_kinetic_temperature(samples) == pytest.approx(
        mean_kinetic_temperature_of(temperatures), abs=1e-9
    )


def test_mkt_uses_the_activation_energy_given():
    samples = [(T0, 20.0), (T0 + hours(2), 2.0), (T0 + hours(6), 25.0)]

    lower = mean_kinetic_temperature(samples, until=T0 + hours(7), activation_energy_kj_mol=60)

    assert lower == pytest.approx(14.34, abs=0.01)


def test_mkt_without_samples_is_none():
    assert mean_kinetic_temperature([]) is None
    assert mean_kinetic_temperature_of([]) is None


def test_held_intervals_cap_a_gap_at_the_longest_hold():
    samples = [(T0, 4.0), (T0 + timedelta(minutes=10), 5.0), (T0 + hours(3), 6.0)]

    held = held_intervals(samples, until=T0 + hours(4), max_hold=timedelta(minutes=15))

    assert held == [(4.0, 600.0), (5.0, 900.0), (6.0, 900.0)]


# Shelf life arithmetic


def profile(**values) -> StorageProfile:
    """An unsaved storage profile: the model's own relative_rate, no database."""
    defaults = {
        "min_temperature_c": Decimal("0.0"),
        "max_temperature_c": Decimal("2.0"),
        "nominal_shelf_life_days": 14,
        "reference_temperature_c": Decimal("0.0"),
        "lowest_safe_temperature_c": None,
        "shelf_life_model": ShelfLifeModel.Q10,
        "q10": Decimal("2.10"),
    }
    return StorageProfile(**{**defaults, **values})


def banana() -> StorageProfile:
    # The catalogue's FRT-BANANA: 13–14 °C, 7 days at 13 °C, Q10 2.5, chilling below 11.5 °C.
    return profile(
        min_temperature_c=Decimal("13.0"),
        max_temperature_c=Decimal("14.0"),
        nominal_shelf_life_days=7,
        reference_temperature_c=Decimal("13.0"),
        lowest_safe_temperature_c=Decimal("11.5"),
        q10=Decimal("2.50"),
    )


def test_spoilage_rate_follows_the_model_inside_the_band_and_above():
    lettuce = profile()

    assert spoilage_rate(lettuce, 0.0) == pytest.approx(1.0)
    assert spoilage_rate(lettuce, 10.0) == pytest.approx(2.1)
    assert spoilage_rate(lettuce, 5.0) == pytest.approx(2.1**0.5)


def test_cold_never_extends_the_life_of_a_chilling_sensitive_product():
    product = banana()
    at_threshold = spoilage_rate(product, 11.5)

    rates = [spoilage_rate(product, t / 2) for t in range(-4, 24)]  # −2 … 11.5 °C

    assert all(rate >= at_threshold for rate in rates)
    assert rates == sorted(rates, reverse=True)  # colder is worse
    assert spoilage_rate(product, 8.0) == pytest.approx(
        2.5 ** ((11.5 - 13) / 10) * (1 + CHILLING_PENALTY_PER_DEGREE_C * 3.5)
    )
    assert spoilage_rate(product, 8.0) > product.relative_rate(8.0)  # the Q10 model alone


def test_cold_below_the_band_of_a_hardy_product_is_counted_at_the_bands_bottom():
    lettuce = profile()
    sqrt_model = profile(
        shelf_life_model=ShelfLifeModel.SQRT, sqrt_minimum_temperature_c=Decimal("-10.0")
    )

    assert spoilage_rate(lettuce, -3.0) == pytest.approx(1.0)
    assert spoilage_rate(sqrt_model, -12.0) == pytest.approx(1.0)  # not 0: no endless life


def test_consumed_life_adds_time_over_shelf_life_and_counts_unmonitored_at_the_top():
    exposure = TemperatureExposure()
    exposure.add(0.0, 24 * 3600)
    exposure.add(10.0, 12 * 3600)
    exposure.add_unmonitored(12 * 3600)

    life = consumed_life(profile(), exposure)

    expected = (1.0 + 0.5 * 2.1 + 0.5 * 2.1 ** (2 / 10)) / 14
    assert life.consumed_fraction == pytest.approx(expected)
    assert life.remaining_days == pytest.approx(14 * (1 - expected))
    assert (life.monitored_hours, life.unmonitored_hours) == (36.0, 12.0)
    assert life.chilling_hours == 0.0


def test_consumed_life_never_leaves_negative_days():
    exposure = TemperatureExposure()
    exposure.add(20.0, 30 * 24 * 3600)

    life = consumed_life(profile(), exposure)

    assert life.consumed_fraction > 1
    assert life.remaining_days == 0.0


def test_a_stretch_holds_each_reading_until_the_next_and_a_long_gap_is_unmonitored():
    minutes = [0, 10, 20, 90, 100]  # the 70-minute gap is beyond a 15-minute signal timeout
    readings = [(T0 + timedelta(minutes=m), float(i)) for i, m in enumerate(minutes)]

    exposure = exposure_of_stretch(
        readings,
        start=T0 - timedelta(minutes=5),
        end=T0 + timedelta(minutes=110),
        max_gap=timedelta(minutes=15),
    )

    assert exposure.seconds_at == {0.0: 900.0, 1.0: 600.0, 3.0: 600.0, 4.0: 600.0}
    assert exposure.unmonitored_seconds == 70 * 60.0


def test_a_stretch_without_readings_is_unmonitored():
    exposure = exposure_of_stretch([], start=T0, end=T0 + hours(5), max_gap=timedelta(minutes=15))

    assert exposure.seconds_at == {}
    assert exposure.unmonitored_seconds == 5 * 3600.0


def test_profile_protocol_needs_only_the_storage_fields():
    # Anything shaped like a storage profile will do (the arithmetic is ORM-free).
    fake = SimpleNamespace(
        nominal_shelf_life_days=10,
        reference_temperature_c=Decimal("5"),
        min_temperature_c=Decimal("5"),
        max_temperature_c=Decimal("8"),
        lowest_safe_temperature_c=None,
        relative_rate=lambda t: 2.0 ** ((float(t) - 5) / 10),
    )
    exposure = TemperatureExposure()
    exposure.add(15.0, 5 * 24 * 3600)

    assert consumed_life(fake, exposure).remaining_days == pytest.approx(0.0)
