"""Demo: recalls."""


def seed(context: dict) -> None:
    """(Filled in by the recalls work.)"""
