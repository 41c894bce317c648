"""Mean kinetic temperature and the consumed-life arithmetic of shelf life. Pure: no ORM, no
clock; coldchain/shelf_life.py reads the history and stores the results.

Mean kinetic temperature (Haynes 1971, USP <1079>/<1160>), with ΔH the activation energy and
R the gas constant, T in kelvin (°C + 273.15) and w_i the time each sample stands for:

    MKT = (ΔH/R) / −ln( Σ w_i·exp(−ΔH/(R·T_i)) / Σ w_i )

Each sample stands for the interval until the next one (a step, as loggers record); the last one
until `until` when given, else for the mean interval of the series, so an evenly spaced series
gets equal weights and the textbook formula with n in the denominator.

Remaining shelf life is the additive consumed-life model of ../shared/data/produce-storage.md:
f = Σ Δt_i / SL(T_i) with SL(T) = SL_ref / r(T), r from the product's storage profile (Q10,
Arrhenius or square-root), so f = Σ Δt_i·r(T_i) / SL_ref; what remains at the reference
temperature is SL_ref·(1 − f). `spoilage_rate` adds the two places where the model's own r(T)
would flatter: chilling injury, and cold below the band of a product that is not sensitive.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Protocol

DEFAULT_ACTIVATION_ENERGY_KJ_MOL = 83.144  # ΔH/R = 10,000 K, as USP <1079> uses
# USP <1160> gives R = 8.3144 × 10⁻³ kJ/(mol·K), which makes the default ΔH/R exactly 10,000 K.
GAS_CONSTANT_KJ_PER_MOL_K = 0.0083144
KELVIN_AT_0_C = 273.15
SECONDS_PER_DAY = 86_400.0
SECONDS_PER_HOUR = 3_600.0

# Chilling injury is "time × temperature, and can be cumulative" (produce-storage.md, after
# AH-66 and the UC Davis text): below the lowest safe temperature every hour costs more the
# colder it is, and cold never buys life back. The rate there is the rate *at* the threshold
# times (1 + penalty × degrees below it), so the damage added grows with degree-hours below the
# threshold, and the additive consumed fraction keeps it once done. The references give no
# commodity rates for injury, so the value is deliberately pessimistic: 2 °C below the threshold
# doubles the rate, where 2 °C of warming near the threshold (Q10 2.5–4 between 0 and 10 °C)
# raises it by 20–32 %. Short exposures that the produce could repair are not credited back.
CHILLING_PENALTY_PER_DEGREE_C = 0.5

# Exposure is kept as time per temperature, rounded to this many decimals of a degree, so a lot
# is scored from a few hundred bins rather than every reading. Loggers resolve 0.1 °C; the
# rounding moves a Q10 rate by under 0.1 %.
TEMPERATURE_BIN_DECIMALS = 2


# Mean kinetic temperature


def weighted_mean_kinetic_temperature(
    weighted: Iterable[tuple[float, float]],
    *,
    activation_energy_kj_mol: float = DEFAULT_ACTIVATION_ENERGY_KJ_MOL,
) -> float | None:
    """MKT (°C) of (temperature °C, weight ≥ 0) pairs; None without positive weight.

    Summed as log-sum-exp, so deep-frozen series whose exp(−ΔH/RT) underflow still work."""
    energy_over_r = float(activation_energy_kj_mol) / GAS_CONSTANT_KJ_PER_MOL_K
    exponents: list[float] = []
    weights: list[float] = []
    for temperature_c, weight in weighted:
        if weight > 0:
            exponents.append(-energy_over_r / (float(temperature_c) + KELVIN_AT_0_C))
            weights.append(float(weight))
    if not weights:
        return None
    largest = max(exponents)
    scaled = sum(w * math.exp(x - largest) for w, x in zip(weights, exponents, strict=True))
    log_mean = largest + math.log(scaled) - math.log(sum(weights))
    return energy_over_r / -log_mean - KELVIN_AT_0_C


def mean_kinetic_temperature_of(
    temperatures: Iterable[float],
    *,
    activation_energy_kj_mol: float = DEFAULT_ACTIVATION_ENERGY_KJ_MOL,
) -> float | None:
    """MKT (°C) of equally spaced temperatures (°C); None without any."""
    return weighted_mean_kinetic_temperature(
        ((temperature, 1.0) for temperature in temperatures),
        activation_energy_kj_mol=activation_energy_kj_mol,
    )


def held_intervals(
    samples: Iterable[tuple[datetime, float]],
    *,
    until: datetime | None = None,
    max_hold: timedelta | None = None,
) -> list[tuple[float, float]]:
    """(temperature °C, seconds) per sample: each holds until the next sample, the last until
    `until` (or, without it, for the mean interval of the series), none longer than `max_hold`.

    A lone sample without `until` gets one second, any positive weight being the same to a
    mean. Samples are sorted by time first (already sorted input costs one pass)."""
    ordered = sorted(samples, key=lambda sample: sample[0])
    if not ordered:
        return []
    cap = max_hold.total_seconds() if max_hold is not None else math.inf
    held = [
        (float(temperature), min((later - moment).total_seconds(), cap))
        for (moment, temperature), (later, _next) in pairwise(ordered)
    ]
    last_at, last_temperature = ordered[-1]
    if until is not None:
        last = max((until - last_at).total_seconds(), 0.0)
    elif len(ordered) > 1:
        last = (last_at - ordered[0][0]).total_seconds() / (len(ordered) - 1)
    else:
        last = 1.0
    held.append((float(last_temperature), min(last, cap)))
    return held


def mean_kinetic_temperature(
    samples: Iterable[tuple[datetime, float]],
    *,
    activation_energy_kj_mol: float = DEFAULT_ACTIVATION_ENERGY_KJ_MOL,
    until: datetime | None = None,
) -> float | None:
    """Time-weighted MKT (°C) of (time, °C) samples in time order; None without samples.

    Each sample weighs the interval until the next; the last weighs until `until`, or without
    it the mean interval (equal weights for an evenly spaced series). Samples that all stand
    for no time (one instant, `until` at the last sample) count equally."""
    held = held_intervals(samples, until=until)
    if not held:
        return None
    if sum(seconds for _temperature, seconds in held) <= 0:
        held = [(temperature, 1.0) for temperature, _seconds in held]
    return weighted_mean_kinetic_temperature(
        held, activation_energy_kj_mol=activation_energy_kj_mol
    )


# Shelf life


class ShelfLifeProfile(Protocol):
    """What the arithmetic needs of farms.models.StorageProfile."""

    nominal_shelf_life_days: int
    reference_temperature_c: Decimal
    min_temperature_c: Decimal
    max_temperature_c: Decimal
    lowest_safe_temperature_c: Decimal | None

    def relative_rate(self, temperature_c: Decimal | float) -> float: ...


def spoilage_rate(profile: ShelfLifeProfile, temperature_c: float) -> float:
    """Rate of quality loss at T relative to the reference temperature, as shelf life counts it.

    - Chilling-sensitive product below its lowest safe temperature: the rate at that threshold
      times (1 + CHILLING_PENALTY_PER_DEGREE_C × degrees below), never less than at the threshold.
    - Product that is not chilling-sensitive, below its storage band: the rate at the band's
      lowest temperature. Colder is freezing risk, not extra life, and the square-root model's
      zero rate below its minimum would promise an endless one.
    - Otherwise the profile's own model (Q10, Arrhenius or square-root)."""
    if profile.lowest_safe_temperature_c is not None:
        threshold = float(profile.lowest_safe_temperature_c)
        if temperature_c < threshold:
            penalty = 1.0 + CHILLING_PENALTY_PER_DEGREE_C * (threshold - temperature_c)
            return profile.relative_rate(threshold) * penalty
    else:
        lowest = float(profile.min_temperature_c)
        if temperature_c < lowest:
            return profile.relative_rate(lowest)
    return profile.relative_rate(temperature_c)


