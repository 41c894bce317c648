"""The daily demand forecast: Holt-Winters with a weekly season beats the naive "same weekday
last week" on seasonal sales; short histories get the recent average; never negative."""

import warnings
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from delivery.forecast import (
    HOLT_WINTERS,
    HOLT_WINTERS_DAMPED,
    LAST_WEEK,
    NO_SALES,
    RECENT_AVERAGE,
    daily_series,
    forecast_daily_demand,
    naive_last_week_forecast,
)

START = date(2026, 3, 2)  # a Monday
WEEKLY_PATTERN = np.array([10.0, 8.0, 8.0, 9.0, 12.0, 18.0, 20.0])  # weekends sell more


def seasonal_sales(seed: int, *, days: int, trend_per_day: float = 0.1, noise: float = 2.0):
    """Daily kilograms: a weekly pattern, a slow rise and noise; never below zero."""
    rng = np.random.default_rng(seed)
    day = np.arange(days)
    return np.maximum(
        0.0, WEEKLY_PATTERN[day % 7] + trend_per_day * day + rng.normal(0.0, noise, days)
    )


def as_history(kg_per_day) -> list[tuple[date, Decimal]]:
    return [
        (START + timedelta(days=offset), Decimal(f"{kg:.3f}"))
        for offset, kg in enumerate(kg_per_day)
    ]


def mean_absolute_error(forecast, actual) -> float:
    return float(np.mean(np.abs(np.array([float(kg) for kg in forecast.values_kg]) - actual)))


@pytest.mark.parametrize("seed", [1, 7, 42, 2024, 31337])
def test_holt_winters_beats_the_naive_last_week_forecast_on_seasonal_sales(seed):
    # A backtest: from 8, 9, 10 and 11 weeks of history, forecast the next 14 days and
    # compare with what sold. One 14-day stretch alone can favour either by luck of the noise.
    sales = seasonal_sales(seed, days=12 * 7 + 7)
    forecast_errors, naive_errors = [], []
    for weeks in (8, 9, 10, 11):
        history, actual = as_history(sales[: weeks * 7]), sales[weeks * 7 : weeks * 7 + 14]

        forecast = forecast_daily_demand(history, 14)
        naive = naive_last_week_forecast(history, 14)

        assert forecast.method in (HOLT_WINTERS, HOLT_WINTERS_DAMPED)
        assert naive.method == LAST_WEEK
        forecast_errors.append(mean_absolute_error(forecast, actual))
        naive_errors.append(mean_absolute_error(naive, actual))

    assert np.mean(forecast_errors) < np.mean(naive_errors)


def test_holt_winters_wins_on_average_over_many_seeds():
    forecast_errors, naive_errors = [], []
    for seed in range(20):
        sales = seasonal_sales(seed, days=70)
        history = as_history(sales[:56])
        forecast_errors.append(mean_absolute_error(forecast_daily_demand(history, 14), sales[56:]))
        naive_errors.append(mean_absolute_error(naive_last_week_forecast(history, 14), sales[56:]))

    # Averaged over seeds the gain is clear, not a coin toss.
    assert np.mean(forecast_errors) < 0.85 * np.mean(naive_errors)


def test_the_forecast_keeps_the_weekly_shape():
    sales = seasonal_sales(3, days=56, noise=0.5)

    forecast = forecast_daily_demand(as_history(sales), 7)

    # The history ends on a Sunday: the horizon runs Monday..Sunday; Sat and Sun sell most.
    values = [float(kg) for kg in forecast.values_kg]
    assert values[5] > values[0] + 5
    assert values[6] > values[2] + 5


def test_three_full_weeks_are_enough_for_holt_winters_and_two_are_not():
    three_weeks = as_history(seasonal_sales(5, days=21))
    two_weeks = as_history(seasonal_sales(5, days=20))

    assert forecast_daily_demand(three_weeks, 7).method in (HOLT_WINTERS, HOLT_WINTERS_DAMPED)
    assert forecast_daily_demand(two_weeks, 7).method == RECENT_AVERAGE


def test_a_short_history_gets_the_average_of_its_last_week():
    history = as_history([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])

    forecast = forecast_daily_demand(history, 3)

    # The last seven days: 4..10, whose mean is 7.
    assert forecast.method == RECENT_AVERAGE
    assert forecast.values_kg == (Decimal("7.000"),) * 3
    assert forecast.spread_kg == Decimal("2.000")


def test_a_history_of_a_few_days_gets_their_average():
    forecast = forecast_daily_demand(as_history([2, 4]), 2)

    assert forecast.method == RECENT_AVERAGE
    assert forecast.values_kg == (Decimal("3.000"), Decimal("3.000"))


def test_no_history_and_no_sales_forecast_zero():
    empty = forecast_daily_demand([], 5)
    zeros = forecast_daily_demand(as_history([0] * 40), 5)

    for forecast in (empty, zeros):
        assert forecast.method == NO_SALES
        assert forecast.values_kg == (Decimal("0.000"),) * 5
        assert forecast.total_kg == Decimal("0")


def test_missing_days_count_as_days_without_sales():
    history = [(START, Decimal("3")), (START + timedelta(days=3), Decimal("5"))]

    assert daily_series(history) == [3.0, 0.0, 0.0, 5.0]
    assert forecast_daily_demand(history, 1).values_kg == (Decimal("2.000"),)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_forecast_is_never_negative_even_for_falling_or_sparse_sales(seed):
    rng = np.random.default_rng(seed)
    falling = seasonal_sales(seed, days=56, trend_per_day=-0.4)
    sparse = rng.poisson(0.3, 56).astype(float)
    one_sale = np.r_[np.zeros(55), 3.0]

    for sales in (falling, sparse, one_sale):
        forecast = forecast_daily_demand(as_history(sales), 14)
        assert all(kg >= 0 for kg in forecast.values_kg)
        assert all(str(kg) != "-0.000" for kg in forecast.values_kg)


def test_fitting_raises_no_warnings_on_awkward_histories():
    awkward = [
        [5.0] * 30,  # perfectly flat
        [0.0] * 29 + [1.0],  # one sale
        list(np.r_[np.full(50, 2.0), 100.0, np.full(5, 2.0)]),  # one huge order
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for sales in awkward:
            forecast = forecast_daily_demand(as_history(sales), 7)
            assert len(forecast.values_kg) == 7


def test_a_flat_history_forecasts_its_level():
    forecast = forecast_daily_demand(as_history([5.0] * 30), 3)

    assert forecast.values_kg == (Decimal("5.000"),) * 3


def test_the_naive_forecast_repeats_last_week():
    history = as_history([1, 2, 3, 4, 5, 6, 7, 10, 20, 30, 40, 50, 60, 70])

    naive = naive_last_week_forecast(history, 9)

    assert [int(kg) for kg in naive.values_kg] == [10, 20, 30, 40, 50, 60, 70, 10, 20]


def test_a_horizon_of_no_days_is_refused():
    with pytest.raises(ValueError, match="horizon_days"):
        forecast_daily_demand(as_history([1, 2, 3]), 0)
