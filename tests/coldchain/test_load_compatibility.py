"""Which products may travel together, from their bands alone: no database needed."""

from decimal import Decimal

import pytest
from django.utils import translation

from coldchain.exceptions import ColdChainError
from coldchain.load_compatibility import StorageBand, load_range, plain_number


def band(name, low, high, humidity=("90", "98")) -> StorageBand:
    return StorageBand(
        name=name,
        min_temperature_c=Decimal(low),
        max_temperature_c=Decimal(high),
        min_humidity_pct=Decimal(humidity[0]),
        max_humidity_pct=Decimal(humidity[1]),
    )


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_a_load_keeps_the_band_its_products_share():
    load = load_range([band("Lettuce", "0", "2"), band("Spinach", "0", "5")])

    assert (load.min_temperature_c, load.max_temperature_c) == (Decimal("0"), Decimal("2"))
    assert load.warnings == []


def test_bands_that_do_not_meet_are_refused_naming_the_pair():
    with pytest.raises(ColdChainError) as refusal:
        load_range([band("Banana", "13", "14"), band("Lettuce", "0", "2")])

    assert refusal.value.field == "lots"
    assert "Banana (13–14 °C) and Lettuce (0–2 °C)" in str(refusal.value.message)


def test_a_narrow_shared_band_and_humidities_apart_are_warned_about():
    load = load_range(
        [band("Lemon", "11", "12.5", ("85", "90")), band("Cucumber", "12", "13", ("95", "98"))]
    )

    assert (load.min_temperature_c, load.max_temperature_c) == (Decimal("12"), Decimal("12.5"))
    assert len(load.warnings) == 2
    assert "12–12.5 °C" in load.warnings[0]
    assert "different humidity" in load.warnings[1]


def test_nothing_to_carry_is_refused():
    with pytest.raises(ColdChainError):
        load_range([])


def test_numbers_are_printed_plainly():
    assert [plain_number(Decimal(v)) for v in ("13.0", "12.5", "10")] == ["13", "12.5", "10"]
