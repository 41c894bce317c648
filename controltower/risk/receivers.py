"""The events that feed the risk rules, heard from apps that cannot know the control tower
(it sits above them all): a counter trade, once committed, has the price rules of its market
and product evaluated on a worker (connected in ControlTowerConfig.ready)."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from marketplace.markets.models import Trade

from . import tasks


@receiver(post_save, sender=Trade, dispatch_uid="controltower.price_rules_after_trade")
def evaluate_prices_after_trade(sender, instance: Trade, created: bool, **kwargs) -> None:
    if not created:
        return  # a reversal: the next beat run sees the price without it
    # robust: a broker that is away never fails the trade, already committed; beat catches up.
    transaction.on_commit(
        partial(tasks.evaluate_prices_after_trade.delay, instance.market_id, instance.product_id),
        robust=True,
    )
