"""The platform-wide tests' fixtures: the actors they need are tests/conftest.py's."""
