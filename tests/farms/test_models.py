import math
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from farms.choices import ShelfLifeModel
from farms.models import HarvestLot, StorageProfile
from tests.farms.factories import FarmFactory, HarvestLotFactory, StorageProfileFactory, square


def profile(**values) -> StorageProfile:
    defaults = {
        "min_temperature_c": Decimal("0"),
        "max_temperature_c": Decimal("2"),
        "reference_temperature_c": Decimal("0"),
        "nominal_shelf_life_days": 14,
        "shelf_life_model": ShelfLifeModel.Q10,
        "q10": Decimal("3.00"),
        "lowest_safe_temperature_c": None,
        "sources": {},
    }
    return StorageProfile(**{**defaults, **values})


def test_q10_model_shortens_life_by_q10_per_ten_degrees():
    strawberry = profile(q10=Decimal("3.2"), nominal_shelf_life_days=7)

    assert strawberry.relative_rate(Decimal("0")) == pytest.approx(1.0)
    assert strawberry.shelf_life_days_at(10) == pytest.approx(7 / 3.2)
    assert strawberry.shelf_life_days_at(20) == pytest.approx(7 / 3.2**2)


def test_arrhenius_model_matches_the_q10_it_was_derived_from():
    # Ea = R·ln(Q10)·T1·T2/10 for 0→10 °C; Q10 = 3 gives about 70.7 kJ/mol.
    energy_kj = 8.314462618 * math.log(3) * 273.15 * 283.15 / 10 / 1000
    arrhenius = profile(
        shelf_life_model=ShelfLifeModel.ARRHENIUS,
        q10=None,
        activation_energy_kj_mol=Decimal(f"{energy_kj:.2f}"),
    )

    assert energy_kj == pytest.approx(70.7, abs=0.1)
    assert arrhenius.relative_rate(10) == pytest.approx(3.0, rel=1e-3)


def test_square_root_model_stops_at_its_minimum_temperature():
    fish_like = profile(
        shelf_life_model=ShelfLifeModel.SQRT, q10=None, sqrt_minimum_temperature_c=Decimal("-10")
    )

    assert fish_like.relative_rate(10) == pytest.approx(4.0)
    assert fish_like.shelf_life_days_at(-12) == math.inf


def test_chilling_checks_use_the_lowest_safe_temperature():
    banana = profile(
        min_temperature_c=Decimal("13"),
        max_temperature_c=Decimal("14"),
        reference_temperature_c=Decimal("13"),
        lowest_safe_temperature_c=Decimal("11.5"),
    )

    assert banana.is_chilling_sensitive
    assert banana.is_below_safe_temperature(Decimal("11"))
    assert not banana.is_below_safe_temperature(Decimal("12"))
    assert not profile().is_below_safe_temperature(Decimal("-5"))
    assert not banana.is_within_storage_band(Decimal("12"))


def test_missing_sources_names_values_without_a_citation():
    incomplete = profile(sources={"min_temperature_c": "USDA AH-66 Table 20.1", "q10": " "})

    missing = incomplete.missing_sources()

    assert "min_temperature_c" not in missing
    assert "q10" in missing
    assert "lowest_safe_temperature_c" not in missing  # no value, no source needed


@pytest.mark.django_db
def test_database_refuses_an_inverted_temperature_band():
    with pytest.raises(IntegrityError), transaction.atomic():
        StorageProfileFactory(min_temperature_c=Decimal("5"), max_temperature_c=Decimal("2"))


@pytest.mark.django_db
@pytest.mark.parametrize("quantity_kg", [Decimal("0"), Decimal("-1"), Decimal("500000.001")])
def test_database_refuses_lot_quantities_out_of_range(quantity_kg):
    with pytest.raises(IntegrityError), transaction.atomic():
        HarvestLotFactory(quantity_kg=quantity_kg)

    assert not HarvestLot.objects.exists()


@pytest.mark.django_db
def test_database_refuses_unknown_certifications_and_a_test_date_for_an_untested_lot():
    lot = HarvestLotFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        HarvestLot.objects.filter(pk=lot.pk).update(certifications=["made_up"])
    with pytest.raises(IntegrityError), transaction.atomic():
        HarvestLot.objects.filter(pk=lot.pk).update(tested_on=lot.harvest_date)


@pytest.mark.django_db
def test_farm_area_is_computed_by_postgis_on_the_spheroid():
    # 0.01° × 0.01° at 36.86° N: about 1113 m × 891 m ≈ 99 ha.
    farm = FarmFactory(boundary=square(118.79, 36.86, size=0.01))

    farm.refresh_from_db()

    assert farm.area_hectares == pytest.approx(Decimal("99.2"), abs=Decimal("0.5"))


@pytest.mark.django_db
def test_farm_without_boundary_has_no_area():
    farm = FarmFactory(boundary=None)

    farm.refresh_from_db()

    assert farm.area_hectares is None
