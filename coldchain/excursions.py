"""The excursion engine: when a temperature history opens, grows and closes an excursion.

Pure: readings and a state in, the new state and what happened out; no database, no clock.
coldchain/monitoring.py keeps the state on the logger's assignment between batches and writes
the excursions and alerts this engine describes.

Rules, each direction (too warm above the highest temperature, too cold below the lowest; the
lowest already includes the chilling threshold of sensitive produce) on its own:

- A breach starts at the first reading outside the range. It becomes an excursion when a reading
  at least `delay` after that start is still outside, with no reading in range in between: a
  reading in range cancels a pending breach, so a door opened for a minute opens nothing.
  `started_at` is the first reading outside, `confirmed_at` the confirming reading.
- An open excursion closes once the readings have been back inside the range by `margin_c`
  (≤ max − margin when too warm, ≥ min + margin when too cold) continuously for `recovery`;
  `ended_at` is the first reading of that recovery. A reading outside the margin starts the
  recovery over. A gap longer than `signal_timeout` never closes an excursion: the recovery
  starts over at the reading after the gap. The delay, the margin and the recovery time are
  what keep a temperature hovering around a limit from opening and closing alert after alert.
- Degree-minutes: the area between the temperature (linear between readings) and the limit,
  beyond the limit, from the breach's first reading while the breach lasts. Each interval counts
  at most `signal_timeout`, so a gap in the data does not inflate it. The severity follows.
- The peak is the warmest (coldest) reading of the breach.
"""

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

# Same values as coldchain.choices.ExcursionKind and Severity (kept free of Django here).
TOO_WARM = "too_warm"
TOO_COLD = "too_cold"
MINOR, MAJOR, CRITICAL = 1, 2, 3

# Severity by degree-minutes (°C·min) outside the range. Below 60 (say 2 °C over for half an
# hour: a slow loading) the load loses minutes of shelf life: MINOR, look when you can. From 60
# to 240 (up to 2 °C over for two hours, or 4 °C over for an hour, which takes a 0–4 °C load to
# the 8 °C ceiling GB/T 24616 sets for chilled food): MAJOR, someone must act now. From 240 on,
# quality loss (or chilling injury, for sensitive produce) is likely and the receiver should
# check the goods at handover: CRITICAL.
MAJOR_FROM_DEGREE_MINUTES = 60.0
CRITICAL_FROM_DEGREE_MINUTES = 240.0


def severity_for(degree_minutes: float) -> int:
    if degree_minutes >= CRITICAL_FROM_DEGREE_MINUTES:
        return CRITICAL
    if degree_minutes >= MAJOR_FROM_DEGREE_MINUTES:
        return MAJOR
    return MINOR


@dataclass(frozen=True)
class Limits:
    """A subject's range and patience, as floats and timedeltas."""

    min_c: float
    max_c: float
    delay: timedelta = timedelta(minutes=15)
    recovery: timedelta = timedelta(minutes=10)
    margin_c: float = 0.5
    signal_timeout: timedelta = timedelta(minutes=15)

    @classmethod
    def of(cls, monitored: Any) -> "Limits":
        """From anything with MonitoredRange's fields (a shipment, a cold store)."""
        return cls(
            min_c=float(monitored.min_temperature_c),
            max_c=float(monitored.max_temperature_c),
            delay=timedelta(minutes=monitored.excursion_delay_minutes),
            recovery=timedelta(minutes=monitored.recovery_minutes),
            margin_c=float(monitored.recovery_margin_c),
            signal_timeout=timedelta(minutes=monitored.signal_timeout_minutes),
        )


@dataclass
class Episode:
    """A breach in one direction: pending until confirmed, then an excursion until it ends."""

    kind: str
    limit_c: float
    started_at: datetime
    peak_c: float
    degree_minutes: float = 0.0
    confirmed_at: datetime | None = None
    recovering_since: datetime | None = None
    ended_at: datetime | None = None
    # The reading that completed the recovery (ended_at + at least the recovery time).
    closed_at: datetime | None = None
    # The stored excursion's id, carried for the caller; the engine never reads it.
    ref: int | None = None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def severity(self) -> int:
        return severity_for(self.degree_minutes)

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "limit_c": self.limit_c,
            "started_at": self.started_at.isoformat(),
            "peak_c": self.peak_c,
            "degree_minutes": self.degree_minutes,
            "confirmed_at": _iso(self.confirmed_at),
            "recovering_since": _iso(self.recovering_since),
            "ref": self.ref,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Episode":
        return cls(
            kind=data["kind"],
            limit_c=data["limit_c"],
            started_at=datetime.fromisoformat(data["started_at"]),
            peak_c=data["peak_c"],
            degree_minutes=data["degree_minutes"],
            confirmed_at=_parse(data.get("confirmed_at")),
            recovering_since=_parse(data.get("recovering_since")),
            ref=data.get("ref"),
        )


