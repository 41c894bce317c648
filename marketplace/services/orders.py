"""Every write an order allows. Each public function is one transaction.

Lock order, everywhere: the listings' lots FOR SHARE when placing (farms' rule: a lot before
anything that belongs to it; a hold being placed takes the lot FOR UPDATE, so an order and a
recall of the same lot never cross), the order row, then listings by ascending id, then the
order's payment hold and the ledger's balance slots (`settlement.holds`, whose
`post_entry` locks slots by account id). Reserving and releasing listing quantity never
reads then writes: it is one conditional UPDATE per listing (`… WHERE available_kg >= q`),
so no two orders can sell the same kilogram and the `listing_available_not_negative` check
constraint is the guard of last resort.

No hold, no order: placing holds the order's total in the buyer's wallet in the same
transaction (a wallet that cannot cover it refuses the order and nothing is reserved);
hand-over captures the re-priced total from the hold; cancel, reject and expiry release it.

Side effects (notifications, live pushes) are scheduled with `transaction.on_commit` by
`marketplace.realtime`, so nothing is announced for a transaction that rolls back.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from accounts.models import User
from common.exceptions import InvalidTransition
from common.metrics import count
from common.money import round_money
from common.units import positive_kg
from farms.exceptions import LotHeld
from farms.services.holds import lock_lots_for_sale
from settlement.holds import capture_order_total, hold_order_total, release_order_hold

from .. import realtime
from ..choices import ListingStatus, OrderStatus
from ..exceptions import (
    AmountBelowOneCent,
    BelowMinimumOrder,
    DuplicateOrderLine,
    EmptyOrder,
    InsufficientQuantity,
    InvalidOrderQuantity,
    InvalidPackedWeights,
    InvalidWeightTolerance,
    ListingLotHeld,
    ListingNotAvailable,
    MixedSellers,
    OrderExpired,
    OrderNotYours,
    OwnListing,
)
from ..metrics import ORDERS_PLACED
from ..models import Listing, Order, OrderEvent, OrderLine
from ..selectors.orders import is_buyer_side, is_seller_side, overdue_placed_orders

MAX_LINES = 50
EXPIRY_BATCH = 200
MIN_TOLERANCE_PCT, MAX_TOLERANCE_PCT = Decimal(0), Decimal(50)  # as the check constraint


# --- Placing ------------------------------------------------------------------------------


def place_order(
    *,
    buyer: User,
    lines: Sequence[tuple[int, Decimal]],
    weight_tolerance_pct: Decimal | int = 5,
    buyer_note: str = "",
    idempotency_key: str = "",
) -> Order:
    """Order quantities from listings of one seller and reserve them.

    Rules: every listing is of the same seller (not the buyer), active and within its
    window; each quantity is above zero with at most 3 decimals and at least the listing's
    minimum order; each line is reserved by one conditional UPDATE, in listing-id order
    (no deadlocks between two orders sharing listings). A listing left with nothing turns
    sold out. Lines keep the price of the moment; the total is the sum of each line's
    rounded amount, and it is held in the buyer's wallet (WalletCannotHold, on "wallet" with
    the available balance, when it does not cover it). A listing whose lot is held everywhere
    (a recall) is refused with the hold's reason (ListingLotHeld). Any refusal leaves
    everything as it was.

    Idempotent per (buyer, key): a retry returns the first order and reserves nothing.
    """
    if idempotency_key:
        replay = _order_with_key(buyer=buyer, key=idempotency_key)
        if replay is not None:
            return replay
    wanted = _clean_lines(lines)
    tolerance = _tolerance(weight_tolerance_pct)
    now = timezone.now()

    with transaction.atomic():
        listings = Listing.objects.in_bulk([listing_id for listing_id, _quantity in wanted])
        _check_listings(buyer=buyer, wanted=wanted, listings=listings, now=now)
        seller_id = listings[wanted[0][0]].seller_id
        _lock_lots(wanted=wanted, listings=listings)

        # The order row first: a concurrent retry with the same key waits on the unique
        # index here, then finds the first order, before either reserves anything.
        try:
            with transaction.atomic():
                order = Order.objects.create(  # type: ignore[misc]  # stubs type a MoneyField as its DecimalField base; it takes Money
                    buyer=buyer,
                    seller_id=seller_id,
                    weight_tolerance_pct=tolerance,
                    total=Money(0, settings.DEFAULT_CURRENCY),
                    buyer_note=buyer_note.strip(),
                    expires_at=now + timedelta(hours=settings.ORDER_ACCEPT_HOURS),
                    idempotency_key=idempotency_key,
                )
        except IntegrityError:
            replay = _order_with_key(buyer=buyer, key=idempotency_key)
            if replay is None:
                raise
            return replay

        index_of = {listing_id: index for index, (listing_id, _quantity) in enumerate(wanted)}
        order_lines = []
        for listing_id, quantity_kg in sorted(wanted):
            _reserve(
                listing_id=listing_id, quantity_kg=quantity_kg, line=index_of[listing_id], now=now
            )
            listing = listings[listing_id]
            order_lines.append(
                OrderLine(  # type: ignore[misc]  # stubs type a MoneyField as its DecimalField base; it takes Money
                    order=order,
                    listing=listing,
                    quantity_kg=quantity_kg,
                    unit_price=listing.price_per_kg,
                    amount=round_money(listing.price_per_kg * quantity_kg),
                )
            )
        OrderLine.objects.bulk_create(order_lines)
        order.total = _sum_money(line.amount for line in order_lines)
        order.save(update_fields=["total", "updated_at"])
        if order.total.amount <= 0:
            # Nothing to hold or pay: a few grams at a few fen rounds to zero.
            raise AmountBelowOneCent(field="lines")
        hold_order_total(order=order, by=buyer)
        _record_event(order=order, actor=buyer)
        realtime.announce_new_order(order)
        count(ORDERS_PLACED)
    return order


def _order_with_key(*, buyer: User, key: str) -> Order | None:
    return Order.objects.filter(buyer=buyer, idempotency_key=key).first()


def _clean_lines(lines: Sequence[tuple[int, Decimal]]) -> list[tuple[int, Decimal]]:
    if not lines:
        raise EmptyOrder()
    if len(lines) > MAX_LINES:
        raise EmptyOrder(_("An order takes at most %(count)s lines.") % {"count": MAX_LINES})
    cleaned, seen = [], set()
    for index, (listing_id, quantity_kg) in enumerate(lines):
        quantity = positive_kg(quantity_kg)
        if quantity is None:
            raise InvalidOrderQuantity(line=index)
        try:
            listing_id = int(listing_id)
        except (TypeError, ValueError) as exc:
            raise ListingNotAvailable(line=index) from exc
        if listing_id in seen:
            raise DuplicateOrderLine(line=index)
        seen.add(listing_id)
        cleaned.append((listing_id, quantity))
    return cleaned


def _tolerance(value) -> Decimal:
    try:
        tolerance = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        tolerance = None
    exponent = None if tolerance is None else tolerance.as_tuple().exponent
    if (
        tolerance is None
        or not isinstance(exponent, int)  # NaN and infinity have a letter for it
        or not MIN_TOLERANCE_PCT <= tolerance <= MAX_TOLERANCE_PCT
        or -exponent > 1
    ):
        raise InvalidWeightTolerance()
    return tolerance


def _is_on_sale(listing: Listing, now: datetime) -> bool:
    """Active (or sold out: then the refusal is about quantity) and within its window."""
    return (
        listing.status in (ListingStatus.ACTIVE, ListingStatus.SOLD_OUT)
        and listing.available_from <= now < listing.available_until
    )


def _check_listings(
    *, buyer: User, wanted: list[tuple[int, Decimal]], listings: dict[int, Listing], now: datetime
) -> None:
    """Refusals that need no lock; the reservation re-checks status and quantity atomically."""
    seller_ids = set()
    for index, (listing_id, quantity_kg) in enumerate(wanted):
        listing = listings.get(listing_id)
        if listing is None or not _is_on_sale(listing, now):
            raise ListingNotAvailable(line=index, listing_id=listing_id)
        if quantity_kg < listing.minimum_order_kg:
            raise BelowMinimumOrder(
                line=index, listing_id=listing_id, minimum_kg=listing.minimum_order_kg
            )
        if quantity_kg > listing.available_kg:
            raise InsufficientQuantity(
                line=index,
                listing_id=listing_id,
                requested_kg=quantity_kg,
                available_kg=listing.available_kg,
            )
        seller_ids.add(listing.seller_id)
    if len(seller_ids) > 1:
        raise MixedSellers()
    if buyer.pk in seller_ids:
        raise OwnListing()


def _lock_lots(*, wanted: list[tuple[int, Decimal]], listings: dict[int, Listing]) -> None:
    """The listings' lots FOR SHARE, before anything else is locked; a held one refuses the
    line that sells it, with the hold's reason."""
    line_of = {listings[listing_id].lot_id: index for index, (listing_id, _kg) in enumerate(wanted)}
    try:
        lock_lots_for_sale(lot_ids=line_of)
    except LotHeld as held:
        line = line_of[held.details["lot_id"]]
        raise ListingLotHeld(held.message, line=line, listing_id=wanted[line][0]) from held


