"""Money: CNY as Decimal (never float), rounded once, half up, in one helper."""

from decimal import ROUND_HALF_UP, Decimal

from moneyed import Money

CENT = Decimal("0.01")


def round_money(value: Money) -> Money:
    """Round to whole cents, half up, as invoices print them."""
    return Money(value.amount.quantize(CENT, rounding=ROUND_HALF_UP), value.currency)


def cny(amount: Decimal | str | int) -> Money:
    """A CNY amount from a Decimal or its string; floats are refused on purpose."""
    if isinstance(amount, float):
        raise TypeError("money is never a float; pass a Decimal or a string")
    return Money(Decimal(amount), "CNY")
