"""Days to replay: a city, its orders through the day, its couriers' shifts.

`DayParams` says what a day is like (every field is documented where it is declared);
`generate_day(params)` draws the day itself, the same for the same seed: each order's time,
door and packing duration, each courier's shift. Places are metres east and north of the
city's centre, so the world can put the city anywhere on the map.

Orders arrive by a rate that is flat through the opening hours with a lunch and a dinner
peak on top (a Gaussian bump each); the day's number of orders is the load
(`orders_per_courier_hour`) times the courier-hours on shift while the shop takes orders.
Doors are uniform over the warehouse's zone (a disc). Packing durations are drawn from a
gamma distribution per warehouse; the replay queues them on the warehouse's packers.
"""

import dataclasses
import json
import math
import random
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from common.dates import BUSINESS_TIME_ZONE

LOADS = {"light": 1.0, "medium": 1.8, "heavy": 2.6}  # orders per courier-hour


@dataclass(frozen=True)
class Peak:
    """A bump of the order rate: centred at `at` (local "HH:MM"), `hours` wide (its standard
    deviation) and `height` times the flat rate at its top."""

    at: str
    hours: float
    height: float


@dataclass(frozen=True)
class Shift:
    """A shift pattern: from `start` to `end` (local "HH:MM"); `share` of the couriers work it."""

    start: str
    end: str
    share: float


@dataclass(frozen=True)
class Packing:
    """A warehouse's packing: `packers` people working orders first come, first served, each
    order taking a gamma-distributed time of this mean and standard deviation (minutes)."""

    mean_minutes: float = 5.0
    sd_minutes: float = 2.0
    packers: int = 2


@dataclass(frozen=True)
class DayParams:
    name: str = "day"
    seed: int = 1
    # The simulated date (a past one: far from the wall clock, so a leak of the real time
    # into the replay shows).
    day: date = date(2025, 6, 3)
    band: str = ""  # a label for the report: light, medium, heavy
    # --- The city
    warehouses: int = 1
    zone_radius_m: float = 3000.0  # each warehouse delivers within this distance
    # Warehouses stand on a grid this far apart (zones of 3 km, 6.5 km apart: they do not
    # overlap, and a courier idle at one is mostly out of the 5 km reach of the next).
    warehouse_spacing_m: float = 6500.0
    promised_minutes: int = 30  # the warehouses' promise, click to door
    # --- Orders (local time, Asia/Shanghai)
    opens: str = "11:00"  # the first order comes after this
    closes: str = "20:00"  # and the last before this
    lunch: Peak = Peak("12:00", 0.75, 2.0)
    dinner: Peak = Peak("18:00", 0.75, 2.5)
    # The load: the day's orders per courier-hour on shift while the shop takes orders.
    orders_per_courier_hour: float = 1.8
    # --- Warehouses' packing; one per warehouse, the list taken round when shorter.
    packing: tuple[Packing, ...] = (Packing(),)
    # --- Couriers
    couriers_per_warehouse: int = 4
    shifts: tuple[Shift, ...] = (
        # The evening shifts end an hour after the last order: what is left then is carried.
        Shift("10:45", "21:00", 0.5),  # all day
        Shift("11:00", "14:00", 0.25),  # lunch
        Shift("17:00", "21:00", 0.25),  # dinner
    )
    capacity: int = 3  # orders a courier carries at most
    # True speed in straight-line metres a minute (public meal-delivery instances: 320-430).
    speed_m_per_min: float = 375.0
    warehouse_service_minutes: float = 3.0  # loading at the warehouse after the pick-up
    door_service_minutes: float = 3.0  # at each door after the hand-over
    decline_share: float = 0.08  # of offers, declined
    timeout_share: float = 0.04  # of offers, left unanswered to run out
    answer_seconds: tuple[float, float] = (4.0, 20.0)  # an answer comes after this long
    idle: str = "stay"  # an idle courier waits where he is ("stay") or rides home ("return")
    position_fix_seconds: float = 60.0  # the phone's fixes while riding
    drain_minutes: float = 120.0  # the replay goes on this long after the last order at most

    def __post_init__(self) -> None:
        if self.idle not in ("stay", "return"):
            raise ValueError('idle is "stay" or "return"')
        if self.warehouses < 1 or self.couriers_per_warehouse < 1 or not self.packing:
            raise ValueError("a day needs a warehouse, a courier and its packing")
        if not 0 <= self.decline_share + self.timeout_share <= 1:
            raise ValueError("decline_share + timeout_share is a share of the offers (0 to 1)")
        if self.local(self.closes) <= self.local(self.opens):
            raise ValueError("the shop closes after it opens (the same day)")

    @classmethod
    def from_dict(cls, values: dict) -> "DayParams":
        """From JSON: nested peaks, shifts and packing as objects (lists for tuples); a date as
        "YYYY-MM-DD"; missing fields keep their defaults."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown day parameters: {', '.join(sorted(unknown))}")
        v = dict(values)
        if "day" in v:
            v["day"] = date.fromisoformat(v["day"])
        for name in ("lunch", "dinner"):
            if name in v:
                v[name] = Peak(**v[name])
        if "shifts" in v:
            v["shifts"] = tuple(Shift(**s) for s in v["shifts"])
        if "packing" in v:
            packing = v["packing"]
            v["packing"] = tuple(
                Packing(**p) for p in (packing if isinstance(packing, list) else [packing])
            )
        if "answer_seconds" in v:
            v["answer_seconds"] = tuple(v["answer_seconds"])
        return cls(**v)

    def as_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["day"] = self.day.isoformat()
        return values

    def local(self, hhmm: str) -> datetime:
        """The day's moment at local "HH:MM" (aware)."""
        return datetime.combine(self.day, time.fromisoformat(hhmm), tzinfo=BUSINESS_TIME_ZONE)


