"""How long a warehouse takes to pack an order, learned from its own recent orders, and so
when dispatch should ask a courier for a placed order (DELIVERY_DISPATCH_AHEAD).

The estimate is a low percentile of the placed → packed minutes of the warehouse's last
PACKING_SAMPLE packed orders within PACKING_HISTORY_DAYS. Why the lower third rather than the
median: a courier who arrives a minute early loses a minute of his own; one who arrives a
minute late makes the consumer wait that minute and puts the promise at risk, and the offer's
answer time comes on top of his ride. Counting a late minute twice an early one, the expected
loss is smallest at the 1/(1 + 2) quantile (the newsvendor rule). With fewer than
PACKING_MIN_SAMPLE orders to learn from, DELIVERY_PACKING_MINUTES stands in.
"""

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from ..models import DeliveryOrder
from ..rules import DispatchRules

PACKING_SAMPLE = 50
PACKING_HISTORY_DAYS = 14
PACKING_MIN_SAMPLE = 10
PACKING_QUANTILE = 1 / 3
# A promise check is the other way round: a bag packed later than reckoned makes the batch
# late, so it reckons with the upper third (in the simulation with 8 couriers, judging joins
# by the lower third made one order in twenty late).
PROMISE_PACKING_QUANTILE = 2 / 3
# A packing time above this is an order forgotten on a shelf, not the warehouse's pace.
PACKING_CEILING_MINUTES = 60.0


def _quantile(values: list[float], q: float) -> float:
    """Linear interpolation between the two nearest ranks (PostgreSQL's percentile_cont)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def packing_minutes(
    warehouse_id: int, *, now: datetime | None = None, quantile: float = PACKING_QUANTILE
) -> float:
    """Minutes the warehouse is expected to take from an order's placing to its packing: the
    `quantile` (for timing dispatch, PACKING_QUANTILE) of its recent packing times, or DELIVERY_PACKING_MINUTES when it has
    packed fewer than PACKING_MIN_SAMPLE orders in PACKING_HISTORY_DAYS. One query, served by
    the index delivery_order_packed (warehouse, packed_at)."""
    now = now or timezone.now()
    recent = (
        DeliveryOrder.objects.filter(
            warehouse_id=warehouse_id,
            packed_at__isnull=False,
            packed_at__gte=now - timedelta(days=PACKING_HISTORY_DAYS),
            packed_at__lte=now,
        )
        .order_by("-packed_at")
        .values_list("placed_at", "packed_at")[:PACKING_SAMPLE]
    )
    minutes = [
        min(PACKING_CEILING_MINUTES, max(0.0, (packed - placed).total_seconds() / 60))
        for placed, packed in recent
        if packed is not None  # filtered on it; the type does not know
    ]
    if len(minutes) < PACKING_MIN_SAMPLE:
        return float(settings.DELIVERY_PACKING_MINUTES)
    return _quantile(minutes, quantile)


def dispatch_delay_seconds(
    warehouse_id: int, *, rules: DispatchRules, now: datetime | None = None
) -> float:
    """How long after its placing an order should look for a courier, so that one who needs
    the usual ride to the warehouse (rules.pickup_minutes) arrives as its packing is expected
    to end; zero when packing is expected to be quicker than the ride."""
    minutes = packing_minutes(warehouse_id, now=now) - rules.pickup_minutes
    return max(0.0, minutes * 60)


def ready_in_minutes(orders: Sequence[DeliveryOrder], *, warehouse_id: int, now: datetime) -> float:
    """Minutes until every order of a batch is expected to be packed: 0 when all are; else
    the latest placed_at + `packing_minutes` (its upper third, PROMISE_PACKING_QUANTILE)
    among those still being packed (dispatched ahead). A courier cannot leave the warehouse
    before this, whenever he gets there, so the promise checks count from it (one query,
    only when an order is still being packed)."""
    waiting = [order for order in orders if order.packed_at is None]
    if not waiting:
        return 0.0
    estimate = packing_minutes(warehouse_id, now=now, quantile=PROMISE_PACKING_QUANTILE)
    latest = max((order.placed_at - now).total_seconds() / 60 + estimate for order in waiting)
    return max(0.0, latest)
