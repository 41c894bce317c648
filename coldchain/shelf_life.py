"""Remaining shelf life of harvest lots from their temperature history, and a subject's
temperature summary over a window. The arithmetic is in coldchain/kinetics.py; this module
reads the history and keeps `LotCondition` rows.

A lot's history runs from its harvest until now:
- Harvest: the lot's date at 08:00 Beijing time. The date carries no hour; produce is picked in
  the cool of the morning, and 08:00 is about when a morning's pick is crated. Midnight would
  charge up to eight hours at the top of the band that never happened; a later hour would drop
  the field hours of a morning pick.
- Monitored stretches: each shipment carrying the lot, from departure until arrival (or now);
  once arrived, readings that came late after the arrival do not count (frozen at delivery);
  a planned shipment not yet gone, over its loggers' assignment periods. Its readings come from
  coldchain.history.subject_readings; a gap longer than the shipment's loss-of-signal time is
  unmonitored. Overlapping shipments of one lot are counted once (the earlier first).
- Everything else is unmonitored and counted at the top of the product's storage band, so an
  estimate never flatters: a lot that nobody watched is assumed kept no better than allowed.
"""

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import chain

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Count, F, FloatField, Func, Max, Min, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import Exp, Lead, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from common.dates import BUSINESS_TIME_ZONE
from farms.models import HarvestLot, StorageProfile
from farms.selectors import lots_visible_to

from .choices import ShipmentStatus
from .exceptions import ColdChainError
from .history import assignments_of, subject_hours, subject_readings
from .kinetics import (
    DEFAULT_ACTIVATION_ENERGY_KJ_MOL,
    GAS_CONSTANT_KJ_PER_MOL_K,
    KELVIN_AT_0_C,
    TemperatureExposure,
    consumed_life,
    exposure_of_stretch,
)
from .models import ColdStore, LotCondition, Shipment, ShipmentLot
from .reading_keeping import raw_window_start
from .selectors.visibility import sees_everything

HARVEST_TIME = time(8, 0)  # Beijing time; see the module docstring
RECENT_ARRIVAL = timedelta(days=7)
REFRESH_BATCH_LOTS = 200
ACTIVE_STATUSES = (ShipmentStatus.PLANNED, ShipmentStatus.IN_TRANSIT)
NO_PROFILE_MESSAGE = _(
    "This product has no storage profile, so its shelf life cannot be estimated."
)
CONDITION_FIELDS = (
    "evaluated_at",
    "consumed_fraction",
    "remaining_days",
    "expected_expiry_at",
    "monitored_hours",
    "unmonitored_hours",
    "chilling_hours",
)


def harvested_at(lot: HarvestLot) -> datetime:
    """When the lot's clock starts: its harvest date at 08:00 Beijing time."""
    return datetime.combine(lot.harvest_date, HARVEST_TIME, tzinfo=BUSINESS_TIME_ZONE)


def storage_profile_of(lot: HarvestLot) -> StorageProfile | None:
    try:
        return lot.product.storage_profile
    except ObjectDoesNotExist:
        return None


class _ShipmentHistories:
    """Each shipment's monitored period and readings, read once however many lots it carries
    (a refresh scores every lot of a shipment from one pass over its readings)."""

    def __init__(self, *, now: datetime):
        self.now = now
        self._periods: dict[int, tuple[datetime, datetime] | None] = {}
        self._exposures: dict[tuple[int, datetime, datetime], TemperatureExposure] = {}

    def period(self, shipment: Shipment) -> tuple[datetime, datetime] | None:
        """[start, end) the goods were watched: departure to arrival (or now); for a planned
        shipment not gone yet, its loggers' assignments; a cancelled one, none."""
        if shipment.pk not in self._periods:
            self._periods[shipment.pk] = self._read_period(shipment)
        return self._periods[shipment.pk]

    def _read_period(self, shipment: Shipment) -> tuple[datetime, datetime] | None:
        if shipment.departed_at is not None:
            start, end = shipment.departed_at, shipment.arrived_at or self.now
        elif shipment.status == ShipmentStatus.PLANNED:
            periods = [(a.starts_at, a.ends_at or self.now) for a in assignments_of(shipment)]
            if not periods:
                return None
            start, end = min(p[0] for p in periods), max(p[1] for p in periods)
        else:
            return None
        end = min(end, self.now)
        return (start, end) if start < end else None

    def exposure(self, shipment: Shipment, start: datetime, end: datetime) -> TemperatureExposure:
        key = (shipment.pk, start, end)
        if key not in self._exposures:
            boundary = raw_window_start(self.now)
            readings = subject_readings(shipment, start=max(start, boundary), end=end)
            if shipment.arrived_at is not None:
                # Frozen at delivery: the receiver accepted the goods on the record as it
                # stood then. Readings uploaded after it (flagged late: the watch had ended)
                # cannot be checked by anyone at the handover, and in-range ones slipped
                # between the real ones would flatter the goods, so they do not count; the
                # gaps they would fill stay unmonitored (counted at the top of the band),
                # which never flatters.
                readings = readings.exclude(late=True, received_at__gt=shipment.arrived_at)
            points: Iterable[tuple[datetime, float]] = readings.values_list(
                "recorded_at", "temperature_c"
            ).iterator(chunk_size=5000)
            if start < boundary:
                # Before the raw window: the hourly rollups, then the readings.
                points = chain(_hourly_points(shipment, start, min(end, boundary)), points)
            self._exposures[key] = exposure_of_stretch(
                points,
                start=start,
                end=end,
                max_gap=timedelta(minutes=shipment.signal_timeout_minutes),
            )
        return self._exposures[key]


