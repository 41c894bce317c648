"""The 30-day trends: volume, price index, loss rate, on-time rate, excursion minutes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from common.dates import business_today
from controltower.selectors.scope import scope_of
from controltower.selectors.trends import TREND_DAYS, trends_of
from delivery.models import StockReceipt
from delivery.selectors.warehouse import on_time_rate
from delivery.services.stock import write_off_stock
from tests.controltower.screen.conftest import NOON
from tests.delivery.factories import stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_days_ago_trade(noon, settle):
    """98 kg of cabbage at ¥1.20 two days before today."""
    noon.move_to(NOON - timedelta(days=2))
    settle("earlier")
    noon.move_to(NOON)


def test_trends_have_one_value_per_day_of_the_thirty(world, two_days_ago_trade, regulator):
    trends = trends_of(scope_of(regulator), now=timezone.now())

    today = business_today()
    assert len(trends.days) == TREND_DAYS
    assert (trends.days[0], trends.days[-1]) == (today - timedelta(days=29), today)
    assert trends.volume_kg[-3:] == [Decimal("98.000"), Decimal("0.000"), Decimal("148.000")]
    assert sum(trends.volume_kg[:-3]) == 0


def test_the_price_index_compares_the_basket_with_its_first_price_in_the_window(
    world, two_days_ago_trade, regulator
):
    trends = trends_of(scope_of(regulator), now=timezone.now())

    # Today: (98 kg × ¥1.20 + 50 kg × ¥1.50) ÷ 148 kg = ¥1.3014 against ¥1.20 at the start.
    assert trends.price_index[-3:] == [Decimal("100.0"), None, Decimal("108.4")]
    assert set(trends.price_index[:-3]) == {None}


def test_on_time_rate_follows_the_warehouses_rule(world, regulator):
    trends = trends_of(scope_of(regulator), now=timezone.now())

    rates = [on_time_rate(world[name], business_today()) for name in ("beijing_warehouse", "guangzhou_warehouse")]  # fmt: skip
    on_time, delivered = sum(r.on_time for r in rates), sum(r.delivered for r in rates)
    assert (on_time, delivered) == (2, 3)
    assert trends.on_time_percent[-1] == Decimal("66.7")
    assert set(trends.on_time_percent[:-1]) == {None}


def test_loss_rate_is_written_off_over_received_in_the_last_seven_days(
    world, regulator, catalogue, warehouse_manager
):
    cabbage = world["market"].trades.first().product
    stock = stocked(world["beijing_warehouse"], cabbage, kg="20")
    StockReceipt.objects.create(
        stock_lot=stock, quantity_kg="20", received_by=warehouse_manager, received_at=timezone.now()
    )
    write_off_stock(stock_lot=stock, quantity_kg="2", reason="spoiled", by=warehouse_manager)

    trends = trends_of(scope_of(regulator), now=timezone.now())

    assert trends.loss_rate_percent[-1] == Decimal("10.0")
    assert trends.loss_rate_percent[-8] is None  # before the week that received anything


def test_excursion_minutes_count_the_open_excursion_up_to_now(world, regulator):
    trends = trends_of(scope_of(regulator), now=timezone.now())

    assert trends.excursion_minutes[-1] == 90
    assert sum(trends.excursion_minutes[:-1]) == 0


def test_an_excursion_over_midnight_counts_in_both_days(world, regulator):
    excursion = world["excursion"]
    midnight = NOON.replace(hour=0)
    excursion.started_at = midnight - timedelta(minutes=20)
    excursion.ended_at = midnight + timedelta(minutes=40)
    excursion.save(update_fields=["started_at", "ended_at"])

    trends = trends_of(scope_of(regulator), now=timezone.now())

    assert trends.excursion_minutes[-2:] == [20, 40]


def test_a_regional_regulators_trends_leave_other_regions_out(world, guangzhou_regulator):
    trends = trends_of(scope_of(guangzhou_regulator), now=timezone.now())

    assert sum(trends.volume_kg) == 0
    assert set(trends.price_index) == {None}
    assert trends.on_time_percent[-1] == Decimal("100.0")
    assert sum(trends.excursion_minutes) == 0
