"""The wholesale market fixtures (market, operator, traders, settle, …) are in fixtures.py,
a plugin registered in tests/conftest.py, so tests/settlement shares them too."""