@dataclass
class TemperatureExposure:
    """Time a lot spent at each temperature (seconds per °C bin), and time nobody measured.

    Additive: the consumed-life model does not care about order, so the legs of a lot's journey
    are merged by adding their bins."""

    seconds_at: dict[float, float] = field(default_factory=dict)
    unmonitored_seconds: float = 0.0

    def add(self, temperature_c: float, seconds: float) -> None:
        if seconds > 0:
            key = round(float(temperature_c), TEMPERATURE_BIN_DECIMALS)
            self.seconds_at[key] = self.seconds_at.get(key, 0.0) + seconds

    def add_unmonitored(self, seconds: float) -> None:
        if seconds > 0:
            self.unmonitored_seconds += seconds

    def merge(self, other: "TemperatureExposure") -> None:
        for temperature, seconds in other.seconds_at.items():
            self.add(temperature, seconds)
        self.add_unmonitored(other.unmonitored_seconds)

    @property
    def monitored_seconds(self) -> float:
        return sum(self.seconds_at.values())


def exposure_of_stretch(
    readings: Iterable[tuple[datetime, float]],
    *,
    start: datetime,
    end: datetime,
    max_gap: timedelta,
) -> TemperatureExposure:
    """The exposure over [start, end) from the (time, °C) readings taken in it, in time order.

    Each reading holds until the next; the first also covers the stretch before it and the
    last the stretch after it. Any interval between those points longer than `max_gap` (the
    subject's loss-of-signal time) is unmonitored as a whole: nobody knows what happened."""
    exposure = TemperatureExposure()
    limit = max_gap.total_seconds()
    previous_at, previous_temperature = start, None
    for moment, temperature in readings:
        if not start <= moment < end:
            continue
        seconds = (moment - previous_at).total_seconds()
        if seconds > limit:
            exposure.add_unmonitored(seconds)
        else:
            # Before the first reading, the first reading is the best guess (backfill).
            held = previous_temperature if previous_temperature is not None else temperature
            exposure.add(held, seconds)
        previous_at, previous_temperature = moment, temperature
    tail = (end - previous_at).total_seconds()
    if previous_temperature is None or tail > limit:
        exposure.add_unmonitored(tail)
    else:
        exposure.add(previous_temperature, tail)
    return exposure