def _reserve(*, listing_id: int, quantity_kg: Decimal, line: int, now: datetime) -> None:
    """Take quantity from a listing in one conditional UPDATE; sold out when none is left."""
    reserved = Listing.objects.filter(
        pk=listing_id,
        status=ListingStatus.ACTIVE,
        available_from__lte=now,
        available_until__gt=now,
        available_kg__gte=quantity_kg,
    ).update(
        available_kg=F("available_kg") - quantity_kg,
        # PostgreSQL evaluates SET against the old row: "all that was left is taken".
        status=Case(
            When(available_kg=quantity_kg, then=Value(ListingStatus.SOLD_OUT)),
            default=F("status"),
        ),
        updated_at=now,
    )
    if reserved:
        return
    listing = Listing.objects.filter(pk=listing_id).first()
    if listing is None or not _is_on_sale(listing, now):
        raise ListingNotAvailable(line=line, listing_id=listing_id)
    raise InsufficientQuantity(
        line=line,
        listing_id=listing_id,
        requested_kg=quantity_kg,
        available_kg=listing.available_kg,
    )


def _release(order: Order, *, now: datetime) -> None:
    """Give an order's quantity back to its listings, in listing-id order.

    A sold-out listing still within its window goes back on sale; a paused or closed one
    keeps its status (the seller decided that) but gets the quantity back.
    """
    for listing_id, quantity_kg in sorted(order.lines.values_list("listing_id", "quantity_kg")):
        Listing.objects.filter(pk=listing_id).update(
            available_kg=F("available_kg") + quantity_kg,
            status=Case(
                When(
                    Q(status=ListingStatus.SOLD_OUT)
                    & Q(available_from__lte=now)
                    & Q(available_until__gt=now),
                    then=Value(ListingStatus.ACTIVE),
                ),
                default=F("status"),
            ),
            updated_at=now,
        )


