"""Mean kinetic temperature and shelf-life kinetics. (Stub: being written; signatures fixed.)"""

from collections.abc import Iterable
from datetime import datetime

DEFAULT_ACTIVATION_ENERGY_KJ_MOL = 83.144  # ΔH/R = 10,000 K, as USP <1079> uses


def mean_kinetic_temperature(
    samples: Iterable[tuple[datetime, float]],
    *,
    activation_energy_kj_mol: float = DEFAULT_ACTIVATION_ENERGY_KJ_MOL,
    until: datetime | None = None,
) -> float | None:
    """Time-weighted MKT (°C) of (time, °C) samples in time order; None without samples."""
    raise NotImplementedError