@dataclass(frozen=True)
class ConsumedLife:
    """How much of a lot's life its history used, and what it leaves at the reference
    temperature (days ≥ 0)."""

    consumed_fraction: float
    remaining_days: float
    monitored_hours: float
    unmonitored_hours: float
    chilling_hours: float


def consumed_life(profile: ShelfLifeProfile, exposure: TemperatureExposure) -> ConsumedLife:
    """f = Σ Δt·r(T) / SL_ref over the exposure, with unmonitored time at the top of the
    storage band (an estimate that never flatters), and remaining = SL_ref·(1 − f), ≥ 0.

    Chilling hours are the monitored hours below a sensitive product's lowest safe temperature
    (the band's top is always above it, so unmonitored time never adds any)."""
    reference_seconds = profile.nominal_shelf_life_days * SECONDS_PER_DAY
    top = float(profile.max_temperature_c)
    used = exposure.unmonitored_seconds * spoilage_rate(profile, top)
    chilling_seconds = 0.0
    threshold = profile.lowest_safe_temperature_c
    for temperature, seconds in exposure.seconds_at.items():
        used += seconds * spoilage_rate(profile, temperature)
        if threshold is not None and temperature < float(threshold):
            chilling_seconds += seconds
    fraction = used / reference_seconds
    return ConsumedLife(
        consumed_fraction=fraction,
        remaining_days=profile.nominal_shelf_life_days * max(0.0, 1.0 - fraction),
        monitored_hours=exposure.monitored_seconds / SECONDS_PER_HOUR,
        unmonitored_hours=exposure.unmonitored_seconds / SECONDS_PER_HOUR,
        chilling_hours=chilling_seconds / SECONDS_PER_HOUR,
    )
