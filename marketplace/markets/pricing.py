"""What a counter trade comes to: clean weights and price, the amount, each side's
commission by the market's rule. Refusals name the field at fault."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial

from django.db.models import Q
from moneyed import Money

from common.money import CENT, round_money

from ..exceptions import AmountBelowOneCent, InvalidUnitPrice, InvalidWeight, TareAboveGross
from .models import MAX_TRADE_KG, MAX_UNIT_PRICE, CommissionRule, Market

GRAM = Decimal("0.001")


@dataclass(frozen=True)
class Commission:
    buyer_fee: Money
    seller_fee: Money


def commission_for(*, market: Market, category: str, amount: Money) -> Commission:
    """Each side's fee on a trade of this amount by the market's rule for the category."""
    rule = (
        CommissionRule.objects.filter(market=market)
        .filter(Q(category=category) | Q(category=""))
        .order_by("-category")
        .values_list("buyer_pct", "seller_pct", "minimum_fee")
        .first()
    )
    return fees_by_rule(rule, amount)


def fees_by_rule(rule: tuple[Decimal, Decimal, Decimal] | None, amount: Money) -> Commission:
    """Each side's fee: its percentage of the amount, at least the minimum fee (when the
    percentage is not zero), rounded half up once. A rule for the category wins over the
    market's default (the caller picks it); the seller's fee never exceeds the amount."""
    zero = Money(Decimal("0.00"), "CNY")
    if rule is None:
        return Commission(zero, zero)
    buyer_pct, seller_pct, minimum = rule
    minimum_fee = Money(minimum, "CNY")

    def fee(pct: Decimal) -> Money:
        if pct == 0:
            return zero
        return max(round_money(Money(amount.amount * pct / 100, amount.currency)), minimum_fee)

    return Commission(buyer_fee=fee(buyer_pct), seller_fee=min(fee(seller_pct), amount))


def clean_weights(gross_kg, tare_kg) -> tuple[Decimal, Decimal, Decimal]:
    """(gross, tare, net) in kg with 3 decimals, or a field error.

    Always written with 3 decimals, so "100" and "100.000" are the same request to the
    idempotency check. Tare is compared with gross before it is quantized: a tare too large
    to quantize is simply above the gross.
    """
    gross = _decimal(gross_kg, InvalidWeight)
    tare = _decimal(
        tare_kg if tare_kg not in (None, "") else 0, partial(InvalidWeight, field="tare_kg")
    )
    if gross <= 0 or gross > MAX_TRADE_KG or gross != gross.quantize(GRAM):
        raise InvalidWeight()
    if tare < 0:
        raise InvalidWeight(field="tare_kg")
    if tare >= gross:
        raise TareAboveGross()
    if tare != tare.quantize(GRAM):
        raise InvalidWeight(field="tare_kg")
    gross, tare = gross.quantize(GRAM), tare.quantize(GRAM)
    return gross, tare, gross - tare


def clean_unit_price(value) -> Decimal:
    """The price per kg with 2 decimals ("1.2" and "1.20" are the same price), or a field error."""
    price = _decimal(value.amount if isinstance(value, Money) else value, InvalidUnitPrice)
    if price <= 0 or price > MAX_UNIT_PRICE or price != price.quantize(CENT):
        raise InvalidUnitPrice()
    return price.quantize(CENT)


def trade_amount(*, net_kg: Decimal, unit_price: Decimal) -> Money:
    """Net weight × price, rounded half up once; a trade worth less than a cent is refused."""
    amount = round_money(Money(net_kg * unit_price, "CNY"))
    if not amount.amount:
        raise AmountBelowOneCent()
    return amount


def _decimal(value, error: Callable[[], Exception]) -> Decimal:
    """The number, or the refusal `error` makes (made only then: a trade's hot path)."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise error() from None
    if not number.is_finite():
        raise error()
    return number
