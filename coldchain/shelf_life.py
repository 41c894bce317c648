"""Remaining shelf life of lots from their temperature history. (Stub: being written.)"""

from datetime import datetime


def refresh_lot_conditions(*, now: datetime) -> int:
    """Re-evaluate the lots on active and recent shipments; returns how many."""
    return 0