# --- Steps of an order --------------------------------------------------------------------


def accept_order(*, by: User, order_id: int) -> Order:
    """The seller (or her co-operative's manager) accepts a placed order before it expires.
    An order already accepted is returned unchanged (a tap sent again, e.g. from a phone that
    kept it while offline)."""
    with transaction.atomic():
        order = _locked_order(order_id)
        _require_seller_side(by, order)
        if order.status == OrderStatus.ACCEPTED:
            return order
        if order.status == OrderStatus.PLACED and order.expires_at <= timezone.now():
            raise OrderExpired()
        _move(order, OrderStatus.ACCEPTED, actor=by)
    return order


def reject_order(*, by: User, order_id: int, reason: str = "") -> Order:
    """The seller side declines a placed order; its quantity goes back on sale and its hold
    back to the buyer's wallet."""
    with transaction.atomic():
        order = _locked_order(order_id)
        _require_seller_side(by, order)
        _move(order, OrderStatus.REJECTED, actor=by, note=reason)
        _release(order, now=timezone.now())
        release_order_hold(order=order, by=by)
    return order


def cancel_order(*, by: User, order_id: int, reason: str = "") -> Order:
    """The buyer cancels, only while the order is still placed; its quantity and its hold
    are released."""
    with transaction.atomic():
        order = _locked_order(order_id)
        _require_buyer(by, order)
        _move(order, OrderStatus.CANCELLED, actor=by, note=reason)
        _release(order, now=timezone.now())
        release_order_hold(order=order, by=by)
    return order


def mark_ready(*, by: User, order_id: int) -> Order:
    """The seller side has the accepted order ready for pickup. An order already ready is
    returned unchanged (a tap sent again)."""
    with transaction.atomic():
        order = _locked_order(order_id)
        _require_seller_side(by, order)
        if order.status == OrderStatus.READY:
            return order
        _move(order, OrderStatus.READY, actor=by)
    return order


def hand_over(*, by: User, order_id: int, packed_kg: Mapping[int, Decimal]) -> Order:
    """The seller side enters each line's packed weight and the order is re-priced to it.

    Every line needs a weight. Within the buyer's tolerance (|packed − ordered| ≤ tolerance %
    of ordered, on every line) the order is handed over; beyond it on any line, the buyer
    must confirm the new amounts first (AWAITING_BUYER). Handed over, the order is paid
    from its hold at the new total: the rest of the hold goes back to the buyer's wallet, or
    the wallet pays what the total is above it (refused, and nothing changes, if it cannot).
    Listing quantity is not touched:
    the reservation was of the ordered weight and the listing shows what is left to sell.
    """
    with transaction.atomic():
        order = _locked_order(order_id)
        _require_seller_side(by, order)
        if order.status != OrderStatus.READY:
            raise InvalidTransition(current=order.status, requested=OrderStatus.HANDED_OVER)
        lines = list(order.lines.order_by("id"))
        weights = _clean_packed_weights(packed_kg, line_ids={line.pk for line in lines})
        within_tolerance = True
        for line in lines:
            line.packed_kg = weights[line.pk]
            line.amount = round_money(line.unit_price * line.packed_kg)
            allowed = line.quantity_kg * order.weight_tolerance_pct / 100
            within_tolerance &= abs(line.packed_kg - line.quantity_kg) <= allowed
        new_status = OrderStatus.HANDED_OVER if within_tolerance else OrderStatus.AWAITING_BUYER
        OrderLine.objects.bulk_update(lines, ["packed_kg", "amount"])
        order.total = _sum_money(line.amount for line in lines)
        if new_status == OrderStatus.HANDED_OVER:
            capture_order_total(order=order, by=by)
        _move(order, new_status, actor=by, extra_fields=["total"])
    return order


