"""The tracking screens' reads: the snapshot a screen loads on (re)connect.

The shipments, cold stores and open alerts the user sees (coldchain.selectors.visibility), each
with its state: `excursion` while an excursion alert is unresolved, else `signal_lost` while a
loss-of-signal alert is, else `ok`. Shipments are those planned or in transit, and those
delivered or rejected in the last 24 hours, worst state first. A screen applies the live events
of ws/coldchain/ on top of it.
"""

from datetime import UTC, datetime, timedelta

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..choices import AlertKind, ShipmentStatus
from ..models import Alert, ColdStore, LoggerAssignment, Reading, Shipment
from .alerts import OPEN_ALERT, alert_payload
from .shipments import with_recalled_lots
from .visibility import alerts_visible_to, shipments_visible_to, stores_visible_to

# Delivered and rejected legs stay on the screen this long after arrival.
RECENTLY_FINISHED = timedelta(hours=24)
# A logger's assignment that ended longer ago than this holds no latest reading worth showing.
LATEST_READING_LOOKBACK = timedelta(days=7)
# A wall screen shows this many of each at most (worst state first); the API lists the rest.
SCREEN_MAX_SHIPMENTS = 200
SCREEN_MAX_STORES = 200
SCREEN_MAX_ALERTS = 200
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)

OK, EXCURSION, SIGNAL_LOST = "ok", "excursion", "signal_lost"
STATE_LABELS = {
    OK: pgettext_lazy("cold-chain state", "Normal"),
    EXCURSION: _("Temperature excursion"),
    SIGNAL_LOST: _("Loss of signal"),
}


def _unresolved_alert(subject_field: str, kind: str) -> Exists:
    return Exists(
        Alert.objects.filter(**{subject_field: OuterRef("pk")}, kind=kind, resolved_at__isnull=True)
    )