def _hourly_points(shipment: Shipment, start: datetime, end: datetime):
    """Before the raw window: each rolled-up hour as its mean, at its first and its last
    reading, so a gap between hours is still a gap (one inside an hour is not seen)."""
    rows = subject_hours(shipment, start=start, end=end).values_list(
        "first_at", "last_at", "temperature_sum_c", "readings"
    )
    for first_at, last_at, total_c, readings in rows.iterator(chunk_size=5000):
        mean = total_c / readings
        yield first_at, mean
        if last_at > first_at:
            yield last_at, mean


def _monitored_stretches(
    legs: Iterable[ShipmentLot], histories: _ShipmentHistories, *, since: datetime
) -> list[tuple[Shipment, datetime, datetime]]:
    """The lot's watched stretches after `since`, in time order and without overlap."""
    periods = []
    for leg in legs:
        period = histories.period(leg.shipment)
        if period is not None:
            periods.append((period[0], period[1], leg.shipment))
    periods.sort(key=lambda period: (period[0], period[1], period[2].pk))
    stretches = []
    covered_until = since
    for start, end, shipment in periods:
        start = max(start, covered_until)
        if start < end:
            stretches.append((shipment, start, end))
            covered_until = end
    return stretches


def _assess(
    lot: HarvestLot, legs: Iterable[ShipmentLot], histories: _ShipmentHistories
) -> LotCondition | None:
    profile = storage_profile_of(lot)
    if profile is None:
        return None
    now = histories.now
    since = harvested_at(lot)
    exposure = TemperatureExposure()
    if now > since:
        watched_seconds = 0.0
        for shipment, start, end in _monitored_stretches(legs, histories, since=since):
            exposure.merge(histories.exposure(shipment, start, end))
            watched_seconds += (end - start).total_seconds()
        exposure.add_unmonitored((now - since).total_seconds() - watched_seconds)
    life = consumed_life(profile, exposure)
    return LotCondition(
        lot=lot,
        evaluated_at=now,
        consumed_fraction=life.consumed_fraction,
        remaining_days=life.remaining_days,
        expected_expiry_at=now + timedelta(days=life.remaining_days),
        monitored_hours=life.monitored_hours,
        unmonitored_hours=life.unmonitored_hours,
        chilling_hours=life.chilling_hours,
    )


def assess_lot_condition(*, lot: HarvestLot, now: datetime) -> LotCondition | None:
    """The lot's condition at `now`, computed fresh and not saved (pages and the API read it
    this way, so a lot off the refreshed shipments is still current); None when its product
    has no storage profile."""
    legs = lot.shipment_legs.select_related("shipment")
    return _assess(lot, legs, _ShipmentHistories(now=now))


def _upsert(conditions: list[LotCondition]) -> list[LotCondition]:
    return LotCondition.objects.bulk_create(
        conditions,
        update_conflicts=True,
        unique_fields=["lot"],
        update_fields=list(CONDITION_FIELDS),
    )


def evaluate_lot_condition(*, lot: HarvestLot, now: datetime) -> LotCondition:
    """Score the lot's history until `now` and store it as its condition (one row per lot,
    replaced): consumed fraction f = Σ Δt / SL(T), remaining days at the reference temperature
    SL_ref·(1 − f) ≥ 0, expected expiry now + remaining, and monitored, unmonitored and
    chilling hours. Refused for a product without a storage profile."""
    condition = assess_lot_condition(lot=lot, now=now)
    if condition is None:
        raise ColdChainError(str(NO_PROFILE_MESSAGE), field="lot")
    with transaction.atomic():
        (saved,) = _upsert([condition])
    return saved


