"""The cold chain's risks: a shipment whose lots will arrive with too little shelf life left,
a data logger that has gone silent, a temperature excursion left open too long."""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils.translation import gettext as _

from coldchain.choices import ShipmentStatus
from coldchain.models import ColdStore, DataLogger, Excursion, LoggerAssignment, Shipment
from coldchain.selectors.lots import condition_of_lot
from coldchain.shelf_life import storage_profile_of

from . import Finding, minutes_between

ACTIVE = (ShipmentStatus.PLANNED, ShipmentStatus.IN_TRANSIT)


def _name_of(subject: Shipment | ColdStore) -> str:
    return subject.code if isinstance(subject, Shipment) else subject.name


# --- Shelf life on arrival -----------------------------------------------------------------


def evaluate_shelf_life(rule, *, now: datetime) -> list[Finding]:
    """Each planned or moving shipment carrying a lot whose shelf life at the planned arrival
    will be below `min_remaining_pct` % of its product's nominal shelf life.

    The lot's expected expiry (coldchain.shelf_life: kept at its reference temperature from
    its last evaluation) minus the planned arrival is what will be left on arrival."""
    share = rule.threshold("min_remaining_pct") / 100
    found = []
    shipments = (
        Shipment.objects.filter(status__in=ACTIVE)
        .prefetch_related("lots__lot__product__storage_profile")
        .order_by("pk")
    )
    for shipment in shipments:
        short = []
        for leg in shipment.lots.all():
            profile = storage_profile_of(leg.lot)
            condition = condition_of_lot(leg.lot, now=now) if profile is not None else None
            if profile is None or condition is None:
                continue
            left_days = max(
                (condition.expected_expiry_at - shipment.planned_arrival_at) / timedelta(days=1),
                0.0,
            )
            needed_days = profile.nominal_shelf_life_days * share
            if left_days < needed_days:
                short.append(
                    {
                        "lot_id": leg.lot_id,
                        "lot_code": leg.lot.lot_code,
                        "product": leg.lot.product.name_zh,
                        "days_left_on_arrival": round(left_days, 1),
                        "days_needed": round(needed_days, 1),
                    }
                )
        if short:
            found.append(
                Finding(
                    subject=shipment,
                    key=f"shelf_life:{shipment.pk}",
                    figures={
                        "shipment_id": shipment.pk,
                        "shipment": shipment.code,
                        "planned_arrival_at": shipment.planned_arrival_at.isoformat(),
                        "lots": short,
                    },
                )
            )
    return found


def describe_shelf_life(figures: dict) -> str:
    first = figures["lots"][0]
    return _(
        "Shipment %(shipment)s: lot %(lot)s (%(product)s) will arrive with %(left)s days of "
        "shelf life left, below the %(needed)s days required (%(count)s lot(s) short)."
    ) % {
        "shipment": figures["shipment"],
        "lot": first["lot_code"],
        "product": first["product"],
        "left": first["days_left_on_arrival"],
        "needed": first["days_needed"],
        "count": len(figures["lots"]),
    }


# --- Silent loggers ------------------------------------------------------------------------


def evaluate_silent_loggers(rule, *, now: datetime) -> list[Finding]:
    """Each active logger watching a moving shipment or a cold store now whose last reading
    (or, before its first, the start of the watch) is more than `max_silence_minutes` ago."""
    limit = rule.threshold("max_silence_minutes")
    watching = (
        LoggerAssignment.objects.filter(logger__is_active=True, starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .filter(Q(shipment__status=ShipmentStatus.IN_TRANSIT) | Q(store__isnull=False))
        .select_related("logger", "shipment", "store")
        .order_by("logger_id")
    )
    found = []
    for assignment in watching:
        logger: DataLogger = assignment.logger
        heard_at = max(filter(None, (logger.last_reading_at, assignment.starts_at)))
        silent = minutes_between(heard_at, now)
        if silent <= limit:
            continue
        subject = assignment.subject
        found.append(
            Finding(
                subject=logger,
                key=f"logger:{logger.pk}",
                figures={
                    "logger_id": logger.pk,
                    "device_id": logger.device_id,
                    "watching": _name_of(subject),
                    "watching_kind": "shipment" if assignment.shipment else "store",
                    "watching_id": subject.pk,
                    "silent_minutes": silent,
                    "limit_minutes": int(limit),
                    "last_reading_at": logger.last_reading_at.isoformat()
                    if logger.last_reading_at
                    else None,
                },
            )
        )
    return found


def describe_silent_logger(figures: dict) -> str:
    return _(
        "Logger %(device)s watching %(watching)s has been silent for %(minutes)s minutes "
        "(allowed: %(limit)s)."
    ) % {
        "device": figures["device_id"],
        "watching": figures["watching"],
        "minutes": figures["silent_minutes"],
        "limit": figures["limit_minutes"],
    }


# --- Excursions left open --------------------------------------------------------------------


def evaluate_open_excursions(rule, *, now: datetime) -> list[Finding]:
    """Each excursion still open (not ended, not disputed) for more than `max_open_minutes`."""
    limit = rule.threshold("max_open_minutes")
    excursions = (
        Excursion.objects.filter(
            ended_at__isnull=True,
            refuted_at__isnull=True,
            started_at__lt=now - timedelta(minutes=limit),
        )
        .select_related("shipment", "store")
        .order_by("pk")
    )
    return [
        Finding(
            subject=excursion,
            key=f"excursion:{excursion.pk}",
            figures={
                "excursion_id": excursion.pk,
                "subject": _name_of(excursion.subject),
                "kind": excursion.kind,
                "peak_c": excursion.peak_c,
                "started_at": excursion.started_at.isoformat(),
                "open_minutes": minutes_between(excursion.started_at, now),
                "limit_minutes": int(limit),
            },
        )
        for excursion in excursions
    ]


def describe_open_excursion(figures: dict) -> str:
    return _(
        "Excursion on %(subject)s open for %(minutes)s minutes (allowed: %(limit)s), peak "
        "%(peak)s °C."
    ) % {
        "subject": figures["subject"],
        "minutes": figures["open_minutes"],
        "limit": figures["limit_minutes"],
        "peak": figures["peak_c"],
    }
