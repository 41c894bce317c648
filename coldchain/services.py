"""Every write the cold chain allows that is not ingest or excursion judgement (those live in
coldchain/ingest.py and coldchain/monitoring.py): the registry (sites, cold stores, vehicles,
loggers and their assignments), planning shipments and moving them through their handovers,
alert acknowledgement. Each function is one transaction.

Who may act is a domain rule, checked here so every door enforces it: a controller (or admin)
anywhere; a co-operative manager at her co-operative's sites; a market operator at her market's.
A refusal of that kind is PermissionDenied (403 in the API and on pages).
"""

import csv
import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from itertools import combinations

from django.contrib.gis.geos import Point
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from common.dates import BUSINESS_TIME_ZONE, business_date_of
from common.exceptions import NotFoundOrNotYours
from farms.models import Cooperative, HarvestLot, Product
from farms.selectors import cooperative_managed_by
from marketplace.markets.models import Market, MarketStaff, Trade
from marketplace.models import Order

from . import shelf_life
from .choices import HandoverDecision, HandoverKind, ShipmentStatus
from .exceptions import (
    AlertAlreadyAcknowledged,
    ColdChainError,
    InvalidShipmentTransition,
    LoggerAlreadyAssigned,
)
from .history import assignments_of, subject_readings
from .models import (
    Alert,
    ColdStore,
    DataLogger,
    Excursion,
    Handover,
    LoggerAssignment,
    Shipment,
    ShipmentLot,
    Site,
    Vehicle,
)
from .realtime import broadcast_on_commit, groups_for_shipment, push_alert
from .selectors import (
    lots_shippable_by,
    orders_for_shipping,
    sees_everything,
    trades_for_shipping,
    vehicles_for_planning,
)


def hash_logger_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def logger_secret_matches(logger: DataLogger, secret: str) -> bool:
    return hmac.compare_digest(logger.secret_hash, hash_logger_secret(secret))


@transaction.atomic
def register_logger(*, device_id: str, label: str = "", secret: str | None = None):
    """A new logger and its secret. The secret is shown once, here: only its hash is kept.
    Returns (logger, secret)."""
    secret = secret or secrets.token_urlsafe(24)
    if DataLogger.objects.filter(device_id=device_id).exists():
        raise ColdChainError(
            _("A logger with this device id is already registered."), field="device_id"
        )
    logger = DataLogger(device_id=device_id, label=label, secret_hash=hash_logger_secret(secret))
    logger.full_clean()
    logger.save()
    return logger, secret


def assign_logger(
    *,
    logger: DataLogger,
    subject: Shipment | ColdStore,
    starts_at: datetime,
    ends_at: datetime | None = None,
) -> LoggerAssignment:
    """The logger watches `subject` from `starts_at` (until `ends_at`, or open). Its earlier
    open assignment, if any, ends where this one starts; an overlap with a closed period is
    refused (the database's exclusion constraint has the last word)."""
    if ends_at is not None and ends_at <= starts_at:
        raise ColdChainError(_("The end must come after the start."), field="ends_at")
    try:
        with transaction.atomic():
            LoggerAssignment.objects.filter(
                logger=logger, ends_at__isnull=True, starts_at__lt=starts_at
            ).update(ends_at=starts_at)
            return LoggerAssignment.objects.create(
                logger=logger,
                shipment=subject if isinstance(subject, Shipment) else None,
                store=subject if isinstance(subject, ColdStore) else None,
                starts_at=starts_at,
                ends_at=ends_at,
            )
    except IntegrityError as error:
        if "logger_assignment_no_overlap" in str(error):
            raise LoggerAlreadyAssigned(field="logger") from error
        raise


@transaction.atomic
def acknowledge_alert(*, alert: Alert, by: User, note: str) -> Alert:
    """A controller has seen the alert and says what is being done; said once. An alert
    whose excursion late readings disputed is resolved by it: a person has judged it."""
    note = (note or "").strip()
    if not note:
        raise ColdChainError(_("Say what is being done about it."), field="note")
    alert = (
        # Only the alert's row: PostgreSQL cannot lock the nullable side of the outer joins.
        Alert.objects.select_for_update(of=("self",))
        .select_related("shipment__origin", "shipment__destination", "store__site", "excursion")
        .get(pk=alert.pk)
    )
    if alert.acknowledged_at is not None:
        raise AlertAlreadyAcknowledged()
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = by
    alert.acknowledgement_note = note[:2000]
    changed = ["acknowledged_at", "acknowledged_by", "acknowledgement_note"]
    if alert.resolved_at is None and alert.excursion is not None and alert.excursion.is_disputed:
        alert.resolved_at = alert.acknowledged_at
        changed.append("resolved_at")
    alert.save(update_fields=changed)
    push_alert(alert, event="alert.updated")
    return alert


