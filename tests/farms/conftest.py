"""The farms tests' fixtures: the co-operatives, their people, farms and the catalogue are
shared by every app's tests, so they live in tests/conftest.py."""
