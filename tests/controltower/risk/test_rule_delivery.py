"""Front warehouses' rules: stock that will expire unsold, an on-time rate below target."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from controltower.models import RiskWarning
from controltower.risk.kinds import RiskKind
from controltower.risk.rules.delivery import unsold_kg
from controltower.services.risk import evaluate_all_rules
from delivery.models import DeliveryOrderStatus
from tests.delivery.factories import front_warehouse, stocked
from tests.delivery.warehouse_factories import delivered, delivery_order

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def warehouse(db):
    return front_warehouse("CY", 116.48, 39.92, half_side=0.05)


@pytest.fixture
def lettuce(catalogue):
    return catalogue["VEG-LETTUCE"]


# --- Stock that will expire unsold -----------------------------------------------------------


def test_unsold_quantity_follows_first_expired_first_out():
    lots = [
        (NOW + timedelta(days=1), Decimal("10")),  # 4 kg a day sells 4 of it
        (NOW + timedelta(days=3), Decimal("10")),  # 12 by then, 4 went on the first: 8
        (NOW - timedelta(hours=1), Decimal("1")),  # already past: all of it
    ]

    assert unsold_kg(lots, kg_per_day=Decimal("4"), now=NOW) == Decimal("9")


def test_stock_without_sales_raises_one_warning(rule_of, warehouse, lettuce):
    rule_of(RiskKind.STOCK_EXPIRING_UNSOLD, min_unsold_kg=5)
    stocked(warehouse, lettuce, kg="20")

    evaluate_all_rules()
    evaluate_all_rules()

    warning = RiskWarning.objects.get()
    assert warning.subject == warehouse
    assert warning.figures["product_id"] == lettuce.pk
    assert warning.figures["unsold_kg"] == "20.000"
    assert warning.figures["kg_per_day"] == "0.000"


def test_stock_that_sells_in_time_raises_nothing(rule_of, warehouse, lettuce):
    rule_of(RiskKind.STOCK_EXPIRING_UNSOLD, min_unsold_kg=5, sales_days=7)
    stock = stocked(warehouse, lettuce, kg="20")
    assert stock.expires_at > timezone.now() + timedelta(days=1)
    # 70 kg ordered in the last week: 10 kg a day sells the 20 kg in two days.
    delivery_order(warehouse, product=lettuce, kg="70")

    evaluate_all_rules()

    assert not RiskWarning.objects.exists()


def test_small_leftovers_under_the_threshold_raise_nothing(rule_of, warehouse, lettuce):
    rule_of(RiskKind.STOCK_EXPIRING_UNSOLD, min_unsold_kg=25)
    stocked(warehouse, lettuce, kg="20")

    evaluate_all_rules()

    assert not RiskWarning.objects.exists()


def test_rule_of_another_warehouse_ignores_this_one(rule_of, warehouse, lettuce):
    elsewhere = front_warehouse("HD", 116.30, 39.98, half_side=0.05)
    rule_of(RiskKind.STOCK_EXPIRING_UNSOLD, warehouse=elsewhere)
    stocked(warehouse, lettuce, kg="20")

    evaluate_all_rules()

    assert not RiskWarning.objects.exists()


# --- On-time rate ----------------------------------------------------------------------------


def due_orders(warehouse, *, on_time: int, late: int, now):
    for _ in range(on_time):
        delivered(
            warehouse,
            promised_by=now - timedelta(minutes=20),
            delivered_at=now - timedelta(minutes=25),
        )
    for _ in range(late):
        delivered(
            warehouse,
            promised_by=now - timedelta(minutes=20),
            delivered_at=now - timedelta(minutes=5),
        )


def test_warehouse_below_its_on_time_target_raises_one_warning(rule_of, warehouse):
    rule_of(RiskKind.ON_TIME_RATE, target_pct=90, window_minutes=60, min_orders=3)
    now = timezone.now()
    due_orders(warehouse, on_time=2, late=1, now=now)
    # Due ten minutes ago and still on its way: late too.
    delivery_order(warehouse, status=DeliveryOrderStatus.PICKED_UP, now=now, minutes_left=-10)

    evaluate_all_rules(now=now)
    evaluate_all_rules(now=now)

    warning = RiskWarning.objects.get()
    assert warning.subject == warehouse
    assert (warning.figures["on_time"], warning.figures["due"]) == (2, 4)
    assert warning.figures["rate_pct"] == 50.0


def test_warehouse_on_target_raises_nothing(rule_of, warehouse):
    rule_of(RiskKind.ON_TIME_RATE, target_pct=90, min_orders=3)
    now = timezone.now()
    due_orders(warehouse, on_time=3, late=0, now=now)
    # Due in the next hour: not judged yet.
    delivery_order(warehouse, now=now, minutes_left=20)

    evaluate_all_rules(now=now)

    assert not RiskWarning.objects.exists()


def test_too_few_orders_are_not_judged(rule_of, warehouse):
    rule_of(RiskKind.ON_TIME_RATE, target_pct=90, min_orders=3)
    now = timezone.now()
    due_orders(warehouse, on_time=0, late=2, now=now)

    evaluate_all_rules(now=now)

    assert not RiskWarning.objects.exists()
