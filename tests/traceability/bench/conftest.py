"""bench/trace's data generator and raw SQL, built at a tiny scale in the test database."""

import pytest

from bench.tracing.data import Scale, build

# 2 listings, 6 marketplace order lines, 10 trades, 2 shipments, 3 stock lots and 27 consumer
# order lines: 50 records downstream of the lot, and a little of everything around it.
TINY = Scale(
    listings=2, order_lines=6, trades=10, shipments=2, warehouses=3, consumer_lines=27,
    markets=2, buyers_per_market=2, marketplace_buyers=2, consumers=5,
    background_lots=3, background_stock_per_lot=2, background_order_lines=5,
    background_trades=12, background_shipments=2, background_consumer_lines=10,
)  # fmt: skip


@pytest.fixture
def tiny_scale() -> Scale:
    return TINY


@pytest.fixture
def bench_lot(db, tiny_scale):
    return build(tiny_scale, say=lambda *args, **kwargs: None)