def refresh_lot_conditions(*, now: datetime) -> int:
    """Re-evaluate the lots on active and recent shipments; returns how many.

    Active: planned or in transit; recent: arrived in the last seven days. Each lot is scored
    over its whole history (earlier legs too); each shipment's readings are read once for all
    its lots. Lots go in batches, each stored in one short transaction. Lots whose product has
    no storage profile are skipped."""
    on_recent_shipments = Q(shipment__status__in=ACTIVE_STATUSES) | Q(
        shipment__arrived_at__gte=now - RECENT_ARRIVAL, shipment__arrived_at__lte=now
    )
    lot_ids = sorted(
        set(ShipmentLot.objects.filter(on_recent_shipments).values_list("lot_id", flat=True))
    )
    histories = _ShipmentHistories(now=now)
    refreshed = 0
    for first in range(0, len(lot_ids), REFRESH_BATCH_LOTS):
        batch = lot_ids[first : first + REFRESH_BATCH_LOTS]
        legs_by_lot: dict[int, list[ShipmentLot]] = defaultdict(list)
        legs = ShipmentLot.objects.filter(lot_id__in=batch).select_related(
            "shipment", "lot__product__storage_profile"
        )
        for leg in legs:
            legs_by_lot[leg.lot_id].append(leg)
        conditions = [
            condition
            for lot_legs in legs_by_lot.values()
            if (condition := _assess(lot_legs[0].lot, lot_legs, histories)) is not None
        ]
        with transaction.atomic():
            _upsert(conditions)
        refreshed += len(conditions)
    return refreshed


def lots_visible_for_condition(user: User) -> QuerySet[HarvestLot]:
    """Lots whose condition the user may read: those farms.selectors lets her see, and every
    lot for a cold-chain controller (who watches the goods in transit)."""
    if sees_everything(user):
        return HarvestLot.objects.select_related("product__storage_profile", "farm")
    return lots_visible_to(user).select_related("product__storage_profile")


# Temperature summary of a shipment or a cold store


@dataclass(frozen=True)
class TemperatureSummary:
    """Readings in a window: count, lowest, highest, time-weighted mean and mean kinetic
    temperature (°C, 2 decimals; None without readings)."""

    readings: int
    min_c: float | None
    max_c: float | None
    mean_c: float | None
    mkt_c: float | None


