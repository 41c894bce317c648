"""The ledger's tests settle trades at a wholesale market: they use the market fixtures of
tests/marketplace/markets/fixtures.py (a plugin registered in tests/conftest.py) and the
ledger's own checks in ledger_state.py."""
