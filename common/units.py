"""Weights are kilograms as Decimal with 3 places; 斤 (jin) is a display choice only."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from django.utils.translation import gettext_lazy as _

GRAM = Decimal("0.001")
KG_PER_JIN = Decimal("0.5")


class WeightUnit(models.TextChoices):
    KG = "kg", _("kg")
    JIN = "jin", _("jin (斤)")


KG_PLACES = 3


def positive_kg(value: object) -> Decimal | None:
    """A weight as a client sent it (text or number), in kg: above zero with at most three
    decimals, else None, for the caller to refuse in its own words."""
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    exponent = quantity.as_tuple().exponent
    if not isinstance(exponent, int) or quantity <= 0 or -exponent > KG_PLACES:
        return None  # NaN and infinity have a letter for their exponent
    return quantity


def round_kg(value: Decimal) -> Decimal:
    return value.quantize(GRAM, rounding=ROUND_HALF_UP)


def kg_to_jin(kg: Decimal) -> Decimal:
    return round_kg(kg / KG_PER_JIN)


def jin_to_kg(jin: Decimal) -> Decimal:
    return round_kg(jin * KG_PER_JIN)


def kg_in(unit: str, kg: Decimal) -> Decimal:
    """A weight in kg expressed in the user's display unit."""
    return kg_to_jin(kg) if unit == WeightUnit.JIN else round_kg(kg)


def to_kg(unit: str, amount: Decimal) -> Decimal:
    """A weight entered in the user's display unit, in kg."""
    return jin_to_kg(amount) if unit == WeightUnit.JIN else round_kg(amount)


def price_per_kg_from(unit: str, price: Decimal) -> Decimal:
    """A price entered per the user's display unit, per kg (per kg = per 斤 × 2); the way
    back, for showing, is common.money.price_per_unit."""
    return price / KG_PER_JIN if unit == WeightUnit.JIN else price


def unit_of(user) -> str:
    """The unit a user reads weights in; kg for anyone without a choice (anonymous)."""
    return getattr(user, "weight_unit", None) or WeightUnit.KG