def confirm_weights(*, by: User, order_id: int, accept: bool = True) -> Order:
    """The buyer accepts the packed weights beyond his tolerance (handed over, paid from the
    hold, his wallet paying what the new total is above it), or declines them: the order
    goes back to the seller, ready, priced at the ordered weights again (the hold stays)."""
    with transaction.atomic():
        order = _locked_order(order_id)
        _require_buyer(by, order)
        if order.status != OrderStatus.AWAITING_BUYER:
            raise InvalidTransition(
                current=order.status,
                requested=OrderStatus.HANDED_OVER if accept else OrderStatus.READY,
            )
        if accept:
            capture_order_total(order=order, by=by)
            _move(order, OrderStatus.HANDED_OVER, actor=by)
            return order
        lines = list(order.lines.order_by("id"))
        for line in lines:
            line.packed_kg = None
            line.amount = round_money(line.unit_price * line.quantity_kg)
        OrderLine.objects.bulk_update(lines, ["packed_kg", "amount"])
        order.total = _sum_money(line.amount for line in lines)
        _move(order, OrderStatus.READY, actor=by, note="weights declined", extra_fields=["total"])
    return order


def complete_order(*, by: User, order_id: int) -> Order:
    """The buyer confirms he received a handed-over order."""
    with transaction.atomic():
        order = _locked_order(order_id)
        _require_buyer(by, order)
        _move(order, OrderStatus.COMPLETED, actor=by)
    return order


def expire_overdue_orders(*, now: datetime | None = None, limit: int = EXPIRY_BATCH) -> list[int]:
    """Expire placed orders nobody accepted by their deadline; release their quantity and
    their holds, in the same transaction as the move.

    Claims at most `limit` orders with `FOR UPDATE SKIP LOCKED`: two runs at once split the
    work instead of waiting, and an order being accepted right now is left to that accept.
    A second run finds nothing more to do. Returns the ids it expired.
    """
    now = now or timezone.now()
    with transaction.atomic():
        overdue = list(
            overdue_placed_orders(now=now)
            .select_related("buyer", "seller")
            .select_for_update(of=("self",), skip_locked=True)[:limit]
        )
        for order in overdue:
            _move(order, OrderStatus.EXPIRED, actor=None)
            _release(order, now=now)
            release_order_hold(order=order, by=None)
    return [order.pk for order in overdue]


# --- Helpers ------------------------------------------------------------------------------


def _locked_order(order_id: int) -> Order:
    return (
        Order.objects.select_related("buyer", "seller")
        .select_for_update(of=("self",), no_key=True)
        .get(pk=order_id)
    )


def _require_seller_side(user: User, order: Order) -> None:
    if not is_seller_side(user, order):
        raise OrderNotYours()


def _require_buyer(user: User, order: Order) -> None:
    if not is_buyer_side(user, order):
        raise OrderNotYours()


def _clean_packed_weights(packed_kg: Mapping, *, line_ids: set[int]) -> dict[int, Decimal]:
    try:
        weights = {int(line_id): positive_kg(kg) for line_id, kg in (packed_kg or {}).items()}
    except (TypeError, ValueError) as exc:
        raise InvalidPackedWeights() from exc
    cleaned = {line_id: kg for line_id, kg in weights.items() if kg is not None}
    if set(cleaned) != line_ids or len(cleaned) != len(weights):
        raise InvalidPackedWeights()
    return cleaned


def _sum_money(amounts: Iterable[Money]) -> Money:
    return sum(amounts, Money(0, settings.DEFAULT_CURRENCY))


def _move(
    order: Order,
    new_status: str,
    *,
    actor: User | None,
    note: str = "",
    extra_fields: Sequence[str] = (),
) -> None:
    """Validate and record a step: status, history row, and the after-commit news."""
    order.move_to(new_status)
    order.save(update_fields=["status", "updated_at", *extra_fields])
    _record_event(order=order, actor=actor, note=note)
    realtime.announce_status_change(order, actor=actor)


def _record_event(*, order: Order, actor: User | None, note: str = "") -> None:
    OrderEvent.objects.create(order=order, status=order.status, actor=actor, note=note[:300])