class _Seconds(Func):
    """An interval in seconds, as a float."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)::double precision"
    output_field = FloatField()


def temperature_summary(
    *,
    subject: Shipment | ColdStore,
    start: datetime | None = None,
    end: datetime | None = None,
) -> TemperatureSummary:
    """Summary of the subject's readings in [start, end), in one aggregate query.

    Mean and MKT are time-weighted as kinetics.held_intervals weighs: each reading stands for
    the time until the next one, at most the subject's loss-of-signal time (a gap is not
    credited to the reading before it); the last reading until `end`, or without it for the
    mean interval. MKT uses ΔH = 83.144 kJ/mol. The sums run in PostgreSQL (LEAD over the
    readings, exp() per row): on 50,000 readings about 4 times faster than fetching them."""
    cap_seconds = subject.signal_timeout_minutes * 60.0
    energy_over_r = DEFAULT_ACTIVATION_ENERGY_KJ_MOL / GAS_CONSTANT_KJ_PER_MOL_K
    boundary = raw_window_start(timezone.now())
    raw_start = boundary if start is None else max(start, boundary)
    readings = subject_readings(subject, start=raw_start, end=end).annotate(
        next_at=Window(Lead("recorded_at"), order_by=F("recorded_at").asc())
    )
    held = Least(_Seconds(F("next_at") - F("recorded_at")), Value(cap_seconds))
    # PostgreSQL's LEAST skips NULLs, so the last reading (no next one) is left out explicitly.
    followed = Q(next_at__isnull=False)
    # exp(−ΔH/RT) is about 1e-16 at chilled temperatures: far from underflow in a double.
    rate = Exp(Value(-energy_over_r) / (F("temperature_c") + Value(KELVIN_AT_0_C)))
    totals = readings.aggregate(
        count=Count("recorded_at"),
        min_c=Min("temperature_c"),
        max_c=Max("temperature_c"),
        first_at=Min("recorded_at"),
        last_at=Max("recorded_at"),
        last_c=Max("temperature_c", filter=Q(next_at__isnull=True)),
        weight=Sum(held, filter=followed),
        weighted_c=Sum(held * F("temperature_c"), filter=followed, output_field=FloatField()),
        weighted_rate=Sum(held * rate, filter=followed, output_field=FloatField()),
        plain_c=Sum("temperature_c"),
        plain_rate=Sum(rate, output_field=FloatField()),
    )
    old = _hourly_totals(
        subject=subject,
        start=start,
        end=boundary if end is None else min(end, boundary),
        cap_seconds=cap_seconds,
        energy_over_r=energy_over_r,
    )
    if old is not None:
        if not totals["count"]:
            return _summary(
                old["count"],
                old,
                old["weighted_c"] / old["weight"],
                old["weighted_rate"] / old["weight"],
                energy_over_r,
            )
        totals = _merged(old, totals)
    count = totals["count"]
    if not count:
        return TemperatureSummary(readings=0, min_c=None, max_c=None, mean_c=None, mkt_c=None)
    if end is not None:
        last_weight = max((end - totals["last_at"]).total_seconds(), 0.0)
    elif totals.get("raw_count", count) > 1:
        last_weight = (totals["last_at"] - totals["first_at"]).total_seconds() / (
            totals.get("raw_count", count) - 1
        )
    else:
        last_weight = 1.0
    last_weight = min(last_weight, cap_seconds)
    weight = (totals["weight"] or 0.0) + last_weight
    if weight > 0:
        mean = ((totals["weighted_c"] or 0.0) + last_weight * totals["last_c"]) / weight
        last_rate = math.exp(-energy_over_r / (totals["last_c"] + KELVIN_AT_0_C))
        mean_rate = ((totals["weighted_rate"] or 0.0) + last_weight * last_rate) / weight
    else:  # every reading at one instant: equal weights
        mean, mean_rate = totals["plain_c"] / count, totals["plain_rate"] / count
    return _summary(count, totals, mean, mean_rate, energy_over_r)


def _summary(count: int, totals: dict, mean: float, mean_rate: float, energy_over_r: float):
    mkt = energy_over_r / -math.log(mean_rate) - KELVIN_AT_0_C
    return TemperatureSummary(
        readings=count,
        min_c=round(totals["min_c"], 2),
        max_c=round(totals["max_c"], 2),
        mean_c=round(mean, 2),
        mkt_c=round(mkt, 2),
    )


def _hourly_totals(*, subject, start, end, cap_seconds: float, energy_over_r: float):
    """The summary's sums over [start, end) from the hourly rollups (before the raw window):
    each hour is its mean held for its readings' time (their mean interval, at most the
    loss-of-signal time, each); None without rollups."""
    if start is not None and start >= end:
        return None
    totals = {
        "count": 0,
        "min_c": math.inf,
        "max_c": -math.inf,
        "weight": 0.0,
        "weighted_c": 0.0,
        "weighted_rate": 0.0,
        "plain_c": 0.0,
        "plain_rate": 0.0,
    }
    rows = subject_hours(subject, start=start, end=end).values_list(
        "readings",
        "temperature_min_c",
        "temperature_max_c",
        "temperature_sum_c",
        "first_at",
        "last_at",
    )
    for readings, low, high, total_c, first_at, last_at in rows.iterator(chunk_size=5000):
        interval = (
            (last_at - first_at).total_seconds() / (readings - 1) if readings > 1 else cap_seconds
        )
        held = readings * min(interval, cap_seconds)
        mean = total_c / readings
        rate = math.exp(-energy_over_r / (mean + KELVIN_AT_0_C))
        totals["count"] += readings
        totals["min_c"] = min(totals["min_c"], low)
        totals["max_c"] = max(totals["max_c"], high)
        totals["weight"] += held
        totals["weighted_c"] += held * mean
        totals["weighted_rate"] += held * rate
        totals["plain_c"] += total_c
        totals["plain_rate"] += readings * rate
    return totals if totals["count"] and totals["weight"] > 0 else None


def _merged(old: dict, raw: dict) -> dict:
    """Rollup sums before the raw window joined to the raw readings' after it."""
    merged = dict(raw)
    merged["count"] = old["count"] + raw["count"]
    merged["min_c"] = min(old["min_c"], raw["min_c"])
    merged["max_c"] = max(old["max_c"], raw["max_c"])
    for key in ("weight", "weighted_c", "weighted_rate", "plain_c", "plain_rate"):
        merged[key] = old[key] + (raw[key] or 0.0)
    # The mean interval after the last reading (no `end`) is the raw readings' own.
    merged["raw_count"] = raw["count"]
    return merged
