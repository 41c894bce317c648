"""Daily demand forecasts for replenishment: pure functions over a product's daily sales.

`history` is a list of (date, kg) with one entry per day, days without sales included as
zero (a missing day counts as zero too). A forecast covers the `horizon_days` days that follow
the last day of the history. Kilograms come back as Decimal with 3 places; the arithmetic in
between is floating point, as the statistics library's is.
"""

import math
import statistics
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

KG = Decimal("0.001")
WEEK = 7

# Holt-Winters with a weekly season estimates 7 seasonal states, the level, the smoothing
# weights and (with a trend) the trend and its damping: about 10-14 numbers. Two weeks give
# each weekday two observations, as many as there are parameters to fit, and the fit mistakes
# noise for season; from three full weeks each weekday's index rests on three sales days and
# the fit's information criterion can still judge whether a trend is worth its parameters.
MIN_SEASONAL_DAYS = 3 * WEEK
# Short histories: the mean of the last week's days (or of all there are).
RECENT_DAYS = WEEK

HOLT_WINTERS = "holt_winters"
HOLT_WINTERS_DAMPED = "holt_winters_damped"
RECENT_AVERAGE = "recent_average"
LAST_WEEK = "last_week"
NO_SALES = "no_sales"


@dataclass(frozen=True)
class Forecast:
    """Expected kilograms sold on each day of the horizon, the first the day after the
    history's last; `spread_kg` is the standard deviation of a one-day error (in-sample), the
    basis of a safety stock."""

    values_kg: tuple[Decimal, ...]
    method: str
    spread_kg: Decimal = Decimal("0.000")

    @property
    def total_kg(self) -> Decimal:
        return sum(self.values_kg, Decimal("0.000"))


def daily_series(history: Sequence[tuple[date, Decimal | float | int]]) -> list[float]:
    """Kilograms per day from the first to the last day of the history, in date order;
    a day missing from the list counts as zero, a day listed twice is summed."""
    if not history:
        return []
    by_day: dict[date, float] = {}
    for day, kg in history:
        by_day[day] = by_day.get(day, 0.0) + float(kg)
    first, last = min(by_day), max(by_day)
    return [
        by_day.get(first + timedelta(days=offset), 0.0) for offset in range((last - first).days + 1)
    ]


def forecast_daily_demand(
    history: Sequence[tuple[date, Decimal | float | int]], horizon_days: int
) -> Forecast:
    """Holt-Winters exponential smoothing with a weekly season where there are at least three
    full weeks of history; the mean of the recent days where there are fewer; zero where
    nothing was ever sold. Never negative."""
    if horizon_days <= 0:
        raise ValueError("horizon_days must be at least 1")
    series = daily_series(history)
    if not any(series):
        return _zero(horizon_days)
    if len(series) >= MIN_SEASONAL_DAYS and len(set(series)) > 1:
        forecast = _holt_winters(series, horizon_days)
        if forecast is not None:
            return forecast
    return recent_average_forecast(series, horizon_days)


def recent_average_forecast(series: Sequence[float], horizon_days: int) -> Forecast:
    """Every day of the horizon gets the mean of the last week's days (or of all there are)."""
    recent = list(series[-RECENT_DAYS:])
    if not any(recent):
        return _zero(horizon_days)
    mean = statistics.fmean(recent)
    # One day says nothing of the spread: take the day's sale itself, on the safe side.
    spread = statistics.pstdev(recent) if len(recent) > 1 else mean
    return Forecast(
        values_kg=tuple(_kg(mean) for _day in range(horizon_days)),
        method=RECENT_AVERAGE,
        spread_kg=_kg(spread),
    )


def naive_last_week_forecast(
    history: Sequence[tuple[date, Decimal | float | int]], horizon_days: int
) -> Forecast:
    """The benchmark: each day sells what the same weekday sold in the last week of the
    history. With less than a week of history it falls back to the recent average."""
    series = daily_series(history)
    if len(series) < WEEK:
        return recent_average_forecast(series, horizon_days) if any(series) else _zero(horizon_days)
    last_week = series[-WEEK:]
    values = tuple(_kg(last_week[day % WEEK]) for day in range(horizon_days))
    errors = [series[day] - series[day - WEEK] for day in range(WEEK, len(series))]
    spread = math.sqrt(statistics.fmean(error * error for error in errors)) if errors else 0.0
    return Forecast(values_kg=values, method=LAST_WEEK, spread_kg=_kg(spread))


def _holt_winters(series: list[float], horizon_days: int) -> Forecast | None:
    """Additive season (sales have zero days, which a multiplicative season cannot take),
    with and without a damped trend; the fit with the lower corrected AIC wins. A damped
    trend, not a straight one: a two-week horizon must not run a short rise on for ever.
    None when neither fit gives finite numbers (the caller falls back to the average)."""
    data = np.asarray(series, dtype=float)
    best = None
    for trend_kind, method in ((None, HOLT_WINTERS), ("add", HOLT_WINTERS_DAMPED)):
        fit = _fit(data, trend=trend_kind)
        if fit is None:
            continue
        values = np.asarray(fit.forecast(horizon_days), dtype=float)
        if not np.all(np.isfinite(values)):
            continue
        # A perfect fit scores minus infinity (and wins); an undefined score never does.
        score = math.inf if math.isnan(fit.aicc) else fit.aicc
        if best is None or score < best[0]:
            best = (score, values, method, math.sqrt(max(fit.sse, 0.0) / len(data)))
    if best is None:
        return None
    _score, values, method, spread = best
    return Forecast(
        values_kg=tuple(_kg(value if value > 0 else 0.0) for value in values),
        method=method,
        spread_kg=_kg(spread),
    )


def _fit(data: np.ndarray, *, trend: str | None):
    # Imported on first use, not with the URLs: statsmodels takes about 1.5 s to import, which
    # every web process and worker start would pay for a nightly forecast.
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = ExponentialSmoothing(
        data,
        trend=trend,
        damped_trend=trend is not None,
        seasonal="add",
        seasonal_periods=WEEK,
        initialization_method="estimated",
    )
    # The optimiser may stop short of its tolerance on flat or sparse sales (the fit is still
    # usable), and a perfect fit takes the log of a zero error in the information criterion:
    # neither is worth a warning per product per night.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            # Without the brute-force grid for starting values the fit is several times
            # faster, and on weekly sales data it lands on the same optimum.
            return model.fit(use_brute=False)
        except (ValueError, np.linalg.LinAlgError):
            return None


def _zero(horizon_days: int) -> Forecast:
    return Forecast(
        values_kg=tuple(Decimal("0.000") for _day in range(horizon_days)),
        method=NO_SALES,
        spread_kg=Decimal("0.000"),
    )


def _kg(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(KG) if math.isfinite(value) else Decimal("0.000")
