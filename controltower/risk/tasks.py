"""Celery entry points of the risk warnings (registered by ControlTowerConfig.ready): ids in,
one service call, harmless when run twice (an open warning per condition, see services)."""

from celery import shared_task

from ..services import risk


@shared_task(name="controltower.evaluate_risk_rules", acks_late=True)
def evaluate_risk_rules() -> dict:
    """Beat's run of every rule; returns the ids of the warnings raised and resolved."""
    done = risk.evaluate_all_rules()
    return {"raised": done.raised, "resolved": done.resolved}


@shared_task(name="controltower.evaluate_prices_after_trade", acks_late=True, ignore_result=True)
def evaluate_prices_after_trade(market_id: int, product_id: int) -> None:
    """A counter trade committed: the price rules of its market and product."""
    risk.evaluate_prices_after_trade(market_id=market_id, product_id=product_id)
