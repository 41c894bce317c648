"""Each kind of risk rule is a function over the current data, read through the apps'
selectors and models: `evaluate(rule, now=…)` returns the conditions it finds now, one
Finding per object at risk, and `describe(figures)` says one in words (in the active
language). controltower.services.risk turns findings into warnings."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Model

from ..kinds import RiskKind


@dataclass(frozen=True)
class Finding:
    """A condition found now: about `subject`, named by `key` (unique within its rule)."""

    subject: Model
    key: str
    figures: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RuleKind:
    evaluate: Callable[..., list[Finding]]
    describe: Callable[[dict], str]


def rule_kinds() -> dict[str, RuleKind]:
    """Every kind's evaluator, by kind (imported here, when first needed)."""
    from . import coldchain, delivery, gate, markets, prices

    return {
        RiskKind.PRICE_BAND: RuleKind(prices.evaluate, prices.describe),
        RiskKind.SHELF_LIFE_ON_ARRIVAL: RuleKind(
            coldchain.evaluate_shelf_life, coldchain.describe_shelf_life
        ),
        RiskKind.STOCK_EXPIRING_UNSOLD: RuleKind(
            delivery.evaluate_unsold_stock, delivery.describe_unsold_stock
        ),
        RiskKind.ON_TIME_RATE: RuleKind(delivery.evaluate_on_time, delivery.describe_on_time),
        RiskKind.MARKET_DAY_OVERDUE: RuleKind(markets.evaluate, markets.describe),
        RiskKind.REPEATED_POSITIVE_TESTS: RuleKind(gate.evaluate, gate.describe),
        RiskKind.LOGGER_SILENT: RuleKind(
            coldchain.evaluate_silent_loggers, coldchain.describe_silent_logger
        ),
        RiskKind.EXCURSION_OPEN: RuleKind(
            coldchain.evaluate_open_excursions, coldchain.describe_open_excursion
        ),
    }


def minutes_between(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)
