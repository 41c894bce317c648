"""The events that feed the risk rules, heard from apps that cannot know the control tower
(it sits above them all): a counter trade, once committed, has the price rules of its market
and product evaluated on a worker (connected in ControlTowerConfig.ready).

A busy counter settles many trades a second of the same product, and an evaluation reads
the prices as they are when it runs, so one evaluation sees every trade committed before it
started. Each process therefore queues, per market and product, one evaluation at once and,
for the trades that follow within `COALESCE_SECONDS`, one more that runs that much later and
sees them all: at most two tasks a window instead of one a trade (queuing one costs a
settlement about as much Python as the rest of it). Beat's run every minute still covers a
task lost with its broker.
"""

import threading
import time
from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from marketplace.markets.models import Trade

from . import tasks

COALESCE_SECONDS = 1.0
# A later evaluation is trusted to see only the trades committed this long before it is due:
# the worker's clock may run a little ahead of this process's.
CLOCK_MARGIN_SECONDS = 0.25


class _Coalescer:
    """When this process last queued an immediate evaluation of a market's product, and until
    when the later one it queued covers the trades committed here (wall clock: a worker runs
    a task with a countdown by its own clock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queued_at: dict[tuple[int, int], float] = {}
        self.covered_until: dict[tuple[int, int], float] = {}

    def evaluate_after(self, market_id: int, product_id: int) -> None:
        key, now = (market_id, product_id), time.time()
        with self.lock:
            if now < self.covered_until.get(key, 0.0):
                return  # an evaluation queued here runs after this trade committed
            at_once = now - self.queued_at.get(key, 0.0) >= COALESCE_SECONDS
        # Remembered only once queued: a broker that refused it covers nothing.
        if at_once:
            tasks.evaluate_prices_after_trade.delay(market_id, product_id)
            with self.lock:
                self.queued_at[key] = now
        else:
            tasks.evaluate_prices_after_trade.apply_async(
                (market_id, product_id), countdown=COALESCE_SECONDS
            )
            with self.lock:
                self.covered_until[key] = now + COALESCE_SECONDS - CLOCK_MARGIN_SECONDS


_coalescer = _Coalescer()


@receiver(post_save, sender=Trade, dispatch_uid="controltower.price_rules_after_trade")
def evaluate_prices_after_trade(sender, instance: Trade, created: bool, **kwargs) -> None:
    if not created:
        return  # a reversal: the next beat run sees the price without it
    # robust: a broker that is away never fails the trade, already committed; beat catches up.
    transaction.on_commit(
        partial(_coalescer.evaluate_after, instance.market_id, instance.product_id),
        robust=True,
    )
