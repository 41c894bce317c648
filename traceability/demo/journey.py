"""Demo: journey."""


def seed(context: dict) -> None:
    """(Filled in by the journey work.)"""
