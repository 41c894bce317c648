"""The one weight parser and the one price-per-display-unit rule, which every door uses."""

from decimal import Decimal

import pytest

from common.money import cny, price_per_unit, round_money
from common.units import WeightUnit, jin_to_kg, kg_in, kg_to_jin, positive_kg


@pytest.mark.parametrize(
    ("sent", "kg"),
    [
        ("2.5", Decimal("2.5")),
        ("0.001", Decimal("0.001")),
        (3, Decimal("3")),
        (Decimal("12.340"), Decimal("12.340")),
        (" 4 ", Decimal("4")),
    ],
)
def test_a_positive_weight_with_up_to_three_decimals_is_read_in_kg(sent, kg):
    assert positive_kg(sent) == kg


@pytest.mark.parametrize(
    "sent", ["0", "-1", "0.0001", "1.2345", "", "two", None, "NaN", "Infinity", "-Infinity", [1]]
)
def test_anything_else_is_no_weight(sent):
    assert positive_kg(sent) is None


def test_one_jin_is_half_a_kilogram():
    assert jin_to_kg(Decimal(1)) == Decimal("0.500")
    assert kg_to_jin(Decimal(1)) == Decimal("2.000")
    assert kg_in(WeightUnit.JIN, Decimal("2.5")) == Decimal("5.000")
    assert kg_in(WeightUnit.KG, Decimal("2.5")) == Decimal("2.500")


def test_a_price_per_jin_is_half_the_price_per_kg():
    assert price_per_unit(cny("4.80"), WeightUnit.JIN) == cny("2.40")
    assert price_per_unit(cny("4.80"), WeightUnit.KG) == cny("4.80")


@pytest.mark.parametrize(
    ("per_kg", "per_jin"),
    [
        ("4.81", "2.41"),  # 2.405: half a cent rounds up
        ("4.83", "2.42"),  # 2.415
        ("0.01", "0.01"),  # 0.005: never shown as free
        ("4.82", "2.41"),  # exact
        ("9999.99", "5000.00"),  # 4999.995
    ],
)
def test_a_price_per_jin_rounds_half_up_to_the_cent(per_kg, per_jin):
    assert price_per_unit(cny(per_kg), WeightUnit.JIN) == cny(per_jin)


def test_a_price_per_kg_is_shown_to_the_cent():
    assert price_per_unit(cny("3.455"), WeightUnit.KG) == cny("3.46")
    assert str(price_per_unit(cny("3"), WeightUnit.KG).amount) == "3.00"


def test_money_rounds_half_up_to_the_cent_never_to_even():
    assert round_money(cny("0.125")) == cny("0.13")
    assert round_money(cny("0.135")) == cny("0.14")
    assert round_money(cny("-0.125")) == cny("-0.13")


def test_money_is_never_a_float():
    with pytest.raises(TypeError):
        cny(1.5)  # type: ignore[arg-type]
