"""Demo data of the risk warnings: one rule of each kind with its default thresholds."""

from ..services.risk import create_default_rules


def seed(context: dict) -> None:
    context["risk_rules"] = create_default_rules()
