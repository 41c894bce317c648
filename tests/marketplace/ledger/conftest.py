"""The market fixtures (tests/marketplace/markets/conftest.py) for the ledger's tests."""

from tests.marketplace.markets.conftest import (  # noqa: F401
    BUYER_CARD,
    SELLER_CARD,
    buyer_trader,
    cabbage,
    commission,
    market,
    operator,
    other_market,
    seller_trader,
    settle,
    supervisor,
    trading_buyer,
    trading_farmer,
)
