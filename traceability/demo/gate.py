"""Demo: gate."""


def seed(context: dict) -> None:
    """(Filled in by the gate work.)"""