# --- Who may do what ---------------------------------------------------------------------------


def may_act_at(user: User, site: Site) -> bool:
    """A controller (or admin) acts anywhere; a co-operative manager at her co-operative's sites,
    a market operator at her market's. Everyone else nowhere."""
    if sees_everything(user):
        return True
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.role == Role.COOPERATIVE_MANAGER and site.cooperative_id is not None:
        cooperative = cooperative_managed_by(user)
        return cooperative is not None and cooperative.pk == site.cooperative_id
    if user.role == Role.MARKET_OPERATOR and site.market_id is not None:
        return MarketStaff.objects.filter(user=user, market_id=site.market_id).exists()
    return False


def may_plan_between(user: User, origin: Site, destination: Site) -> bool:
    """Planning (and cancelling) needs a hand at one end of the leg."""
    return may_act_at(user, origin) or may_act_at(user, destination)


def may_record_handover(user: User, shipment: Shipment, kind: str) -> bool:
    """The origin's people load, the destination's unload; a controller does either."""
    site = shipment.origin if kind == HandoverKind.LOADING else shipment.destination
    return may_act_at(user, site)


def _require_registry_keeper(user: User) -> None:
    if not sees_everything(user):
        raise PermissionDenied(_("Only a cold-chain controller may change the registry."))


# --- The registry: sites, cold stores, vehicles -----------------------------------------------


def _save_new(instance: models.Model, *, unique_field: str, taken: str):
    """full_clean then save; the database's unique constraint decides whether the value is
    taken (so a concurrent insert reads as taken too)."""
    instance.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        if unique_field not in str(error):
            raise
        raise ColdChainError(taken, field=unique_field) from error
    return instance


def create_site(
    *,
    by: User,
    name: str,
    kind: str,
    longitude: float,
    latitude: float,
    cooperative: Cooperative | None = None,
    market: Market | None = None,
) -> Site:
    """A loading or unloading place (controllers only). It belongs to at most one co-operative
    or market, whose people then see the shipments that start or end there."""
    _require_registry_keeper(by)
    if cooperative is not None and market is not None:
        raise ColdChainError(
            _("A site belongs to a co-operative or to a market, not both."), field="market"
        )
    if not (-180 <= longitude <= 180):
        raise ColdChainError(_("Longitude must be between -180 and 180."), field="longitude")
    if not (-90 <= latitude <= 90):
        raise ColdChainError(_("Latitude must be between -90 and 90."), field="latitude")
    site = Site(
        name=(name or "").strip(),
        kind=kind,
        location=Point(float(longitude), float(latitude), srid=4326),
        cooperative=cooperative,
        market=market,
    )
    return _save_new(site, unique_field="name", taken=_("A site with this name exists already."))


def create_cold_store(
    *,
    by: User,
    code: str,
    name: str,
    site: Site,
    min_temperature_c: Decimal,
    max_temperature_c: Decimal,
    capacity_kg: Decimal | None = None,
    **patience,
) -> ColdStore:
    """A cold room at a site with the range it keeps (controllers only). `patience` takes
    the optional excursion settings of MonitoredRange (excursion_delay_minutes, ...)."""
    _require_registry_keeper(by)
    _check_patience(patience)
    if capacity_kg is not None and capacity_kg <= 0:
        raise ColdChainError(_("The capacity must be more than zero."), field="capacity_kg")
    minimum, maximum = Decimal(str(min_temperature_c)), Decimal(str(max_temperature_c))
    if minimum >= maximum:
        raise ColdChainError(
            _("The highest temperature must be above the lowest."), field="max_temperature_c"
        )
    store = ColdStore(
        code=code,
        name=(name or "").strip(),
        site=site,
        min_temperature_c=minimum,
        max_temperature_c=maximum,
        capacity_kg=capacity_kg,
        **{key: value for key, value in patience.items() if value is not None},
    )
    with transaction.atomic():
        return _save_new(
            store, unique_field="code", taken=_("A cold store with this code exists already.")
        )


