"""The fixed set of risk rules the control tower knows, and what each threshold means.

A rule's thresholds live in the database (RiskRule.thresholds, a JSON object); their names
carry their unit (`max_silence_minutes`, `target_pct`), and THRESHOLDS says, per kind, each
one's label, unit, bounds and default. `threshold_problems` lists every problem of a set of
thresholds at once, so a form or the API can show them all and nothing is saved.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import models
from django.utils.translation import gettext_lazy as _


class RiskKind(models.TextChoices):
    PRICE_BAND = "price_band", _("Price outside its 30-day band")
    SHELF_LIFE_ON_ARRIVAL = "shelf_life_on_arrival", _("Short shelf life on arrival")
    STOCK_EXPIRING_UNSOLD = "stock_expiring_unsold", _("Stock will expire unsold")
    ON_TIME_RATE = "on_time_rate", _("On-time rate below target")
    MARKET_DAY_OVERDUE = "market_day_overdue", _("Market day not closed in time")
    REPEATED_POSITIVE_TESTS = "repeated_positive_tests", _("Repeated positive rapid tests")
    LOGGER_SILENT = "logger_silent", _("Data logger silent")
    EXCURSION_OPEN = "excursion_open", _("Excursion open too long")


class RiskSeverity(models.TextChoices):
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class RiskScope(models.TextChoices):
    """What a rule may be limited to, besides nothing (the whole chain)."""

    MARKET = "market", _("Wholesale market")
    WAREHOUSE = "warehouse", _("Front warehouse")


@dataclass(frozen=True)
class Threshold:
    name: str
    label: str
    unit: str
    default: Decimal
    minimum: Decimal
    maximum: Decimal
    # A bound that is itself impossible: "above 0", not "0 or more".
    minimum_exclusive: bool = False
    whole: bool = False  # a count of minutes, days, orders

    def describe_bounds(self) -> str:
        low = _("above %(n)s") if self.minimum_exclusive else _("at least %(n)s")
        return _("%(low)s and at most %(high)s") % {
            "low": low % {"n": self.minimum},
            "high": self.maximum,
        }


def _threshold(name, label, unit, default, minimum, maximum, *, exclusive=False, whole=False):
    return Threshold(
        name=name,
        label=label,
        unit=unit,
        default=Decimal(default),
        minimum=Decimal(minimum),
        maximum=Decimal(maximum),
        minimum_exclusive=exclusive,
        whole=whole,
    )


MINUTES = _("minutes")
DAYS = _("days")
PERCENT = "%"

THRESHOLDS: dict[str, tuple[Threshold, ...]] = {
    RiskKind.PRICE_BAND: (
        _threshold(
            "band_factor",
            _("band width"),
            _("× standard deviation"),
            "3",
            "0",
            "10",
            exclusive=True,
        ),
        _threshold(
            "min_band_pct",
            _("narrowest band"),
            _("% of the mean"),
            "20",
            "0",
            "100",
            exclusive=True,
        ),
        _threshold(
            "min_history_days", _("days of history needed"), DAYS, "5", "2", "30", whole=True
        ),
    ),
    RiskKind.SHELF_LIFE_ON_ARRIVAL: (
        _threshold(
            "min_remaining_pct",
            _("least shelf life left on arrival"),
            _("% of nominal"),
            "40",
            "0",
            "100",
            exclusive=True,
        ),
    ),
    RiskKind.STOCK_EXPIRING_UNSOLD: (
        _threshold("sales_days", _("days of sales for the rate"), DAYS, "7", "1", "30", whole=True),
        _threshold(
            "min_unsold_kg",
            _("least unsold quantity to warn of"),
            "kg",
            "5",
            "0",
            "100000",
            exclusive=True,
        ),
    ),
    RiskKind.ON_TIME_RATE: (
        _threshold("target_pct", _("on-time target"), PERCENT, "90", "0", "100", exclusive=True),
        _threshold("window_minutes", _("period"), MINUTES, "60", "5", "1440", whole=True),
        _threshold(
            "min_orders", _("fewest orders to judge"), _("orders"), "5", "1", "10000", whole=True
        ),
    ),
    RiskKind.MARKET_DAY_OVERDUE: (
        _threshold(
            "grace_minutes",
            _("time allowed after the end of day"),
            MINUTES,
            "60",
            "0",
            "1440",
            whole=True,
        ),
    ),
    RiskKind.REPEATED_POSITIVE_TESTS: (
        _threshold("positives", _("positive tests"), _("tests"), "2", "2", "1000", whole=True),
        _threshold("window_days", _("within"), DAYS, "30", "1", "365", whole=True),
    ),
    RiskKind.LOGGER_SILENT: (
        _threshold(
            "max_silence_minutes",
            _("longest silence allowed"),
            MINUTES,
            "30",
            "1",
            "10080",
            whole=True,
        ),
    ),
    RiskKind.EXCURSION_OPEN: (
        _threshold(
            "max_open_minutes",
            _("longest open excursion allowed"),
            MINUTES,
            "60",
            "1",
            "10080",
            whole=True,
        ),
    ),
}

# Which scope each kind may be limited to (a rule with no scope watches everything).
SCOPES: dict[str, frozenset[str]] = {
    RiskKind.PRICE_BAND: frozenset({RiskScope.MARKET}),
    RiskKind.MARKET_DAY_OVERDUE: frozenset({RiskScope.MARKET}),
    RiskKind.REPEATED_POSITIVE_TESTS: frozenset({RiskScope.MARKET}),
    RiskKind.STOCK_EXPIRING_UNSOLD: frozenset({RiskScope.WAREHOUSE}),
    RiskKind.ON_TIME_RATE: frozenset({RiskScope.WAREHOUSE}),
    RiskKind.SHELF_LIFE_ON_ARRIVAL: frozenset(),
    RiskKind.LOGGER_SILENT: frozenset(),
    RiskKind.EXCURSION_OPEN: frozenset(),
}


def default_thresholds(kind: str) -> dict[str, int | float]:
    return {t.name: _as_json(t, t.default) for t in THRESHOLDS[kind]}


def _as_json(threshold: Threshold, value: Decimal) -> int | float:
    return int(value) if threshold.whole else float(value)


def threshold_problems(kind: str, thresholds: object) -> dict[str, list[str]]:
    """Every problem of `thresholds` for a rule of `kind`, by threshold name (empty: none).

    Missing thresholds take their default; an unknown name, a value that is not a number, a
    fraction where a whole number is needed, or a value out of bounds is a problem."""
    if kind not in THRESHOLDS:
        return {"kind": [str(_("Choose a kind of rule from the list."))]}
    if not isinstance(thresholds, dict):
        return {"thresholds": [str(_("Give the thresholds as an object of names and numbers."))]}
    known = {t.name: t for t in THRESHOLDS[kind]}
    problems: dict[str, list[str]] = {}
    for name in thresholds:
        if name not in known:
            problems[str(name)] = [
                str(_("This rule has no such threshold; it has: %(names)s."))
                % {"names": ", ".join(known)}
            ]
    for name, threshold in known.items():
        if name not in thresholds:
            continue
        problem = _problem_of(threshold, thresholds[name])
        if problem:
            problems[name] = [problem]
    return problems


def _problem_of(threshold: Threshold, raw: object) -> str | None:
    value = _number(raw)
    if value is None:
        return str(_("Enter a number."))
    if threshold.whole and value != value.to_integral_value():
        return str(_("Enter a whole number."))
    too_low = (
        value <= threshold.minimum if threshold.minimum_exclusive else value < threshold.minimum
    )
    if too_low or value > threshold.maximum:
        return str(_("Enter a value %(bounds)s (%(unit)s).")) % {
            "bounds": threshold.describe_bounds(),
            "unit": threshold.unit,
        }
    return None


def _number(raw: object) -> Decimal | None:
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def clean_thresholds(kind: str, thresholds: dict) -> dict[str, int | float]:
    """The thresholds as stored: every one of the kind, defaults filled in, numbers as JSON
    numbers. The caller has checked them with threshold_problems."""
    cleaned = default_thresholds(kind)
    for threshold in THRESHOLDS[kind]:
        if threshold.name in thresholds:
            value = _number(thresholds[threshold.name])
            assert value is not None
            cleaned[threshold.name] = _as_json(threshold, value)
    return cleaned


def threshold_rows(kind: str, thresholds: dict) -> list[dict]:
    """The thresholds with their labels and units, for pages and the API."""
    return [
        {
            "name": t.name,
            "label": str(t.label),
            "unit": str(t.unit),
            "value": thresholds.get(t.name, _as_json(t, t.default)),
        }
        for t in THRESHOLDS.get(kind, ())
    ]
