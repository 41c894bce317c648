"""Builders of the shop's tests: warehouses open now, stock, orders placed from a home, wallets."""

from datetime import datetime, timedelta

from django.utils import timezone

from common.dates import BUSINESS_TIME_ZONE
from delivery.models import FrontWarehouse
from delivery.services.orders import place_order
from settlement.accounts import wallet_of
from settlement.selectors import balance_of
from tests.delivery.factories import front_warehouse, stocked

HOME = {"longitude": 116.49, "latitude": 39.915}  # inside Chaoyang's zone


NOWHERE = {"longitude": 121.47, "latitude": 31.23}  # Shanghai: outside every zone


def opening_hours_around_now(*, open_now: bool = True) -> dict:
    """Opening hours (Beijing time) that hold the present moment, or that exclude it."""
    local = timezone.localtime(timezone.now(), BUSINESS_TIME_ZONE)
    anchor = datetime.combine(local.date(), local.time())
    if open_now:
        return {
            "opens_at": (anchor - timedelta(hours=2)).time(),
            "closes_at": (anchor + timedelta(hours=2)).time(),
        }
    return {
        "opens_at": (anchor + timedelta(hours=2)).time(),
        "closes_at": (anchor + timedelta(hours=4)).time(),
    }


def open_warehouse(code: str, longitude: float, latitude: float, *, half_side: float, **extra):
    """A front warehouse open at this moment, whatever the hour the tests run."""
    warehouse = front_warehouse(code, longitude, latitude, half_side=half_side, **extra)
    FrontWarehouse.objects.filter(pk=warehouse.pk).update(**opening_hours_around_now())
    warehouse.refresh_from_db()
    return warehouse


def receive(warehouse, product, kg: str, *, harvested_days_ago: int, price="12.00"):
    return stocked(warehouse, product, kg=kg, price=price, harvested_days_ago=harvested_days_ago)


def wallet_balance(user):
    return balance_of(wallet_of(user)).amount


def order_for(consumer, *lines, key: str = "", where=HOME, address="朝阳区建国路 88 号 3-201"):
    return place_order(
        consumer=consumer, address=address, lines=list(lines), idempotency_key=key, **where
    )
