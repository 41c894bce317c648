"""Judging readings as they arrive: excursions, loss of signal, live pushes.

Ingest stores a batch and, in the same transaction, hands the new readings to `judge_readings`.
The rules themselves are in coldchain/excursions.py (pure); this module keeps the engine's state
on the logger's assignment, writes the excursions and their alerts, and pushes after commit.

Lock order: the logger's assignments (by id), then the logger, then the vehicle. Everything an
assignment's batch changes (its state, excursions, alerts) is reached through the locked
assignment, so one logger's batches are judged one at a time.
"""

from bisect import bisect_left
from datetime import datetime
from typing import NamedTuple

from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    PositiveSmallIntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from . import realtime
from .choices import AlertKind, Severity, ShipmentStatus
from .excursions import Episode, Limits, MonitorState, evaluate
from .models import Alert, DataLogger, Excursion, LoggerAssignment, Reading, Vehicle
from .selectors.loggers import assignments_covering

# Shipments judged while they move or wait to; a delivered, rejected or cancelled one's
# readings are only stored. Loss of signal counts only in transit (a planned load may sit in a
# packhouse with its logger asleep).
JUDGED_SHIPMENT_STATUSES: tuple[str, ...] = (ShipmentStatus.PLANNED, ShipmentStatus.IN_TRANSIT)
MAX_LIVE_POINTS = 200
# Nobody reads the temperature of goods whose logger is silent: treat it like a real breach
# that has lasted a while until someone looks.
SIGNAL_LOSS_SEVERITY = Severity.MAJOR


class ReadingIn(NamedTuple):
    """One newly stored reading, as ingest hands it on (sorted by recorded_at)."""

    recorded_at: datetime
    temperature_c: float
    humidity_pct: float | None = None
    longitude: float | None = None
    latitude: float | None = None
    battery_pct: int | None = None


