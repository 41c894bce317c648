"""Judging readings as they arrive: excursions, loss of signal, live pushes.

(Stub: the excursion engine is being written; the signatures below are the contract.)
"""

from datetime import datetime
from typing import NamedTuple


class ReadingIn(NamedTuple):
    """One newly stored reading, as ingest hands it on (sorted by recorded_at)."""

    recorded_at: datetime
    temperature_c: float
    humidity_pct: float | None = None
    longitude: float | None = None
    latitude: float | None = None
    battery_pct: int | None = None


def judge_readings(*, logger_id: int, readings: list[ReadingIn]) -> None:
    """Called by ingest inside its transaction with the readings it has just stored."""


def raise_signal_losses(*, now: datetime) -> int:
    """Raise one alert per watched subject silent for its signal timeout; returns how many."""
    return 0