@dataclass(frozen=True)
class OrderSpec:
    index: int
    at: datetime
    warehouse: int
    door_east_m: float
    door_north_m: float
    packing_minutes: float


@dataclass(frozen=True)
class CourierSpec:
    index: int
    warehouse: int
    shift_start: datetime
    shift_end: datetime


@dataclass(frozen=True)
class Day:
    params: DayParams
    warehouses: tuple[tuple[float, float], ...]  # (east_m, north_m) of each from the centre
    orders: tuple[OrderSpec, ...]
    couriers: tuple[CourierSpec, ...]
    courier_hours: float  # on shift while the shop takes orders
    extra: dict = field(default_factory=dict)

    @property
    def starts(self) -> datetime:
        return min(c.shift_start for c in self.couriers)

    @property
    def last_order(self) -> datetime:
        return max((o.at for o in self.orders), default=self.params.local(self.params.closes))


def _grid(count: int, spacing: float) -> tuple[tuple[float, float], ...]:
    """`count` warehouses on a square grid round the centre."""
    side = math.ceil(math.sqrt(count))
    cells = [(col, row) for row in range(side) for col in range(side)][:count]
    mean_col = sum(c for c, _ in cells) / count
    mean_row = sum(r for _, r in cells) / count
    return tuple(((c - mean_col) * spacing, (r - mean_row) * spacing) for c, r in cells)


def _rate(params: DayParams, moment: datetime) -> float:
    """The order rate at `moment`, relative to the flat rate."""
    rate = 1.0
    for peak in (params.lunch, params.dinner):
        hours = (moment - params.local(peak.at)).total_seconds() / 3600
        rate += peak.height * math.exp(-0.5 * (hours / peak.hours) ** 2)
    return rate


def _shifts(params: DayParams, count: int) -> list[Shift]:
    """`count` couriers over the shift patterns by their shares (largest remainder)."""
    total = sum(s.share for s in params.shifts)
    exact = [s.share / total * count for s in params.shifts]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: count - sum(counts)]:
        counts[i] += 1
    return [s for s, n in zip(params.shifts, counts, strict=True) for _ in range(n)]


