"""Handovers: the receiver's check at loading and unloading, with the logger record of the
leg so far attached (GB 31605-2020), which moves the shipment on (services.shipments)."""

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from common.dates import BUSINESS_TIME_ZONE

from .. import shelf_life
from ..choices import HANDOVER_OUTCOMES, HandoverDecision, HandoverKind
from ..exceptions import ColdChainError, InvalidShipmentTransition
from ..history import assignments_of, subject_readings
from ..models import Excursion, Handover, Shipment
from ..selectors.shipments import handover_due
from .access import may_record_handover
from .shipments import lock_shipment, move_shipment

PROBE_MIN_C = Decimal("-30")
PROBE_MAX_C = Decimal("50")


@dataclass(frozen=True)
class LegRecord:
    """The logger record of a leg: the CSV that travels with the goods and its summary."""

    csv_text: str
    summary: dict


RECORD_HEADER = (
    "recorded_at_asia_shanghai",
    "temperature_c",
    "humidity_pct",
    "latitude",
    "longitude",
    "logger",
)


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def leg_record(shipment: Shipment, *, end: datetime) -> LegRecord:
    """Every reading of the shipment's loggers up to `end` (within their assignments), one CSV
    row each with the time in Asia/Shanghai, and the summary a receiver reads first: the number
    of readings, min, max, mean, mean kinetic temperature, and the leg's excursions."""
    periods = list(assignments_of(shipment).filter(starts_at__lt=end).values_list("starts_at"))
    start = min((row[0] for row in periods), default=end)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RECORD_HEADER)
    rows = (
        subject_readings(shipment, start=start, end=end)
        .values_list(
            "recorded_at", "temperature_c", "humidity_pct", "position", "logger__device_id"
        )
        .iterator(chunk_size=5000)
    )
    for recorded_at, temperature_c, humidity_pct, position, device_id in rows:
        writer.writerow(
            (
                recorded_at.astimezone(BUSINESS_TIME_ZONE).isoformat(timespec="seconds"),
                temperature_c,
                "" if humidity_pct is None else humidity_pct,
                "" if position is None else position.y,
                "" if position is None else position.x,
                device_id,
            )
        )
    figures = shelf_life.temperature_summary(subject=shipment, start=start, end=end)
    excursions = Excursion.objects.filter(shipment=shipment, started_at__lt=end).order_by(
        "started_at"
    )
    summary = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "min_temperature_c": float(shipment.min_temperature_c),
        "max_temperature_c": float(shipment.max_temperature_c),
        "readings": figures.readings,
        "min_c": _rounded(figures.min_c),
        "max_c": _rounded(figures.max_c),
        "mean_c": _rounded(figures.mean_c),
        "mkt_c": _rounded(figures.mkt_c),
        "excursions": [
            {
                "kind": excursion.kind,
                "started_at": excursion.started_at.isoformat(),
                "ended_at": excursion.ended_at.isoformat() if excursion.ended_at else None,
                "peak_c": _rounded(excursion.peak_c),
            }
            for excursion in excursions
        ],
    }
    return LegRecord(out.getvalue(), summary)


def record_handover(
    *,
    shipment: Shipment,
    kind: str,
    decision: str,
    probe_temperature_c: Decimal,
    note: str = "",
    by: User,
) -> Handover:
    """The receiver's check, once per kind, with the logger record of the leg so far attached
    (GB 31605-2020).

    Loading (shipment planned): accepted → in transit (departed now), rejected → cancelled.
    Unloading (in transit): accepted → delivered (arrived now), rejected → rejected. Who: a
    controller, or the origin's people for loading and the destination's for unloading. The
    probe reads −30 to 50 °C; a rejection says why. A finished shipment's loggers stop
    watching it. When it is not due (selectors.shipments.handover_due):
    InvalidShipmentTransition, and nothing is recorded."""
    if kind not in HandoverKind.values:
        raise ColdChainError(_("Choose loading or unloading."), field="kind")
    if decision not in HandoverDecision.values:
        raise ColdChainError(_("Choose accept or reject."), field="decision")
    try:
        probe = Decimal(str(probe_temperature_c)).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise ColdChainError(
            _("Enter the probe temperature in °C."), field="probe_temperature_c"
        ) from None
    if not (PROBE_MIN_C <= probe <= PROBE_MAX_C):
        raise ColdChainError(
            _("A probe temperature of produce lies between -30 and 50 °C."),
            field="probe_temperature_c",
        )
    note = (note or "").strip()
    if decision == HandoverDecision.REJECTED and not note:
        raise ColdChainError(_("Say why the goods are rejected."), field="note")
    with transaction.atomic():
        shipment = lock_shipment(shipment)
        if not may_record_handover(by, shipment, kind):
            raise PermissionDenied(
                _(
                    "Only the people of the loading site may record loading, and those of the "
                    "destination unloading."
                )
            )
        if not handover_due(shipment, kind):
            raise InvalidShipmentTransition(
                _("This shipment is %(status)s: it cannot be handed over at %(kind)s now.")
                % {
                    "status": shipment.get_status_display(),
                    "kind": HandoverKind(kind).label,
                },
                current=shipment.status,
                requested=HANDOVER_OUTCOMES[kind][decision],
            )
        now = timezone.now()
        record = leg_record(shipment, end=now)
        handover = Handover(
            shipment=shipment,
            kind=kind,
            decision=decision,
            probe_temperature_c=probe,
            note=note[:2000],
            recorded_by=by,
            recorded_at=now,
            record_summary=record.summary,
        )
        # Stored under a random name (handover_record_path); downloads are named after the code.
        handover.record_file.save("record.csv", ContentFile(record.csv_text.encode()), save=False)
        try:
            with transaction.atomic():
                handover.save()
        except IntegrityError as error:  # the shipment row is locked, so only a bug lands here
            handover.record_file.delete(save=False)
            raise InvalidShipmentTransition() from error
        move_shipment(
            shipment=shipment,
            to=HANDOVER_OUTCOMES[kind][decision],
            by=by,
            reason=_handover_reason(handover),
            at=now,
        )
    return handover


def _handover_reason(handover: Handover) -> str:
    """The event's "why": the handover and its decision, with the receiver's note."""
    reason = _("%(kind)s: %(decision)s") % {
        "kind": handover.get_kind_display(),
        "decision": handover.get_decision_display(),
    }
    return f"{reason} — {handover.note}" if handover.note else reason