def create_vehicle(
    *,
    by: User,
    plate: str,
    name: str = "",
    carrier: str = "",
    cooperative: Cooperative | None = None,
) -> Vehicle:
    """A refrigerated vehicle (controllers only); a co-operative's own, or a hired carrier's."""
    _require_registry_keeper(by)
    vehicle = Vehicle(
        plate=(plate or "").strip().upper(),
        name=(name or "").strip(),
        carrier=(carrier or "").strip(),
        cooperative=cooperative,
    )
    return _save_new(
        vehicle, unique_field="plate", taken=_("A vehicle with this plate exists already.")
    )


# --- Planning a shipment ----------------------------------------------------------------------

PATIENCE_FIELDS = (
    "excursion_delay_minutes",
    "recovery_minutes",
    "recovery_margin_c",
    "signal_timeout_minutes",
)
NARROW_BAND_C = Decimal("1.0")
SHIPMENT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,39}")
_MAX_CODE_ATTEMPTS = 5


def _check_patience(patience: dict) -> None:
    unknown = set(patience) - set(PATIENCE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected arguments: {', '.join(sorted(unknown))}")


@dataclass(frozen=True)
class StorageBand:
    """Where one product may be kept: its storage band, raised to its chilling threshold for a
    chilling-sensitive product, and its humidity band."""

    product: Product
    min_temperature_c: Decimal
    max_temperature_c: Decimal
    min_humidity_pct: Decimal
    max_humidity_pct: Decimal

    @property
    def name(self) -> str:
        return _product_name(self.product)

    @property
    def temperatures(self) -> str:
        return _("%(low)s–%(high)s °C") % {
            "low": _number(self.min_temperature_c),
            "high": _number(self.max_temperature_c),
        }

    @property
    def humidities(self) -> str:
        return _("%(low)s–%(high)s %% RH") % {
            "low": _number(self.min_humidity_pct),
            "high": _number(self.max_humidity_pct),
        }


@dataclass(frozen=True)
class LoadRange:
    """The range a load must keep: the intersection of its products' bands, and what is awkward
    about it (translated sentences, empty for an easy load)."""

    min_temperature_c: Decimal
    max_temperature_c: Decimal
    warnings: list[str] = field(default_factory=list)


class MixedLoadNeedsConfirmation(ColdChainError):
    """The products can travel together, but awkwardly: the planner must say so again.
    `warnings` are the sentences to show; the API sends them beside the field error."""

    default_message = _("Mixing these products is awkward: confirm to plan the shipment anyway.")
    field = "accept_warnings"

    def __init__(self, warnings: list[str]):
        self.warnings = warnings
        super().__init__()

    def as_dict(self) -> dict:
        return {**super().as_dict(), "warnings": self.warnings}


def _product_name(product: Product) -> str:
    language = get_language() or ""
    return product.name_zh if language.startswith("zh") else product.name_en


def _number(value: Decimal) -> str:
    """13.0 → "13", 12.5 → "12.5", 10 → "10" (normalize alone would print 1E+1)."""
    return f"{Decimal(value).normalize():f}"


def storage_band_of(product: Product) -> StorageBand:
    try:
        profile = product.storage_profile
    except ObjectDoesNotExist:
        raise ColdChainError(
            _("%(product)s has no storage profile, so its range is unknown.")
            % {"product": _product_name(product)},
            field="lots",
        ) from None
    lowest = profile.min_temperature_c
    if profile.lowest_safe_temperature_c is not None:
        lowest = max(lowest, profile.lowest_safe_temperature_c)
    return StorageBand(
        product=product,
        min_temperature_c=lowest,
        max_temperature_c=profile.max_temperature_c,
        min_humidity_pct=profile.min_humidity_pct,
        max_humidity_pct=profile.max_humidity_pct,
    )


def load_range(products: Sequence[Product]) -> LoadRange:
    """The range for a load of these products: the highest lower bound to the lowest upper
    bound of their storage bands (a chilling-sensitive product's lower bound is its chilling
    threshold when that is higher). Refused (field `lots`) when nothing is left: the message
    names each pair that cannot travel together. Warned about: a mix whose band is narrower than
    1 °C, and products whose humidity bands do not meet."""
    bands = list({product.pk: storage_band_of(product) for product in products}.values())
    if not bands:
        raise ColdChainError(_("Add at least one lot."), field="lots")
    low = max(bands, key=lambda band: band.min_temperature_c)
    high = min(bands, key=lambda band: band.max_temperature_c)
    if low.min_temperature_c >= high.max_temperature_c:
        clashes = [
            _("%(first)s (%(first_range)s) and %(second)s (%(second_range)s)")
            % {
                "first": first.name,
                "first_range": first.temperatures,
                "second": second.name,
                "second_range": second.temperatures,
            }
            for first, second in combinations(bands, 2)
            if first.min_temperature_c >= second.max_temperature_c
            or second.min_temperature_c >= first.max_temperature_c
        ]
        raise ColdChainError(
            _("These products cannot travel together: %(clashes)s.")
            % {"clashes": "; ".join(clashes)},
            field="lots",
        )
    warnings = []
    if len(bands) > 1 and high.max_temperature_c - low.min_temperature_c < NARROW_BAND_C:
        setters = [low.name] if low is high else [low.name, high.name]
        warnings.append(
            _(
                "The load can only be kept at %(low)s–%(high)s °C (set by %(products)s): a band "
                "narrower than 1 °C is hard to hold."
            )
            % {
                "low": _number(low.min_temperature_c),
                "high": _number(high.max_temperature_c),
                "products": get_text_list(setters, _("and")),
            }
        )
    for first, second in combinations(bands, 2):
        if (
            first.max_humidity_pct < second.min_humidity_pct
            or second.max_humidity_pct < first.min_humidity_pct
        ):
            warnings.append(
                _(
                    "%(first)s (%(first_range)s) and %(second)s (%(second_range)s) need "
                    "different humidity: one of them will dry out or get too wet."
                )
                % {
                    "first": first.name,
                    "first_range": first.humidities,
                    "second": second.name,
                    "second_range": second.humidities,
                }
            )
    return LoadRange(low.min_temperature_c, high.max_temperature_c, warnings)


@dataclass(frozen=True)
class LotOnBoard:
    lot: HarvestLot
    quantity_kg: Decimal
    order: Order | None = None
    trade: Trade | None = None


def _lots_on_board(lots: Sequence[tuple], *, planned_by: User) -> list[LotOnBoard]:
    """Checks each (lot, quantity_kg[, order[, trade]]): a lot the planner may ship, once, a
    positive quantity no more than the lot holds, an order or trade she may see that holds
    this lot. A lot, order or trade out of her reach, or not about the lot, is refused as
    NotFoundOrNotYours before anything about the lot (its code, its quantity) is told."""
    if not lots:
        raise ColdChainError(_("Add at least one lot."), field="lots")
    entries = [(*entry, None, None)[:4] for entry in lots]
    _require_shippable(entries, planned_by=planned_by)
    seen: set[int] = set()
    on_board = []
    for lot, quantity_kg, order, trade in entries:
        try:
            quantity_kg = Decimal(str(quantity_kg))
        except InvalidOperation:
            raise ColdChainError(
                _("Lot %(lot)s: the quantity is not a number.") % {"lot": lot.lot_code},
                field="lots",
            ) from None
        if lot.pk in seen:
            raise ColdChainError(
                _("Lot %(lot)s is listed twice: list each lot once.") % {"lot": lot.lot_code},
                field="lots",
            )
        seen.add(lot.pk)
        if not quantity_kg.is_finite() or quantity_kg <= 0:
            raise ColdChainError(
                _("Lot %(lot)s: the quantity must be more than zero.") % {"lot": lot.lot_code},
                field="lots",
            )
        if quantity_kg > lot.quantity_kg:
            raise ColdChainError(
                _("Lot %(lot)s holds only %(available)s kg, not %(quantity)s kg.")
                % {
                    "lot": lot.lot_code,
                    "available": _number(lot.quantity_kg),
                    "quantity": _number(quantity_kg),
                },
                field="lots",
            )
        on_board.append(LotOnBoard(lot, quantity_kg.quantize(Decimal("0.001")), order, trade))
    return on_board


def _require_shippable(entries: list[tuple], *, planned_by: User) -> None:
    """Every lot, order and trade within the planner's reach, each order holding its line's
    lot and each trade of it (three queries however many lines)."""
    lot_ids = {lot.pk for lot, *_rest in entries}
    order_ids = {order.pk for _lot, _kg, order, _trade in entries if order is not None}
    trades = {trade.pk: trade for *_rest, trade in entries if trade is not None}
    if len(lot_ids) != lots_shippable_by(planned_by).filter(pk__in=lot_ids).count():
        raise NotFoundOrNotYours(field="lots")
    held = set(
        orders_for_shipping(planned_by)
        .filter(pk__in=order_ids, lines__listing__lot_id__in=lot_ids)
        .values_list("pk", "lines__listing__lot_id")
    )
    reachable_trades = set(
        trades_for_shipping(planned_by).filter(pk__in=trades).values_list("pk", flat=True)
    )
    for lot, _quantity, order, trade in entries:
        if order is not None and (order.pk, lot.pk) not in held:
            raise NotFoundOrNotYours(field="lots")
        if trade is not None and (trade.pk not in reachable_trades or trade.lot_id != lot.pk):
            raise NotFoundOrNotYours(field="lots")


def _next_shipment_code(planned_departure_at: datetime) -> str:
    """SH-<departure date in Asia/Shanghai>-<the day's next number>."""
    prefix = f"SH-{business_date_of(planned_departure_at):%Y%m%d}-"
    codes = Shipment.objects.filter(code__regex=rf"^{prefix}[0-9]{{4,}}$").values_list(
        "code", flat=True
    )
    last = max((int(code.removeprefix(prefix)) for code in codes), default=0)
    return f"{prefix}{last + 1:04d}"


def plan_shipment(
    *,
    planned_by: User,
    origin: Site,
    destination: Site,
    lots: Sequence[tuple],
    planned_departure_at: datetime,
    planned_arrival_at: datetime,
    vehicle: Vehicle | None = None,
    code: str | None = None,
    accept_warnings: bool = False,
    **patience,
) -> Shipment:
    """A planned leg carrying `lots` ((lot, quantity_kg[, order[, trade]]) each).

    Who: a controller, or the co-operative manager or market operator of the origin or the
    destination (PermissionDenied otherwise). What: lots she may ship, orders and trades she
    may see that hold them, a vehicle she may hire (coldchain.selectors); anything else is
    NotFoundOrNotYours, told as a missing id is. Its range is the intersection of the products'
    storage bands (see load_range): an empty one is refused; an awkward one is planned only
    with `accept_warnings`, else MixedLoadNeedsConfirmation carries the warnings, which are kept
    in `compatibility_warnings`. Without `code`, one is made: SH-YYYYMMDD-NNNN. `patience`
    takes the optional excursion settings (excursion_delay_minutes, recovery_minutes,
    recovery_margin_c, signal_timeout_minutes)."""
    _check_patience(patience)
    if not may_plan_between(planned_by, origin, destination):
        raise PermissionDenied(
            _("You may plan only shipments from or to your own co-operative's or market's sites.")
        )
    if origin.pk == destination.pk:
        raise ColdChainError(
            _("The destination must be another place than the origin."), field="destination"
        )
    if planned_arrival_at <= planned_departure_at:
        raise ColdChainError(
            _("The arrival must come after the departure."), field="planned_arrival_at"
        )
    if vehicle is not None and not vehicles_for_planning(planned_by).filter(pk=vehicle.pk).exists():
        raise NotFoundOrNotYours(field="vehicle")
    on_board = _lots_on_board(lots, planned_by=planned_by)
    load = load_range([entry.lot.product for entry in on_board])
    if load.warnings and not accept_warnings:
        raise MixedLoadNeedsConfirmation(load.warnings)
    code = (code or "").strip()
    if code and not SHIPMENT_CODE.fullmatch(code):
        # The code names the handover records' files too.
        raise ColdChainError(
            _("Use 3 to 40 letters, digits, dots, hyphens or underscores."), field="code"
        )
    with transaction.atomic():
        for attempt in range(_MAX_CODE_ATTEMPTS):
            shipment = Shipment(
                code=code or _next_shipment_code(planned_departure_at),
                origin=origin,
                destination=destination,
                vehicle=vehicle,
                status=ShipmentStatus.PLANNED,
                planned_departure_at=planned_departure_at,
                planned_arrival_at=planned_arrival_at,
                min_temperature_c=load.min_temperature_c,
                max_temperature_c=load.max_temperature_c,
                compatibility_warnings=load.warnings,
                planned_by=planned_by,
                **{key: value for key, value in patience.items() if value is not None},
            )
            shipment.full_clean(exclude=["code"] if not code else None, validate_unique=False)
            try:
                # A savepoint: two planners may draw the same generated number at once.
                with transaction.atomic():
                    shipment.save()
                break
            except IntegrityError as error:
                if "code" not in str(error):
                    raise
                if code or attempt == _MAX_CODE_ATTEMPTS - 1:
                    raise ColdChainError(
                        _("A shipment with this code exists already."), field="code"
                    ) from error
        ShipmentLot.objects.bulk_create(
            ShipmentLot(
                shipment=shipment,
                lot=entry.lot,
                quantity_kg=entry.quantity_kg,
                order=entry.order,
                trade=entry.trade,
            )
            for entry in on_board
        )
        _push_shipment(shipment)
    return shipment


# --- Moving it: handovers and cancellation -----------------------------------------------------

PROBE_MIN_C = Decimal("-30")
PROBE_MAX_C = Decimal("50")

# (kind, status the shipment must be in) → the status each decision moves it to.
HANDOVER_MOVES: dict[str, tuple[str, dict[str, str]]] = {
    HandoverKind.LOADING: (
        ShipmentStatus.PLANNED,
        {
            HandoverDecision.ACCEPTED: ShipmentStatus.IN_TRANSIT,
            HandoverDecision.REJECTED: ShipmentStatus.CANCELLED,
        },
    ),
    HandoverKind.UNLOADING: (
        ShipmentStatus.IN_TRANSIT,
        {
            HandoverDecision.ACCEPTED: ShipmentStatus.DELIVERED,
            HandoverDecision.REJECTED: ShipmentStatus.REJECTED,
        },
    ),
}
FINISHED = (ShipmentStatus.DELIVERED, ShipmentStatus.REJECTED, ShipmentStatus.CANCELLED)


def shipment_payload(shipment: Shipment) -> dict:
    """The `shipment` event the screens receive when a shipment changes status."""
    return {
        "id": shipment.pk,
        "code": shipment.code,
        "status": shipment.status,
        "status_label": str(shipment.get_status_display()),
    }


def _push_shipment(shipment: Shipment) -> None:
    broadcast_on_commit(groups_for_shipment(shipment), "shipment", shipment_payload(shipment))


def _lock_shipment(shipment: Shipment) -> Shipment:
    return (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("origin", "destination", "vehicle")
        .get(pk=shipment.pk)
    )


def _end_watching(shipment: Shipment, now: datetime) -> None:
    """The shipment's loggers stop watching it now: open periods (and periods planned past
    now) end now; a period that had not started yet is dropped."""
    watching = LoggerAssignment.objects.filter(shipment=shipment)
    watching.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now), starts_at__lt=now).update(
        ends_at=now
    )
    watching.filter(starts_at__gte=now).delete()


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
    watching it. Another state → InvalidShipmentTransition (409)."""
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
        shipment = _lock_shipment(shipment)
        if not may_record_handover(by, shipment, kind):
            raise PermissionDenied(
                _(
                    "Only the people of the loading site may record loading, and those of the "
                    "destination unloading."
                )
            )
        required_status, moves = HANDOVER_MOVES[kind]
        if shipment.status != required_status or shipment.handovers.filter(kind=kind).exists():
            raise InvalidShipmentTransition(
                _("This shipment is %(status)s: it cannot be handed over at %(kind)s now.")
                % {
                    "status": shipment.get_status_display(),
                    "kind": HandoverKind(kind).label,
                }
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
        shipment.status = moves[decision]
        if shipment.status == ShipmentStatus.IN_TRANSIT:
            shipment.departed_at = now
        if shipment.status in (ShipmentStatus.DELIVERED, ShipmentStatus.REJECTED):
            shipment.arrived_at = now
        shipment.save(update_fields=["status", "departed_at", "arrived_at", "updated_at"])
        if shipment.status in FINISHED:
            _end_watching(shipment, now)
        _push_shipment(shipment)
    return handover


def cancel_shipment(*, shipment: Shipment, by: User) -> Shipment:
    """A planned shipment will not go: cancelled by a controller or by the people of either
    end; its loggers stop watching it. Only a planned one (else 409)."""
    with transaction.atomic():
        shipment = _lock_shipment(shipment)
        if not may_plan_between(by, shipment.origin, shipment.destination):
            raise PermissionDenied(
                _("Only the people of the origin or the destination may cancel this shipment.")
            )
        if not shipment.can_move_to(ShipmentStatus.CANCELLED):
            raise InvalidShipmentTransition(
                _("This shipment is %(status)s: only a planned shipment can be cancelled.")
                % {"status": shipment.get_status_display()}
            )
        shipment.status = ShipmentStatus.CANCELLED
        shipment.save(update_fields=["status", "updated_at"])
        _end_watching(shipment, timezone.now())
        _push_shipment(shipment)
    return shipment