def _overlap_hours(start: datetime, end: datetime, opens: datetime, closes: datetime) -> float:
    return max(0.0, (min(end, closes) - max(start, opens)).total_seconds() / 3600)


def generate_day(params: DayParams) -> Day:
    """The day drawn from `params` (the same for the same seed)."""
    rng = random.Random(params.seed)
    opens, closes = params.local(params.opens), params.local(params.closes)
    warehouses = _grid(params.warehouses, params.warehouse_spacing_m)
    couriers = []
    for w in range(params.warehouses):
        for shift in _shifts(params, params.couriers_per_warehouse):
            couriers.append(
                CourierSpec(
                    index=len(couriers),
                    warehouse=w,
                    shift_start=params.local(shift.start),
                    shift_end=params.local(shift.end),
                )
            )
    courier_hours = sum(_overlap_hours(c.shift_start, c.shift_end, opens, closes) for c in couriers)
    count = round(params.orders_per_courier_hour * courier_hours)
    # Arrival times by inverse sampling of the rate on a one-minute grid.
    minutes = int((closes - opens).total_seconds() // 60)
    cumulative, total = [], 0.0
    for m in range(minutes):
        total += _rate(params, opens + timedelta(minutes=m + 0.5))
        cumulative.append(total)
    times = []
    for _ in range(count):
        u = rng.random() * total
        lo, hi = 0, minutes - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cumulative[mid] < u:
                lo = mid + 1
            else:
                hi = mid
        times.append(opens + timedelta(minutes=lo + rng.random()))
    times.sort()
    orders = []
    for index, at in enumerate(times):
        w = rng.randrange(params.warehouses)
        packing = params.packing[w % len(params.packing)]
        radius = 0.95 * params.zone_radius_m * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        shape = (packing.mean_minutes / packing.sd_minutes) ** 2 if packing.sd_minutes else 0
        minutes_to_pack = (
            rng.gammavariate(shape, packing.mean_minutes / shape) if shape else packing.mean_minutes
        )
        orders.append(
            OrderSpec(
                index=index,
                at=at,
                warehouse=w,
                door_east_m=warehouses[w][0] + radius * math.sin(angle),
                door_north_m=warehouses[w][1] + radius * math.cos(angle),
                packing_minutes=max(0.5, minutes_to_pack),
            )
        )
    return Day(
        params=params,
        warehouses=warehouses,
        orders=tuple(orders),
        couriers=tuple(couriers),
        courier_hours=courier_hours,
    )


# Small, so that the 12 days replayed twice stay near ten minutes on a 2-core machine: a
# replay costs about 0.4 s of wall-clock time per order and 5 ms per sweep (bench/
# dispatch_quality.py says what was measured). Per warehouse and shift pattern: the small
# city's 4 couriers work 2 all day, 1 lunch, 1 dinner; the large city's 3 one of each.
CITIES = {
    "small": {"warehouses": 1, "couriers_per_warehouse": 4},
    "large": {"warehouses": 3, "couriers_per_warehouse": 3},
}


def standard_days() -> list[DayParams]:
    """The days bench/dispatch_quality replays: light, medium and heavy load, a small city
    (one warehouse) and a large one (three), two seeds each: 12 days, the first six one of
    each band and city."""
    days = []
    # Seed first: the first six days hold one of each band and city.
    for seed in (1, 2):
        for band, load in LOADS.items():
            for city, shape in CITIES.items():
                days.append(
                    DayParams(
                        name=f"{band}-{city}-{seed}",
                        seed=hash_seed(band, city, seed),
                        band=band,
                        orders_per_courier_hour=load,
                        **shape,
                    )
                )
    return days


def hash_seed(*parts) -> int:
    """A stable seed from the parts (Python's hash() of a string changes between runs)."""
    return zlib.crc32(":".join(map(str, parts)).encode())


def load_params(path: Path) -> list[DayParams]:
    """Days from a JSON file: one object, or a list of objects (see DayParams.from_dict)."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    items = document if isinstance(document, list) else [document]
    return [DayParams.from_dict(item) for item in items]
