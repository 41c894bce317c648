"""The price rule: a product's price today at a market outside its 30-day band."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine

from common.dates import BUSINESS_TIME_ZONE
from controltower.models import RiskWarning
from controltower.risk.kinds import RiskKind
from controltower.services.risk import evaluate_all_rules, evaluate_prices_after_trade

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 20)
NOW = datetime.combine(TODAY, time(11), BUSINESS_TIME_ZONE)


def at(day: date):
    """Trade on `day`, at 10:00 in the market."""
    return time_machine.travel(datetime.combine(day, time(10), BUSINESS_TIME_ZONE), tick=False)


@pytest.fixture
def history(settle):
    """Cabbage at ¥1.20/kg on each of the five days before TODAY (98 kg a day)."""
    for days_ago in range(1, 6):
        with at(TODAY - timedelta(days=days_ago)):
            settle(f"h{days_ago}", unit_price="1.20")


def trade_today(settle, price: str, key: str = "today"):
    with at(TODAY):
        return settle(key, unit_price=price)


def test_price_spike_raises_one_warning_about_the_market(rule_of, history, settle, market, cabbage):
    rule = rule_of(RiskKind.PRICE_BAND)
    trade_today(settle, "2.00")

    evaluate_all_rules(now=NOW)
    evaluate_all_rules(now=NOW)

    warning = RiskWarning.objects.get()
    assert warning.rule == rule
    assert warning.subject == market
    assert warning.resolved_at is None
    assert warning.figures["direction"] == "spike"
    assert warning.figures["product_id"] == cabbage.pk
    assert warning.figures["price"] == "2.00"
    # A flat history has no spread: the band is the floor, ±20 % of ¥1.20.
    assert (warning.figures["low"], warning.figures["high"]) == ("0.96", "1.44")
    assert warning.figures["history_days"] == 5


def test_price_crash_is_a_warning_too(rule_of, history, settle):
    rule_of(RiskKind.PRICE_BAND)
    trade_today(settle, "0.50")

    evaluate_all_rules(now=NOW)

    assert RiskWarning.objects.get().figures["direction"] == "crash"


def test_price_inside_the_band_raises_nothing(rule_of, history, settle):
    rule_of(RiskKind.PRICE_BAND)
    trade_today(settle, "1.40")

    evaluate_all_rules(now=NOW)

    assert not RiskWarning.objects.exists()


def test_too_little_history_raises_nothing(rule_of, history, settle):
    rule_of(RiskKind.PRICE_BAND, min_history_days=6)
    trade_today(settle, "2.00")

    evaluate_all_rules(now=NOW)

    assert not RiskWarning.objects.exists()


def test_band_widens_with_the_spread_of_the_history(rule_of, settle):
    rule_of(RiskKind.PRICE_BAND, band_factor=2, min_band_pct=1)
    for days_ago, price in enumerate(["1.00", "2.00", "1.00", "2.00", "1.00", "2.00"], start=1):
        with at(TODAY - timedelta(days=days_ago)):
            settle(f"h{days_ago}", unit_price=price)
    trade_today(settle, "2.50")

    evaluate_all_rules(now=NOW)

    # mean 1.50, sample sd 0.5477: the band is 1.50 ± 1.10, so ¥2.50 is inside it.
    assert not RiskWarning.objects.exists()


def test_warning_resolves_when_the_days_price_comes_back_into_the_band(
    rule_of, history, settle, market, cabbage
):
    rule_of(RiskKind.PRICE_BAND)
    trade_today(settle, "2.00", key="spike")
    evaluate_all_rules(now=NOW)

    # 98 kg at ¥2.00 and 980 kg at ¥1.20: the day's average is ¥1.27, inside the band.
    trade_today(settle, "1.20", key="big")
    with at(TODAY):
        settle("bigger", unit_price="1.20", gross_kg="882.000", tare_kg="0")
    evaluate_prices_after_trade(market_id=market.pk, product_id=cabbage.pk, now=NOW)

    warning = RiskWarning.objects.get()
    assert warning.resolved_at == NOW


def test_rule_of_another_market_ignores_this_one(rule_of, history, settle, other_market):
    rule_of(RiskKind.PRICE_BAND, market=other_market)
    trade_today(settle, "2.00")

    evaluate_all_rules(now=NOW)

    assert not RiskWarning.objects.exists()


def test_evaluation_after_a_trade_looks_only_at_its_market_and_product(
    rule_of, history, settle, market, cabbage, other_market
):
    rule_of(RiskKind.PRICE_BAND)
    trade_today(settle, "2.00")

    evaluate_prices_after_trade(market_id=other_market.pk, product_id=cabbage.pk, now=NOW)
    assert not RiskWarning.objects.exists()

    done = evaluate_prices_after_trade(market_id=market.pk, product_id=cabbage.pk, now=NOW)
    assert done.raised == [RiskWarning.objects.get().pk]
    assert Decimal(RiskWarning.objects.get().figures["mean"]) == Decimal("1.20")
