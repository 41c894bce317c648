"""A market day not closed by its deadline; repeated positive rapid tests of one co-operative."""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from common.dates import BUSINESS_TIME_ZONE
from controltower.models import RiskWarning
from controltower.risk.kinds import RiskKind
from controltower.selectors.risk import warning_message as warning_text
from controltower.services.risk import evaluate_all_rules
from marketplace.markets.choices import DayStatus
from marketplace.markets.models import MarketDay
from tests.farms.factories import HarvestLotFactory
from traceability.models.gate import RapidTestMethod
from traceability.services.gate import check_in_without_certificate, record_rapid_test

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 20)
# End of day is 23:30 (MARKET_END_OF_DAY); an hour's grace ends at 00:30 the next morning.
BEFORE_DEADLINE = datetime.combine(DAY + timedelta(days=1), time(0, 20), BUSINESS_TIME_ZONE)
PAST_DEADLINE = datetime.combine(DAY + timedelta(days=1), time(0, 40), BUSINESS_TIME_ZONE)


@pytest.fixture(autouse=True)
def end_of_day(settings):
    settings.MARKET_END_OF_DAY = time(23, 30)


def test_market_day_left_open_past_its_deadline_raises_one_warning(rule_of, market):
    rule_of(RiskKind.MARKET_DAY_OVERDUE, grace_minutes=60)
    day = MarketDay.objects.create(market=market, business_date=DAY, status=DayStatus.OPEN)

    evaluate_all_rules(now=PAST_DEADLINE)
    evaluate_all_rules(now=PAST_DEADLINE)

    warning = RiskWarning.objects.get()
    assert warning.subject == day
    assert warning.figures["status"] == "open"
    assert warning.figures["overdue_minutes"] == 10


def test_day_with_payouts_unfinished_is_overdue_too(rule_of, market):
    rule_of(RiskKind.MARKET_DAY_OVERDUE, grace_minutes=60)
    MarketDay.objects.create(market=market, business_date=DAY, status=DayStatus.CLOSING)

    evaluate_all_rules(now=PAST_DEADLINE)

    warning = RiskWarning.objects.get()
    assert warning.figures["status"] == "closing"
    assert "payouts or statements still not finished" in warning_text(warning)


def test_closed_day_or_one_still_in_its_grace_raises_nothing(rule_of, market, other_market):
    rule_of(RiskKind.MARKET_DAY_OVERDUE, grace_minutes=60)
    MarketDay.objects.create(market=market, business_date=DAY, status=DayStatus.CLOSED)
    MarketDay.objects.create(market=other_market, business_date=DAY, status=DayStatus.OPEN)

    evaluate_all_rules(now=BEFORE_DEADLINE)

    assert not RiskWarning.objects.exists()


def test_overdue_warning_resolves_once_the_day_is_closed(rule_of, market):
    rule_of(RiskKind.MARKET_DAY_OVERDUE)
    day = MarketDay.objects.create(market=market, business_date=DAY, status=DayStatus.OPEN)
    evaluate_all_rules(now=PAST_DEADLINE)

    MarketDay.objects.filter(pk=day.pk).update(status=DayStatus.CLOSED, closed_at=PAST_DEADLINE)
    evaluate_all_rules(now=PAST_DEADLINE + timedelta(minutes=1))

    assert RiskWarning.objects.get().resolved_at == PAST_DEADLINE + timedelta(minutes=1)


# --- Repeated positive rapid tests -------------------------------------------------------------


def rapid_test_at_gate(market, clerk, lot, inhibition_pct: str):
    entry = check_in_without_certificate(
        market=market,
        by=clerk,
        lot_code=lot.lot_code,
        vehicle_plate="鲁G12345",
        gross_weight_kg="520",
    )
    return record_rapid_test(
        entry_id=entry.pk,
        by=clerk,
        method=RapidTestMethod.ENZYME_INHIBITION,
        sample="白菜 1 kg",
        inhibition_pct=inhibition_pct,
    )


@pytest.fixture
def lots_of(farm, cabbage):
    def make(count: int, on_farm=None):
        return [HarvestLotFactory(farm=on_farm or farm, product=cabbage) for _ in range(count)]

    return make


def test_second_positive_test_of_a_cooperative_raises_one_warning(
    rule_of, market, operator, lots_of, cooperative
):
    rule_of(RiskKind.REPEATED_POSITIVE_TESTS, positives=2, window_days=30)
    first, second, clean = lots_of(3)
    rapid_test_at_gate(market, operator, first, "70")
    rapid_test_at_gate(market, operator, clean, "10")
    evaluate_all_rules()
    assert not RiskWarning.objects.exists()

    rapid_test_at_gate(market, operator, second, "65")
    evaluate_all_rules()
    evaluate_all_rules()

    warning = RiskWarning.objects.get()
    assert warning.subject == cooperative
    assert warning.figures["positives"] == 2
    assert warning.figures["lots"] == sorted([first.lot_code, second.lot_code])


def test_positives_of_different_cooperatives_raise_nothing(
    rule_of, market, operator, lots_of, other_farm
):
    rule_of(RiskKind.REPEATED_POSITIVE_TESTS, positives=2)
    (mine,) = lots_of(1)
    (theirs,) = lots_of(1, on_farm=other_farm)
    rapid_test_at_gate(market, operator, mine, "70")
    rapid_test_at_gate(market, operator, theirs, "70")

    evaluate_all_rules()

    assert not RiskWarning.objects.exists()


def test_positives_older_than_the_window_raise_nothing(rule_of, market, operator, lots_of):
    rule_of(RiskKind.REPEATED_POSITIVE_TESTS, positives=2, window_days=7)
    for lot in lots_of(2):
        rapid_test_at_gate(market, operator, lot, "70")

    evaluate_all_rules(now=timezone.now() + timedelta(days=8))

    assert not RiskWarning.objects.exists()
