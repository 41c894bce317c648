"""Shipments: planning a leg (who may, what may travel together, its range), and the one way
its status moves (move_shipment: the table's check, the write and the event row), used by
handovers and cancellation alike. Each public function is one transaction."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import User
from common.dates import business_date_of
from common.exceptions import NotFoundOrNotYours
from farms.models import HarvestLot, Product
from marketplace.markets.models import Trade
from marketplace.models import Order

from ..choices import SHIPMENT_MOVES, ShipmentStatus
from ..exceptions import ColdChainError, InvalidShipmentTransition, MixedLoadNeedsConfirmation
from ..load_compatibility import StorageBand, load_range, plain_number
from ..models import LoggerAssignment, Shipment, ShipmentEvent, ShipmentLot, Site, Vehicle
from ..realtime import push_shipment
from ..selectors.planning import (
    lots_shippable_by,
    orders_for_shipping,
    trades_for_shipping,
    vehicles_for_planning,
)
from .access import may_plan_between
from .registry import check_patience

SHIPMENT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,39}")
_MAX_CODE_ATTEMPTS = 5


def _product_name(product: Product) -> str:
    language = get_language() or ""
    return product.name_zh if language.startswith("zh") else product.name_en


def storage_band_of(product: Product) -> StorageBand:
    """The product's storage band from its storage profile (load_compatibility)."""
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
        name=_product_name(product),
        min_temperature_c=lowest,
        max_temperature_c=profile.max_temperature_c,
        min_humidity_pct=profile.min_humidity_pct,
        max_humidity_pct=profile.max_humidity_pct,
    )


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
                    "available": plain_number(lot.quantity_kg),
                    "quantity": plain_number(quantity_kg),
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
    may see that hold them, a vehicle she may hire (selectors.planning); anything else is
    NotFoundOrNotYours, told as a missing id is. Its range is the intersection of the
    products' storage bands (load_compatibility.load_range): an empty one is refused; an
    awkward one is planned only with `accept_warnings`, else MixedLoadNeedsConfirmation carries
    the warnings, which are kept in `compatibility_warnings`. Without `code`, one is made:
    SH-YYYYMMDD-NNNN. `patience` takes the optional excursion settings
    (excursion_delay_minutes, recovery_minutes, recovery_margin_c, signal_timeout_minutes).
    The planning is the first event of the shipment's history (from nothing to planned)."""
    check_patience(patience)
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
    products = {entry.lot.product.pk: entry.lot.product for entry in on_board}
    load = load_range([storage_band_of(product) for product in products.values()])
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
        _record_move(shipment, from_status="", by=planned_by, reason="")
        push_shipment(shipment)
    return shipment


# --- Moving it --------------------------------------------------------------------------------

FINISHED = (ShipmentStatus.DELIVERED, ShipmentStatus.REJECTED, ShipmentStatus.CANCELLED)


def lock_shipment(shipment: Shipment) -> Shipment:
    """The shipment's row, locked for the rest of the transaction, re-read."""
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


def _record_move(shipment: Shipment, *, from_status: str, by: User | None, reason: str) -> None:
    ShipmentEvent.objects.create(
        shipment=shipment,
        from_status=from_status,
        to_status=shipment.status,
        actor=by,
        reason=reason[:300],
    )


def move_shipment(
    *,
    shipment: Shipment,
    to: str,
    by: User | None,
    reason: str = "",
    at: datetime | None = None,
    refusal: str | None = None,
) -> Shipment:
    """The one way a shipment's status changes, inside the caller's transaction, on a row the
    caller has locked (lock_shipment): the table (SHIPMENT_MOVES) must allow the move, else
    InvalidShipmentTransition (with `refusal` as its message, if given) and nothing changes.
    Leaving sets `departed_at`, arriving `arrived_at`; a finished shipment's loggers stop
    watching it; a ShipmentEvent records who, when, from, to and why; the screens hear of it
    after commit."""
    current = shipment.status
    if not SHIPMENT_MOVES.allows(current, to):
        raise InvalidShipmentTransition(refusal, current=current, requested=to)
    now = at or timezone.now()
    shipment.status = to
    if to == ShipmentStatus.IN_TRANSIT:
        shipment.departed_at = now
    if to in (ShipmentStatus.DELIVERED, ShipmentStatus.REJECTED):
        shipment.arrived_at = now
    shipment.save(update_fields=["status", "departed_at", "arrived_at", "updated_at"])
    _record_move(shipment, from_status=current, by=by, reason=reason)
    if to in FINISHED:
        _end_watching(shipment, now)
    push_shipment(shipment)
    return shipment


def cancel_shipment(*, shipment: Shipment, by: User) -> Shipment:
    """A planned shipment will not go: cancelled by a controller or by the people of either
    end; its loggers stop watching it. Only a planned one (else InvalidShipmentTransition)."""
    with transaction.atomic():
        shipment = lock_shipment(shipment)
        if not may_plan_between(by, shipment.origin, shipment.destination):
            raise PermissionDenied(
                _("Only the people of the origin or the destination may cancel this shipment.")
            )
        return move_shipment(
            shipment=shipment,
            to=ShipmentStatus.CANCELLED,
            by=by,
            refusal=_("This shipment is %(status)s: only a planned shipment can be cancelled.")
            % {"status": shipment.get_status_display()},
        )
