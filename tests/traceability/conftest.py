"""Traceability's tests: certificates, gate checks, journeys, trace pages and recalls. Lots,
farms and markets come from the other apps' fixtures (tests/conftest.py registers them)."""
