"""Demo: certificates."""


def seed(context: dict) -> None:
    """(Filled in by the certificates work.)"""