@dataclass
class MonitorState:
    """What the engine remembers between batches: the last reading and, per direction, the
    pending breach or open excursion (at most one each)."""

    last_at: datetime | None = None
    last_c: float | None = None
    episodes: dict[str, Episode] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "last_at": _iso(self.last_at),
            "last_c": self.last_c,
            "episodes": [episode.to_json() for episode in self.episodes.values()],
        }

    @classmethod
    def from_json(cls, data: dict | None) -> "MonitorState":
        data = data or {}
        episodes = [Episode.from_json(item) for item in data.get("episodes", [])]
        return cls(
            last_at=_parse(data.get("last_at")),
            last_c=data.get("last_c"),
            episodes={episode.kind: episode for episode in episodes},
        )


class Event(NamedTuple):
    """Something a controller hears about, at the reading that caused it."""

    name: Literal["opened", "severity_rose", "closed"]
    at: datetime
    episode: Episode  # a copy, as it was then


@dataclass
class Evaluation:
    state: MonitorState
    events: list[Event]
    # Every excursion (confirmed episode) the run touched, with its final values, by start.
    # Those still open are the very objects in `state`, so a caller can set their `ref`.
    excursions: list[Episode]


def evaluate(
    limits: Limits, state: MonitorState, readings: Iterable[tuple[datetime, float]]
) -> Evaluation:
    """Run the rules over `readings` (time order, each newer than `state.last_at`), starting
    from `state`, which is left untouched."""
    state = copy.deepcopy(state)
    events: list[Event] = []
    touched: dict[int, Episode] = {
        id(episode): episode for episode in state.episodes.values() if episode.confirmed
    }
    directions = (
        (TOO_WARM, limits.max_c, 1.0, limits.max_c - limits.margin_c),
        (TOO_COLD, limits.min_c, -1.0, limits.min_c + limits.margin_c),
    )
    for at, temperature_c, *_ in readings:
        previous_at, previous_c = state.last_at, state.last_c
        gap = False
        minutes = 0.0
        if previous_at is not None:
            interval = at - previous_at
            gap = interval > limits.signal_timeout
            minutes = min(interval, limits.signal_timeout).total_seconds() / 60
        for kind, limit, sign, recovered_from in directions:
            # sign * (t − limit) > 0 is outside; the same for the recovery bound.
            outside = sign * (temperature_c - limit) > 0
            episode = state.episodes.get(kind)
            if episode is None:
                if outside:
                    state.episodes[kind] = Episode(
                        kind=kind, limit_c=limit, started_at=at, peak_c=temperature_c
                    )
                continue
            severity_before = episode.severity
            if (
                previous_at is not None
                and previous_c is not None
                and previous_at >= episode.started_at
            ):
                excess_before = sign * (previous_c - episode.limit_c)
                excess_now = sign * (temperature_c - episode.limit_c)
                episode.degree_minutes += _area_beyond(excess_before, excess_now) * minutes
            if outside and sign * (temperature_c - episode.peak_c) > 0:
                episode.peak_c = temperature_c
            if not episode.confirmed:
                if not outside:
                    del state.episodes[kind]  # back in range in time: a spike, not an excursion
                elif at - episode.started_at >= limits.delay:
                    episode.confirmed_at = at
                    touched[id(episode)] = episode
                    events.append(Event("opened", at, replace(episode)))
                continue
            if episode.severity > severity_before:
                events.append(Event("severity_rose", at, replace(episode)))
            if sign * (temperature_c - recovered_from) > 0:
                episode.recovering_since = None
            elif episode.recovering_since is None or gap:
                episode.recovering_since = at
            elif at - episode.recovering_since >= limits.recovery:
                episode.ended_at = episode.recovering_since
                episode.closed_at = at
                del state.episodes[kind]
                events.append(Event("closed", at, replace(episode)))
        state.last_at, state.last_c = at, temperature_c
    excursions = sorted(touched.values(), key=lambda episode: episode.started_at)
    return Evaluation(state=state, events=events, excursions=excursions)


def _area_beyond(start: float, end: float) -> float:
    """Mean excess over an interval where the excess goes linearly from `start` to `end`,
    counting only the part beyond the limit (positive); times the minutes, the area."""
    if start >= 0 and end >= 0:
        return (start + end) / 2
    if start <= 0 and end <= 0:
        return 0.0
    # It crosses the limit: only the triangle beyond it counts.
    beyond, within = (start, end) if start > 0 else (end, start)
    return beyond * beyond / (2 * (beyond - within))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
