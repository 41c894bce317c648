"""Money: CNY as Decimal (never float), rounded once, half up, in one helper."""

from decimal import ROUND_HALF_UP, Decimal

from moneyed import Money

from common.units import KG_PER_JIN, WeightUnit

CENT = Decimal("0.01")


def round_money(value: Money) -> Money:
    """Round to whole cents, half up, as invoices print them."""
    return Money(value.amount.quantize(CENT, rounding=ROUND_HALF_UP), value.currency)


def cny(amount: Decimal | str | int) -> Money:
    """A CNY amount from a Decimal or its string; floats are refused on purpose."""
    if isinstance(amount, float):
        raise TypeError("money is never a float; pass a Decimal or a string")
    return Money(Decimal(amount), "CNY")


def price_per_unit(price_per_kg: Money, unit: str) -> Money:
    """A price per kg as a reader of `unit` sees it: per kg, or per 斤 (half a kg, so half
    the price), rounded once, half up, to the cent. Every page, API and board shows prices
    through this, so a price reads the same everywhere."""
    if unit == WeightUnit.JIN:
        return round_money(price_per_kg * KG_PER_JIN)
    return round_money(price_per_kg)