def judge_readings(*, logger_id: int, readings: list[ReadingIn]) -> None:
    """Judge readings the caller has just stored, inside the caller's transaction.

    Readings outside any assignment of the logger are only stored; so are those of a shipment
    no longer planned or in transit. The logger's last reading and battery and the vehicle's
    last position move forward only. A reading newer than an open loss-of-signal alert
    resolves it. One `readings` event per subject goes out after commit.

    Fast path: readings all newer than what the assignment has judged run through the engine
    from its stored state, in memory. A late batch re-runs the engine over the stored history
    from the last quiet reading before it and reconciles with the stored excursions.
    """
    if not readings:
        return
    readings = sorted(readings, key=lambda reading: reading.recorded_at)
    times = [reading.recorded_at for reading in readings]
    with transaction.atomic(savepoint=False):
        assignments = list(
            assignments_covering(logger_id, times[0], times[-1])
            .select_related("shipment__origin", "shipment__destination", "store__site")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        _note_logger_reading(logger_id, readings)
        heard: dict[int, tuple[LoggerAssignment, datetime]] = {}
        for assignment in assignments:
            start = bisect_left(times, assignment.starts_at)
            end = (
                len(times) if assignment.ends_at is None else bisect_left(times, assignment.ends_at)
            )
            own = readings[start:end]
            if not own:
                continue
            heard[assignment.pk] = (assignment, own[-1].recorded_at)
            if _is_judged(assignment):
                _judge_assignment(assignment, own)
        _resolve_signal_losses(heard)


def raise_signal_losses(*, now: datetime) -> int:
    """Raise one alert per watched subject silent for its signal timeout; returns how many.

    Watched: an open assignment (started, not ended) of a shipment in transit or of a store.
    Silent since the logger's last reading, the assignment's start or the departure, whichever
    is latest. An open loss-of-signal alert is never doubled: candidates exclude it, and the
    partial unique constraint `alert_one_open_signal_loss` settles a race between two runs.
    """
    timeout = Func(
        Coalesce("shipment__signal_timeout_minutes", "store__signal_timeout_minutes"),
        template="make_interval(mins => %(expressions)s)",
        output_field=DurationField(),
    )
    # PostgreSQL's GREATEST skips NULLs: no reading yet, or not departed, just drop out.
    silent_since = Greatest("logger__last_reading_at", "starts_at", "shipment__departed_at")
    already_raised = Alert.objects.filter(
        assignment=OuterRef("pk"), kind=AlertKind.SIGNAL_LOST, resolved_at__isnull=True
    )
    candidates = (
        LoggerAssignment.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .filter(starts_at__lte=now)
        .filter(Q(shipment__status=ShipmentStatus.IN_TRANSIT) | Q(store__isnull=False))
        .annotate(
            silent_until=ExpressionWrapper(silent_since + timeout, output_field=DateTimeField())
        )
        .filter(silent_until__lt=now)
        .exclude(Exists(already_raised))
        .select_related("shipment__origin", "shipment__destination", "store__site")
        .order_by("pk")
    )
    raised = 0
    with transaction.atomic():
        for assignment in candidates:
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(
                        kind=AlertKind.SIGNAL_LOST,
                        severity=SIGNAL_LOSS_SEVERITY,
                        assignment=assignment,
                        shipment=assignment.shipment,
                        store=assignment.store,
                        raised_at=now,
                    )
            except IntegrityError:  # another run raised it a moment ago
                continue
            realtime.push_alert(alert)
            raised += 1
    return raised


def _is_judged(assignment: LoggerAssignment) -> bool:
    shipment = assignment.shipment if assignment.store_id is None else None
    return shipment is None or shipment.status in JUDGED_SHIPMENT_STATUSES


def _note_logger_reading(logger_id: int, readings: list[ReadingIn]) -> None:
    """The logger's last reading time and battery, if this batch has newer ones (one UPDATE)."""
    newest = readings[-1].recorded_at
    changes: dict = {"last_reading_at": newest}
    with_battery = next((r for r in reversed(readings) if r.battery_pct is not None), None)
    if with_battery is not None:
        # The SET sees the row's old last_reading_at, so the battery moves only forward too.
        changes["battery_pct"] = Case(
            When(
                Q(last_reading_at__isnull=True) | Q(last_reading_at__lt=with_battery.recorded_at),
                then=Value(with_battery.battery_pct),
            ),
            default=F("battery_pct"),
            output_field=PositiveSmallIntegerField(),
        )
    DataLogger.objects.filter(pk=logger_id).filter(
        Q(last_reading_at__isnull=True) | Q(last_reading_at__lt=newest)
    ).update(**changes)


def _judge_assignment(assignment: LoggerAssignment, readings: list[ReadingIn]) -> None:
    subject = assignment.subject
    limits = Limits.of(subject)
    evaluated_until = assignment.evaluated_until
    if evaluated_until is not None and readings[0].recorded_at > evaluated_until:
        state = _judge_in_order(assignment, limits, readings)
    elif evaluated_until is None:
        # The assignment's first batch: its period may hold readings stored before it was
        # made (a logger assigned from when the goods were packed); judge them all once.
        state = _judge_again(assignment, limits, earliest=None)
    else:
        state = _judge_again(assignment, limits, earliest=readings[0].recorded_at)
    if state.last_at is not None and (evaluated_until is None or state.last_at > evaluated_until):
        assignment.evaluated_until = state.last_at
    assignment.monitor_state = state.to_json()
    LoggerAssignment.objects.filter(pk=assignment.pk).update(
        evaluated_until=assignment.evaluated_until, monitor_state=assignment.monitor_state
    )
    position = next(
        (r for r in reversed(readings) if r.longitude is not None and r.latitude is not None),
        None,
    )
    shipment = assignment.shipment if assignment.shipment_id else None
    vehicle_id = shipment.vehicle_id if shipment is not None else None
    if vehicle_id is not None and position is not None:
        Vehicle.objects.filter(pk=vehicle_id).filter(
            Q(last_position_at__isnull=True) | Q(last_position_at__lt=position.recorded_at)
        ).update(
            last_position=Point(position.longitude, position.latitude, srid=4326),
            last_position_at=position.recorded_at,
        )
    realtime.broadcast_on_commit(
        realtime.groups_for_subject(subject),
        "readings",
        {
            "subject": "shipment" if assignment.shipment_id else "store",
            "subject_id": subject.pk,
            "points": live_points(readings),
            "position": None if position is None else [position.longitude, position.latitude],
            "vehicle_id": vehicle_id,
        },
    )


def live_points(readings: list[ReadingIn], limit: int = MAX_LIVE_POINTS) -> list[list[float]]:
    """[[epoch seconds, °C], ...] for a live chart: every reading, or, past `limit`, the means
    of `limit` or fewer runs of consecutive readings (as the series API averages buckets)."""
    if len(readings) <= limit:
        return [[r.recorded_at.timestamp(), round(r.temperature_c, 2)] for r in readings]
    size = -(-len(readings) // limit)
    points = []
    for start in range(0, len(readings), size):
        run = readings[start : start + size]
        points.append(
            [
                round(sum(r.recorded_at.timestamp() for r in run) / len(run), 3),
                round(sum(r.temperature_c for r in run) / len(run), 2),
            ]
        )
    return points


def _judge_in_order(
    assignment: LoggerAssignment, limits: Limits, readings: list[ReadingIn]
) -> MonitorState:
    """Newer than everything judged: continue from the stored state, in memory."""
    before = MonitorState.from_json(assignment.monitor_state)
    severity_before = {
        episode.ref: episode.severity for episode in before.episodes.values() if episode.ref
    }
    evaluation = evaluate(limits, before, ((r.recorded_at, r.temperature_c) for r in readings))
    for episode in evaluation.excursions:
        if episode.ref is None:
            episode.ref = _record_new_excursion(assignment, episode).pk
            continue
        Excursion.objects.filter(pk=episode.ref).update(**_excursion_fields(episode))
        if episode.ended_at is not None or episode.severity > severity_before[episode.ref]:
            alert = _alert_of(assignment, episode.ref)
            _update_alert(alert, episode)
    return evaluation.state


def _judge_again(
    assignment: LoggerAssignment, limits: Limits, *, earliest: datetime | None
) -> MonitorState:
    """A batch reaching back into judged time: re-run the engine over the stored readings from
    the last quiet reading before `earliest` and reconcile with the stored excursions.

    Quiet: a reading in range (it cancels any pending breach) outside every stored excursion
    and its possible recovery, so the engine, started afresh there, reaches the state it had
    when it judged the old readings. Without one (or with `earliest` None: nothing judged
    yet), the re-run starts at the assignment's start.
    """
    # A disputed excursion is history as it was confirmed: the re-run does not touch it.
    stored = list(
        Excursion.objects.filter(assignment=assignment, refuted_at__isnull=True)
        .select_related("alert")
        .order_by("started_at")
    )
    quiet_at = (
        None if earliest is None else _quiet_reading_before(assignment, limits, earliest, stored)
    )
    history = Reading.objects.filter(
        logger_id=assignment.logger_id, recorded_at__gte=quiet_at or assignment.starts_at
    )
    if assignment.ends_at is not None:
        history = history.filter(recorded_at__lt=assignment.ends_at)
    rows = history.order_by("recorded_at").values_list("recorded_at", "temperature_c")
    evaluation = evaluate(limits, MonitorState(), rows.iterator(chunk_size=5000))
    in_window = [e for e in stored if quiet_at is None or e.started_at > quiet_at]
    _reconcile(assignment, evaluation.excursions, in_window)
    return evaluation.state


def _quiet_reading_before(
    assignment: LoggerAssignment, limits: Limits, earliest: datetime, stored: list[Excursion]
) -> datetime | None:
    # Where each stored excursion may still have been open: from its start until its recovery
    # could have been confirmed (ended_at + recovery, plus at most one reading interval).
    slack = limits.recovery + limits.signal_timeout
    busy = [(e.started_at, e.ended_at + slack if e.ended_at else None) for e in stored]
    before = earliest
    while True:
        reading = (
            Reading.objects.filter(
                logger_id=assignment.logger_id,
                recorded_at__gte=assignment.starts_at,
                recorded_at__lt=before,
                temperature_c__gte=limits.min_c,
                temperature_c__lte=limits.max_c,
            )
            .order_by("-recorded_at")
            .values_list("recorded_at", flat=True)
            .first()
        )
        if reading is None:
            return None
        overlapping = [s for s, e in busy if s <= reading and (e is None or reading < e)]
        if not overlapping:
            return reading
        before = min(overlapping)


def _reconcile(assignment: LoggerAssignment, found: list[Episode], stored: list[Excursion]) -> None:
    """Match what the re-run found with what was stored (same direction, overlapping time):
    update the matched, record the new with an alert. A stored excursion the full data no
    longer shows is kept, since its alert went out: merged into an earlier one (the data got
    worse), it is closed and its alert resolved; broken by readings in range that came late,
    it is disputed (see _dispute), never closed."""
    unmatched = list(stored)
    pairs: list[tuple[Episode, Excursion | None]] = []
    for episode in found:
        overlapping = [e for e in unmatched if e.kind == episode.kind and _overlap(e, episode)]
        match = min(overlapping, key=lambda e: e.started_at) if overlapping else None
        if match is not None:
            unmatched.remove(match)
        pairs.append((episode, match))
    # Closing first keeps "one open excursion per direction" true after every statement.
    for orphan in unmatched:
        if not any(e.kind == orphan.kind and _overlap(orphan, e) for e in found):
            _dispute(orphan, assignment)
        elif orphan.ended_at is None:
            orphan.ended_at = orphan.confirmed_at
            orphan.save(update_fields=["ended_at"])
            _update_alert(_with_subject(orphan.alert, assignment), None)
    pairs.sort(key=lambda pair: pair[0].is_open)
    for episode, excursion in pairs:
        if excursion is None:
            excursion = _record_new_excursion(assignment, episode)
        else:
            fields = _excursion_fields(episode)
            if any(getattr(excursion, name) != value for name, value in fields.items()):
                for name, value in fields.items():
                    setattr(excursion, name, value)
                excursion.save(update_fields=list(fields))
            _update_alert(_with_subject(excursion.alert, assignment), episode)
        episode.ref = excursion.pk


def _dispute(excursion: Excursion, assignment: LoggerAssignment) -> None:
    """Late readings in range refute a confirmed excursion. A logger could slip such readings
    in after each reading outside to erase a breach, so nothing is rewritten: the excursion
    keeps its start, confirmation, peak and end (open stays open), gains `refuted_at`, and its
    alert stays as it was (unresolved if it was), shown as disputed until a person
    acknowledges it (acknowledging resolves it)."""
    excursion.refuted_at = timezone.now()
    excursion.save(update_fields=["refuted_at"])
    alert = _with_subject(excursion.alert, assignment)
    alert.excursion = excursion
    realtime.push_alert(alert, event="alert.updated")


def _overlap(excursion: Excursion, episode: Episode) -> bool:
    return (episode.ended_at is None or excursion.started_at <= episode.ended_at) and (
        excursion.ended_at is None or episode.started_at <= excursion.ended_at
    )


def _excursion_fields(episode: Episode) -> dict:
    return {
        "limit_c": episode.limit_c,
        "started_at": episode.started_at,
        "confirmed_at": episode.confirmed_at,
        "ended_at": episode.ended_at,
        "peak_c": episode.peak_c,
        "degree_minutes": episode.degree_minutes,
        "severity": episode.severity,
    }


def _record_new_excursion(assignment: LoggerAssignment, episode: Episode) -> Excursion:
    """The excursion and its one alert (already resolved if the excursion is over), pushed
    after commit as `alert`."""
    excursion = Excursion.objects.create(
        assignment=assignment,
        shipment=assignment.shipment,
        store=assignment.store,
        kind=episode.kind,
        **_excursion_fields(episode),
    )
    alert = Alert.objects.create(
        kind=AlertKind.EXCURSION,
        severity=episode.severity,
        assignment=assignment,
        shipment=assignment.shipment,
        store=assignment.store,
        excursion=excursion,
        resolved_at=None if episode.is_open else timezone.now(),
    )
    realtime.push_alert(alert)
    return excursion


def _alert_of(assignment: LoggerAssignment, excursion_id: int) -> Alert:
    alert = Alert.objects.select_related("excursion").get(excursion_id=excursion_id)
    return _with_subject(alert, assignment)


def _with_subject(alert: Alert, assignment: LoggerAssignment) -> Alert:
    # The locked assignment already holds the subject and its sites: the push needs no query.
    alert.shipment = assignment.shipment
    alert.store = assignment.store
    return alert


def _update_alert(alert: Alert, episode: Episode | None) -> None:
    """The alert follows its excursion: severity only grows; resolved when it has ended (and
    open again if late readings show it had not). Pushed as `alert.updated` if it changed.
    `episode` None: the excursion is no longer shown by the data, resolve it."""
    severity = alert.severity if episode is None else max(alert.severity, episode.severity)
    ended = episode is None or not episode.is_open
    resolved_at = (alert.resolved_at or timezone.now()) if ended else None
    if severity == alert.severity and resolved_at == alert.resolved_at:
        return
    alert.severity, alert.resolved_at = severity, resolved_at
    Alert.objects.filter(pk=alert.pk).update(severity=severity, resolved_at=resolved_at)
    if episode is not None:
        for name, value in _excursion_fields(episode).items():
            setattr(alert.excursion, name, value)
    realtime.push_alert(alert, event="alert.updated")


def _resolve_signal_losses(heard: dict[int, tuple[LoggerAssignment, datetime]]) -> None:
    """A reading newer than an open loss-of-signal alert resolves it (one query to look)."""
    if not heard:
        return
    open_alerts = Alert.objects.filter(
        assignment_id__in=list(heard), kind=AlertKind.SIGNAL_LOST, resolved_at__isnull=True
    )
    now = timezone.now()
    for alert in open_alerts:
        assignment, newest = heard[alert.assignment_id]
        if newest <= alert.raised_at:
            continue
        alert.resolved_at = now
        Alert.objects.filter(pk=alert.pk).update(resolved_at=now)
        realtime.push_alert(_with_subject(alert, assignment), event="alert.updated")
