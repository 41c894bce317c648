"""Every write front warehouses allow, as plain functions, each one transaction."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from coldchain.shelf_life import assess_lot_condition, harvested_at
from common.exceptions import NotFoundOrNotYours
from farms.exceptions import LotHeld
from farms.models import HarvestLot, Product
from farms.selectors import held_everywhere
from farms.services.holds import lock_lots_for_sale
from marketplace.models import OrderLine, Trade

from ..exceptions import AlreadyReceived, DeliveryError, InsufficientStock
from ..models import (
    FrontWarehouse,
    StockCount,
    StockLot,
    StockReceipt,
    StockWriteOff,
    WriteOffReason,
)
from ..selectors.warehouse import (
    RECEIVABLE_ORDER_STATUSES,
    is_staff_member,
    lots_receivable_at,
    receivable_kg,
    works_at,
)

KG = Decimal("0.001")
MAX_KG = Decimal("999999999.999")  # the columns' 12 digits, 3 of them decimals


def _decimal_kg(value, *, field: str) -> Decimal:
    try:
        quantity = Decimal(str(value).strip()).quantize(KG)
    except (InvalidOperation, TypeError, ValueError):
        raise DeliveryError(_("Give the weight in kg, e.g. 2.5."), field=field) from None
    if not quantity.is_finite() or abs(quantity) > MAX_KG:
        raise DeliveryError(_("Give the weight in kg, e.g. 2.5."), field=field)
    return quantity


def clean_quantity_kg(quantity_kg, field: str = "quantity_kg") -> Decimal:
    """A weight to take or receive: kilograms above zero, 3 decimals (pages check their
    forms with it, so every field's error shows at once)."""
    if quantity_kg is None or str(quantity_kg).strip() == "":
        raise DeliveryError(_("Give the quantity in kg."), field=field)
    quantity = _decimal_kg(quantity_kg, field=field)
    if quantity <= 0:
        raise DeliveryError(_("Give a quantity above zero."), field=field)
    return quantity


def clean_counted_kg(counted_kg) -> Decimal:
    """A counted weight: kilograms, zero or more, 3 decimals."""
    if counted_kg is None or str(counted_kg).strip() == "":
        raise DeliveryError(_("Give the counted quantity in kg."), field="counted_kg")
    counted = _decimal_kg(counted_kg, field="counted_kg")
    if counted < 0:
        raise DeliveryError(_("A count cannot be below zero."), field="counted_kg")
    return counted


def expected_expiry(*, lot: HarvestLot, now: datetime) -> datetime:
    """When the lot's shelf life runs out by its cold-chain history; a lot without a storage
    profile counts as expiring at harvest, so it is picked first."""
    condition = assess_lot_condition(lot=lot, now=now)
    return condition.expected_expiry_at if condition is not None else harvested_at(lot)


@transaction.atomic
def receive_stock(
    *, warehouse: FrontWarehouse, lot: HarvestLot, quantity_kg, received_at: datetime
) -> StockLot:
    """Goods arrive: the lot's stock grows; its expected expiry is (re)read from the cold
    chain at the time of receiving."""
    quantity = clean_quantity_kg(quantity_kg)
    expires_at = expected_expiry(lot=lot, now=received_at)
    stock, created = StockLot.objects.select_for_update().get_or_create(
        warehouse=warehouse,
        lot=lot,
        defaults={
            "product_id": lot.product_id,
            "quantity_kg": quantity,
            "received_at": received_at,
            "expires_at": expires_at,
        },
    )
    if not created:
        stock.quantity_kg = F("quantity_kg") + quantity
        stock.received_at = received_at
        stock.expires_at = expires_at
        stock.save(update_fields=["quantity_kg", "received_at", "expires_at", "updated_at"])
        stock.refresh_from_db()
    return stock


@dataclass(frozen=True)
class Pick:
    stock_lot: StockLot
    quantity_kg: Decimal


# A hold committed between reading the sellable lots and locking them refuses the lock; the
# next read leaves that lot out. Each retry needs a new hold racing in: a few are plenty.
LOCK_TRIES = 3


def lock_sellable_lots(*, warehouse: FrontWarehouse, product_ids) -> set[int]:
    """Lock FOR SHARE the lots of the warehouse's stock of these products that are not held
    everywhere, and return their ids; call it in the sale's transaction, before locking stock
    (farms' lock order). Until the transaction ends no hold can be placed on them, so the
    stock of these lots is sellable; stock of a held lot is left out, never sold."""
    for attempt in range(LOCK_TRIES):
        lot_ids = set(
            StockLot.objects.filter(
                warehouse=warehouse, product_id__in=list(product_ids), quantity_kg__gt=0
            )
            .exclude(held_everywhere())
            .values_list("lot_id", flat=True)
        )
        try:
            lock_lots_for_sale(lot_ids=lot_ids)
        except LotHeld:
            if attempt == LOCK_TRIES - 1:
                raise
            continue
        return lot_ids
    raise AssertionError("unreachable")  # the last try returns or raises


@transaction.atomic
def take_stock_fefo(
    *,
    warehouse: FrontWarehouse,
    product: Product,
    quantity_kg,
    lot_ids: set[int] | None = None,
) -> list[Pick]:
    """Take `quantity_kg` of a product out of the warehouse's stock, the earliest-expiring
    lots first (first-expired-first-out); all or nothing. Stock of a lot held everywhere (a
    recall) is never picked.

    `lot_ids`: the lots the caller locked with `lock_sellable_lots` (this locks them itself
    when not given). The product's stock rows are locked in FEFO order, so two orders taking
    the last kilograms queue on the first row and the second finds it empty: never oversold.
    """
    wanted = clean_quantity_kg(quantity_kg)
    if lot_ids is None:
        lot_ids = lock_sellable_lots(warehouse=warehouse, product_ids=[product.pk])
    rows = list(
        StockLot.objects.select_for_update()
        .filter(warehouse=warehouse, product=product, quantity_kg__gt=0, lot_id__in=lot_ids)
        .order_by("expires_at", "pk")
    )
    available = sum((row.quantity_kg for row in rows), Decimal("0"))
    if available < wanted:
        raise InsufficientStock(
            _("Only %(available)s kg of %(product)s is in stock.")
            % {"available": available, "product": product.name_zh},
            field="quantity_kg",
        )
    picks, left = [], wanted
    for row in rows:
        if left == 0:
            break
        taken = min(row.quantity_kg, left)
        row.quantity_kg -= taken
        row.save(update_fields=["quantity_kg", "updated_at"])
        picks.append(Pick(stock_lot=row, quantity_kg=taken))
        left -= taken
    return picks


@transaction.atomic
def write_off_stock(
    *, stock_lot: StockLot, quantity_kg, reason: str, note: str = "", by: User
) -> StockWriteOff:
    """Spoilage and other losses leave the stock with their reason."""
    quantity = clean_quantity_kg(quantity_kg)
    if reason not in WriteOffReason.values:
        raise DeliveryError(_("Choose a reason."), field="reason")
    stock = StockLot.objects.select_for_update().get(pk=stock_lot.pk)
    if quantity > stock.quantity_kg:
        raise InsufficientStock(
            _("Only %(available)s kg of this lot is in stock.") % {"available": stock.quantity_kg},
            field="quantity_kg",
        )
    stock.quantity_kg -= quantity
    stock.save(update_fields=["quantity_kg", "updated_at"])
    return StockWriteOff.objects.create(
        stock_lot=stock, quantity_kg=quantity, reason=reason, note=note.strip(), recorded_by=by
    )


# --- Receiving ------------------------------------------------------------------------------


def _require_works_at(user: User, warehouse: FrontWarehouse) -> None:
    if not works_at(user, warehouse):
        raise PermissionDenied(_("You do not work at this warehouse."))


def _limit_to(quantity: Decimal, limit: Decimal) -> None:
    if quantity > limit:
        raise DeliveryError(
            _("At most %(limit)s kg arrived with this delivery.") % {"limit": limit},
            field="quantity_kg",
        )


def _receive(
    *,
    warehouse: FrontWarehouse,
    lot: HarvestLot,
    quantity: Decimal,
    by: User,
    order_line: OrderLine | None = None,
    trade: Trade | None = None,
) -> StockReceipt:
    now = timezone.now()
    stock = receive_stock(warehouse=warehouse, lot=lot, quantity_kg=quantity, received_at=now)
    return StockReceipt.objects.create(
        stock_lot=stock,
        quantity_kg=quantity,
        order_line=order_line,
        trade=trade,
        received_by=by,
        received_at=now,
    )


def receive_from_order_line(
    *, warehouse: FrontWarehouse, order_line: OrderLine, quantity_kg, by: User
) -> StockReceipt:
    """The goods of a marketplace order line arrive: its listing's lot joins the stock.

    Rules: the order was bought by a member of this warehouse's staff and handed over (or
    completed) by the seller; `by` works here (or is an admin); at most the packed weight
    (the ordered one if none was packed) is received; a line is received once (a second
    time is a conflict). The line's row is locked, so two scans of the same delivery
    queue and the second is refused."""
    quantity = clean_quantity_kg(quantity_kg)
    _require_works_at(by, warehouse)
    with transaction.atomic():
        line = (
            OrderLine.objects.select_for_update(of=("self",), no_key=True)
            .select_related("order", "listing__lot")
            .get(pk=order_line.pk)
        )
        if not is_staff_member(line.order.buyer_id, warehouse):
            raise NotFoundOrNotYours(field="order_line")
        if StockReceipt.objects.filter(order_line=line).exists():
            raise AlreadyReceived(_("This order line was already received."), field="order_line")
        if line.order.status not in RECEIVABLE_ORDER_STATUSES:
            raise DeliveryError(
                _("This order has not been handed over yet (it is %(status)s).")
                % {"status": line.order.get_status_display()},
                field="order_line",
            )
        _limit_to(quantity, receivable_kg(line))
        return _receive(
            warehouse=warehouse, lot=line.listing.lot, quantity=quantity, by=by, order_line=line
        )


def receive_from_trade(
    *, warehouse: FrontWarehouse, trade: Trade, quantity_kg, by: User
) -> StockReceipt:
    """The goods of a wholesale-market purchase arrive: the traded lot joins the stock.

    Rules: the trade's buyer trader is linked to a user of this warehouse's staff; it names
    its lot and was not reversed; `by` works here (or is an admin); at most its net weight
    is received; a trade is received once (a second time is a conflict)."""
    quantity = clean_quantity_kg(quantity_kg)
    _require_works_at(by, warehouse)
    with transaction.atomic():
        trade = (
            Trade.objects.select_for_update(of=("self",), no_key=True)
            .select_related("buyer", "lot")
            .get(pk=trade.pk)
        )
        if not is_staff_member(trade.buyer.user_id, warehouse):
            raise NotFoundOrNotYours(field="trade")
        if StockReceipt.objects.filter(trade=trade).exists():
            raise AlreadyReceived(_("This trade was already received."), field="trade")
        if trade.is_reversed:
            raise DeliveryError(_("This trade was reversed: nothing to receive."), field="trade")
        if trade.lot is None:
            raise DeliveryError(
                _("This trade names no harvest lot: receive the goods as a lot instead."),
                field="trade",
            )
        _limit_to(quantity, receivable_kg(trade))
        return _receive(warehouse=warehouse, lot=trade.lot, quantity=quantity, by=by, trade=trade)


def receive_lot(
    *, warehouse: FrontWarehouse, lot: HarvestLot, quantity_kg, by: User
) -> StockReceipt:
    """Any other arrival of a harvest lot (a transfer, a delivery bought outside the
    platform): received with no source; `by` works here (or is an admin). The lot must be one
    the warehouse may receive (lots_receivable_at: brought to its site by a cold-chain
    shipment, already in its stock, or bought for it); another is NotFoundOrNotYours, so a
    warehouse cannot take in, or learn about, someone else's lot."""
    quantity = clean_quantity_kg(quantity_kg)
    _require_works_at(by, warehouse)
    if not lots_receivable_at(warehouse).filter(pk=lot.pk).exists():
        raise NotFoundOrNotYours(field="lot")
    with transaction.atomic():
        return _receive(warehouse=warehouse, lot=lot, quantity=quantity, by=by)


# --- Counting -------------------------------------------------------------------------------


def record_count(*, stock_lot: StockLot, counted_kg, by: User) -> StockCount:
    """A counted quantity of a stock lot. The count keeps what the books expected; a
    shortfall is written off as a count difference (it counts in the loss rate), a surplus
    raises the stock to what was counted. Zero is a valid count; below zero is refused."""
    counted = clean_counted_kg(counted_kg)
    _require_works_at(by, stock_lot.warehouse)
    with transaction.atomic():
        stock = StockLot.objects.select_for_update().get(pk=stock_lot.pk)
        expected = stock.quantity_kg
        count = StockCount.objects.create(
            stock_lot=stock, expected_kg=expected, counted_kg=counted, counted_by=by
        )
        if counted < expected:
            write_off_stock(
                stock_lot=stock,
                quantity_kg=expected - counted,
                reason=WriteOffReason.COUNT_DIFFERENCE,
                by=by,
            )
        elif counted > expected:
            stock.quantity_kg = counted
            stock.save(update_fields=["quantity_kg", "updated_at"])
    return count
