"""The accounts tests' fixtures: the actors they need are tests/conftest.py's; builders are in
factories.py."""
