from decimal import Decimal

from django import template

from common.units import WeightUnit, kg_in, unit_of

register = template.Library()


@register.filter
def weight_for(quantity_kg: Decimal, user) -> str:
    """A weight in kg shown in the user's unit: `{{ lot.quantity_kg|weight_for:user }}`."""
    unit = unit_of(user)
    amount = kg_in(unit, quantity_kg).normalize()
    return f"{amount:f} {WeightUnit(unit).label}"
