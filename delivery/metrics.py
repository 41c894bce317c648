"""Delivery's metrics (common/metrics.py says how they are counted and served)."""

from common.metrics import counter, histogram

ORDERS_PLACED = counter(
    "delivery_orders_placed_total", "Consumers' orders placed at front warehouses"
)
OFFERS_MADE = counter("offers_made_total", "Delivery tasks offered to a courier")
OFFERS_CLOSED = counter(
    "offers_closed_total",
    "Offers ended, by how (status: accepted, declined, expired, withdrawn)",
    labels=["status"],
)
# Every outcome present from the start (at 0), so a rate over it never starts from nothing.
for status in ("accepted", "declined", "expired", "withdrawn"):
    OFFERS_CLOSED.labels(status=status)
DISPATCH_SECONDS = histogram(
    "dispatch_seconds",
    "Seconds dispatch takes to rank the couriers near a task and offer it to the best one",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
)
