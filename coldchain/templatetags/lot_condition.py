"""`{% lot_condition lot %}`: the lot's remaining shelf life block (templates/coldchain/
_lot_condition.html), computed fresh from its temperature history.

A tag rather than view context, so the farms pages need not import the cold chain (which
already depends on farms); it calls one read function and renders nothing for a product
without a storage profile."""

from django import template
from django.utils import timezone

from common.dates import business_date_of
from farms.models import HarvestLot

from .. import shelf_life

register = template.Library()


@register.inclusion_tag("coldchain/_lot_condition.html")
def lot_condition(lot: HarvestLot) -> dict:
    condition = shelf_life.assess_lot_condition(lot=lot, now=timezone.now())
    if condition is None:
        return {"condition": None}
    profile = lot.product.storage_profile
    return {
        "condition": condition,
        "reference_temperature_c": profile.reference_temperature_c,
        "band_top_c": profile.max_temperature_c,
        "used_percent": round(min(condition.consumed_fraction, 1.0) * 100),
        "is_used_up": condition.remaining_days <= 0,
        "expected_expiry_date": business_date_of(condition.expected_expiry_at),
        "chilling_hours": condition.chilling_hours if profile.is_chilling_sensitive else None,
    }