def _with_state(queryset: QuerySet, subject_field: str) -> QuerySet:
    """Annotate `state_rank`: 2 excursion, 1 loss of signal, 0 normal (worst wins)."""
    return queryset.annotate(
        state_rank=Case(
            When(_unresolved_alert(subject_field, AlertKind.EXCURSION), then=Value(2)),
            When(_unresolved_alert(subject_field, AlertKind.SIGNAL_LOST), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def shipments_with_state(shipments: QuerySet[Shipment]) -> QuerySet[Shipment]:
    """`shipments` annotated with the screen's `state_rank` (read it with `state_of`): the
    control tower colours its shipments by the same rule as this screen."""
    return _with_state(shipments, "shipment")


def state_of(rank: int) -> dict:
    """{"state": "ok" | "excursion" | "signal_lost", "state_label": …} of a `state_rank`."""
    return _state(rank)


def screen_shipments(user, *, now: datetime) -> list[Shipment]:
    """The legs a screen shows: under way, and finished in the last 24 hours."""
    since = now - RECENTLY_FINISHED
    recently_finished = Q(status__in=[ShipmentStatus.DELIVERED, ShipmentStatus.REJECTED]) & (
        Q(arrived_at__gte=since) | Q(arrived_at__isnull=True, updated_at__gte=since)
    )
    under_way = Q(status__in=[ShipmentStatus.PLANNED, ShipmentStatus.IN_TRANSIT])
    shipments = _with_state(
        with_recalled_lots(shipments_visible_to(user).filter(under_way | recently_finished)),
        "shipment",
    ).annotate(
        status_rank=Case(
            When(status=ShipmentStatus.IN_TRANSIT, then=Value(0)),
            When(status=ShipmentStatus.PLANNED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )
    return list(
        shipments.order_by("-state_rank", "status_rank", "planned_departure_at", "id")[
            :SCREEN_MAX_SHIPMENTS
        ]
    )


def screen_stores(user) -> list[ColdStore]:
    stores = _with_state(stores_visible_to(user), "store")
    return list(stores.order_by("-state_rank", "name", "id")[:SCREEN_MAX_STORES])


def latest_readings(
    *, shipment_ids: list[int], store_ids: list[int], now: datetime
) -> dict[tuple[str, int], tuple[datetime, float]]:
    """{("shipment" | "store", id): (recorded_at, temperature_c)} of each subject's newest
    reading, in one query: per assignment, one backward scan of the readings' primary key
    (logger, recorded_at) within the assignment's period."""
    if not shipment_ids and not store_ids:
        return {}
    newest = Reading.objects.filter(
        logger_id=OuterRef("logger_id"),
        recorded_at__gte=OuterRef("starts_at"),
        recorded_at__lt=Coalesce(OuterRef("ends_at"), Value(FAR_FUTURE)),
    ).order_by("-recorded_at")
    assignments = (
        LoggerAssignment.objects.filter(
            Q(shipment_id__in=shipment_ids) | Q(store_id__in=store_ids),
            Q(ends_at__isnull=True) | Q(ends_at__gt=now - LATEST_READING_LOOKBACK),
        )
        .annotate(
            latest_at=Subquery(newest.values("recorded_at")[:1]),
            latest_temperature_c=Subquery(newest.values("temperature_c")[:1]),
        )
        .values_list("shipment_id", "store_id", "latest_at", "latest_temperature_c")
    )
    latest: dict[tuple[str, int], tuple[datetime, float]] = {}
    for shipment_id, store_id, recorded_at, temperature_c in assignments:
        if recorded_at is None:
            continue
        key = ("shipment", shipment_id) if shipment_id else ("store", store_id)
        if key not in latest or latest[key][0] < recorded_at:
            latest[key] = (recorded_at, temperature_c)
    return latest


def open_alerts(user) -> list[Alert]:
    return list(
        alerts_visible_to(user).filter(OPEN_ALERT).order_by("-raised_at", "-id")[:SCREEN_MAX_ALERTS]
    )


# Shapes of the snapshot.


def _lon_lat(point) -> list[float] | None:
    return None if point is None else [round(point.x, 6), round(point.y, 6)]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _state(rank: int) -> dict:
    state = {2: EXCURSION, 1: SIGNAL_LOST}.get(rank, OK)
    return {"state": state, "state_label": str(STATE_LABELS[state])}


def _reading(latest: tuple[datetime, float] | None) -> dict | None:
    if latest is None:
        return None
    return {"recorded_at": latest[0].isoformat(), "temperature_c": round(latest[1], 2)}


def _site(site) -> dict:
    return {"id": site.pk, "name": site.name, "location": _lon_lat(site.location)}


def _url(name: str, pk: int) -> str | None:
    # Pages and series of the shipments' area; None rather than a broken screen if renamed.
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return None


def shipment_on_screen(shipment: Shipment, *, latest) -> dict:
    vehicle = shipment.vehicle
    return {
        "id": shipment.pk,
        "code": shipment.code,
        "status": shipment.status,
        "status_label": str(shipment.get_status_display()),
        "is_active": shipment.is_active,
        **_state(shipment.state_rank),  # type: ignore[attr-defined]  # annotated by _with_state
        "origin": _site(shipment.origin),
        "destination": _site(shipment.destination),
        "vehicle": None
        if vehicle is None
        else {
            "id": vehicle.pk,
            "plate": vehicle.plate,
            "position": _lon_lat(vehicle.last_position),
            "position_at": _iso(vehicle.last_position_at),
        },
        "min_temperature_c": float(shipment.min_temperature_c),
        "max_temperature_c": float(shipment.max_temperature_c),
        "planned_departure_at": _iso(shipment.planned_departure_at),
        "planned_arrival_at": _iso(shipment.planned_arrival_at),
        "departed_at": _iso(shipment.departed_at),
        "arrived_at": _iso(shipment.arrived_at),
        "latest_reading": _reading(latest),
        # Codes of the lots on board held everywhere (a recall): the screen flags the leg.
        "recalled_lots": list(getattr(shipment, "recalled_lot_codes", None) or []),
        "readings_url": _url("coldchain-shipment-readings", shipment.pk),
        "detail_url": _url("coldchain:shipment_detail", shipment.pk),
    }


def store_on_screen(store: ColdStore, *, latest) -> dict:
    return {
        "id": store.pk,
        "code": store.code,
        "name": store.name,
        **_state(store.state_rank),  # type: ignore[attr-defined]  # annotated by _with_state
        "site": _site(store.site),
        "min_temperature_c": float(store.min_temperature_c),
        "max_temperature_c": float(store.max_temperature_c),
        "latest_reading": _reading(latest),
        "readings_url": _url("coldchain-store-readings", store.pk),
    }


def screen_snapshot(user, *, now: datetime | None = None) -> dict:
    """Everything a screen shows, as of now, in a fixed number of queries."""
    now = now or timezone.now()
    shipments = screen_shipments(user, now=now)
    stores = screen_stores(user)
    latest = latest_readings(
        shipment_ids=[shipment.pk for shipment in shipments],
        store_ids=[store.pk for store in stores],
        now=now,
    )
    return {
        "generated_at": now.isoformat(),
        "shipments": [
            shipment_on_screen(shipment, latest=latest.get(("shipment", shipment.pk)))
            for shipment in shipments
        ],
        "stores": [
            store_on_screen(store, latest=latest.get(("store", store.pk))) for store in stores
        ],
        "alerts": [alert_payload(alert) for alert in open_alerts(user)],
    }
