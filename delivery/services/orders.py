"""Every write a consumer's order allows: place (reserve stock, pay), pack, cancel. Each
public function is one transaction; any refusal leaves everything as it was.

Lock order, everywhere: when placing, the lots of the products' stock FOR SHARE first
(`stock.lock_sellable_lots`, farms' rule: a lot before anything of it; a recall takes the lot
FOR UPDATE, so an order and a recall never cross), the order row, its task (if any; dispatch
takes them in that order when a courier accepts), then stock rows by product id and within a product first-expired-
first-out (as `take_stock_fefo` locks them), then the ledger's balance slots (`post_entry`
locks those by account id). Live pushes go out after commit (`realtime.push_order`), so
nothing is announced for a transaction that rolls back.
"""

import secrets
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from accounts.models import User
from accounts.permissions import is_admin
from common.dates import business_date_of
from common.metrics import count
from common.money import CENT, round_money
from common.units import positive_kg
from farms.selectors import held_everywhere
from settlement.exceptions import InsufficientBalance
from settlement.payments import pay_shop_order, refund_shop_order

from .. import realtime
from ..exceptions import (
    DeliveryError,
    InsufficientStock,
    OrderLineRefused,
    OrderLineShortOfStock,
    OrderNotYours,
    OrderStepRefused,
    WalletShort,
)
from ..metrics import ORDERS_PLACED
from ..models import (
    DeliveryOrder,
    DeliveryOrderLine,
    DeliveryOrderPick,
    DeliveryOrderStatus,
    DeliveryTask,
    ShopPrice,
    StockLot,
)
from ..selectors.shop import is_open_now, product_name, serving_warehouse, staff_warehouse_id
from . import dispatch
from .stock import lock_sellable_lots, take_stock_fefo
from .transitions import Why, move_order, note_order, order_placed

MAX_LINES = 50
MAX_ADDRESS = 200
MAX_KEY = 64
NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud on the phone
NUMBER_TRIES = 5


# --- Placing ------------------------------------------------------------------------------


def place_order(
    *,
    consumer: User,
    longitude,
    latitude,
    address: str,
    lines: Sequence[tuple[int, Decimal]],
    idempotency_key: str = "",
) -> DeliveryOrder:
    """The consumer orders from the warehouse whose zone holds her home, and pays.

    Rules: the home is inside a zone (else a refusal on "location", nothing written); that
    warehouse is open now (Asia/Shanghai hours); every product is listed there; quantities
    are above zero with at most 3 decimals, each product once. Stock is reserved first-
    expired-first-out, all or nothing (`OrderLineShortOfStock`, a conflict), never from a lot
    held everywhere (a recall: its stock is not for sale). Each line is priced at
    the shop's price, its amount rounded once; the total is paid from her wallet to the
    shop's sales (a short wallet: `WalletShort` on "wallet", with the balance). The promise
    is placed_at + the warehouse's minutes; the 4-digit delivery code is random.

    Idempotent per (consumer, key): a retry returns the first order and takes nothing more.
    """
    key = (idempotency_key or "").strip()
    if len(key) > MAX_KEY:
        raise DeliveryError(
            _("Use at most %(count)s characters.") % {"count": MAX_KEY}, field="idempotency_key"
        )
    if key:
        replay = _order_with_key(consumer=consumer, key=key)
        if replay is not None:
            return replay
    address = _clean_address(address)
    wanted = _clean_lines(lines)
    warehouse = serving_warehouse(longitude=longitude, latitude=latitude)
    now = timezone.now()
    if not is_open_now(warehouse, now):
        raise DeliveryError(
            _(
                "%(warehouse)s is closed now. It takes orders from %(opens)s to %(closes)s "
                "(Beijing time)."
            )
            % {
                "warehouse": warehouse.name,
                "opens": warehouse.opens_at.strftime("%H:%M"),
                "closes": warehouse.closes_at.strftime("%H:%M"),
            }
        )
    prices = _listed_prices(warehouse=warehouse, wanted=wanted)
    home = _point(longitude, latitude)

    with transaction.atomic():
        sellable = lock_sellable_lots(warehouse=warehouse, product_ids=[pid for pid, _kg in wanted])
        order, created = _create_order_row(
            consumer=consumer, warehouse=warehouse, address=address, location=home, now=now, key=key
        )
        if not created:  # a concurrent retry with the same key committed first
            return order
        order_placed(order, by=consumer)
        index_of = {product_id: index for index, (product_id, _kg) in enumerate(wanted)}
        amounts = []
        # Products in id order, so two orders sharing products lock their stock alike.
        for product_id, quantity_kg in sorted(wanted):
            price = prices[product_id]
            # django-money: a MoneyField takes Money; the stubs see the DecimalField under it.
            line = DeliveryOrderLine.objects.create(  # type: ignore[misc]
                order=order,
                product_id=product_id,
                quantity_kg=quantity_kg,
                price_per_kg=price.price_per_kg,
                amount=round_money(price.price_per_kg * quantity_kg),
            )
            _reserve(line=line, price=price, index=index_of[product_id], lot_ids=sellable)
            amounts.append(line.amount.amount)
        total = sum(amounts, Decimal("0.00"))
        if total < CENT:
            raise DeliveryError(_("This order comes to less than one cent."), field="lines")
        order.total = Money(total, "CNY")
        order.payment_entry = _pay(order=order)
        order.save(update_fields=["total", "payment_entry", "updated_at"])
        dispatch.schedule_dispatch(order, now=now)
        realtime.push_order(order)
        count(ORDERS_PLACED)
    return order


def _order_with_key(*, consumer: User, key: str) -> DeliveryOrder | None:
    return DeliveryOrder.objects.filter(consumer=consumer, idempotency_key=key).first()


def _clean_address(address) -> str:
    address = (address or "").strip()
    if not address:
        raise DeliveryError(_("Give the delivery address."), field="address")
    if len(address) > MAX_ADDRESS:
        raise DeliveryError(
            _("Use at most %(count)s characters.") % {"count": MAX_ADDRESS}, field="address"
        )
    return address


def _clean_lines(lines) -> list[tuple[int, Decimal]]:
    if not lines:
        raise DeliveryError(_("Choose at least one product."), field="lines")
    if len(lines) > MAX_LINES:
        raise DeliveryError(
            _("An order takes at most %(count)s products.") % {"count": MAX_LINES},
            field="lines",
        )
    cleaned, seen = [], set()
    for index, (product_id, quantity_kg) in enumerate(lines):
        try:
            product_id = int(product_id)
        except (TypeError, ValueError) as exc:
            raise OrderLineRefused(
                _("Choose a product of this shop."),
                line=index,
                product_id=product_id,
                field="product_id",
            ) from exc
        quantity = positive_kg(quantity_kg)
        if quantity is None:
            raise OrderLineRefused(
                _("Enter a quantity above zero, in kg with at most 3 decimals."),
                line=index,
                product_id=product_id,
            )
        if product_id in seen:
            raise OrderLineRefused(
                _("Each product once per order, please."),
                line=index,
                product_id=product_id,
                field="product_id",
            )
        seen.add(product_id)
        cleaned.append((product_id, quantity))
    return cleaned


def _listed_prices(*, warehouse, wanted) -> dict[int, ShopPrice]:
    prices = {
        price.product_id: price
        for price in ShopPrice.objects.filter(
            warehouse=warehouse, is_listed=True, product_id__in=[pid for pid, _kg in wanted]
        ).select_related("product")
    }
    for index, (product_id, _quantity) in enumerate(wanted):
        if product_id not in prices:
            raise OrderLineRefused(
                _("%(warehouse)s does not sell this product.") % {"warehouse": warehouse.name},
                line=index,
                product_id=product_id,
                field="product_id",
            )
    return prices


def _point(longitude, latitude) -> Point:
    return Point(float(longitude), float(latitude), srid=4326)


def _order_number(now) -> str:
    """Readable and unique: the Beijing date and six random letters, e.g. 261128-K7QM3X."""
    day = business_date_of(now).strftime("%y%m%d")
    return f"{day}-{''.join(secrets.choice(NUMBER_ALPHABET) for _i in range(6))}"


def _create_order_row(
    *, consumer, warehouse, address, location, now, key
) -> tuple[DeliveryOrder, bool]:
    """The order row first: a concurrent retry with the same key waits on the unique index
    here and then gets the first order (created False), before either touches stock or
    money."""
    for _attempt in range(NUMBER_TRIES):
        try:
            with transaction.atomic():
                # django-money: a MoneyField takes Money; the stubs see the DecimalField.
                order = DeliveryOrder.objects.create(  # type: ignore[misc]
                    number=_order_number(now),
                    consumer=consumer,
                    warehouse=warehouse,
                    address=address,
                    location=location,
                    status=DeliveryOrderStatus.PLACED,
                    total=Money(0, "CNY"),
                    placed_at=now,
                    promised_by=now + timedelta(minutes=warehouse.promised_minutes),
                    delivery_code=f"{secrets.randbelow(10_000):04d}",
                    idempotency_key=key,
                )
            return order, True
        except IntegrityError as error:
            if "delivery_order_key_once" in str(error):
                replay = _order_with_key(consumer=consumer, key=key)
                if replay is not None:
                    return replay, False
            if "number" not in str(error):
                raise
    raise RuntimeError("no free order number after several tries")


def _reserve(*, line: DeliveryOrderLine, price: ShopPrice, index: int, lot_ids: set[int]) -> None:
    """Take the line's kilograms first-expired-first-out from the locked sellable lots and
    record which lots gave them."""
    try:
        picks = take_stock_fefo(
            warehouse=line.order.warehouse,
            product=price.product,
            quantity_kg=line.quantity_kg,
            lot_ids=lot_ids,
        )
    except InsufficientStock as error:
        available = StockLot.objects.filter(
            warehouse=line.order.warehouse, product=price.product, quantity_kg__gt=0
        ).exclude(held_everywhere()).aggregate(kg=Sum("quantity_kg"))["kg"] or Decimal(0)
        raise OrderLineShortOfStock(
            _("Only %(available)s kg of %(product)s is left.")
            % {"available": f"{available.normalize():f}", "product": product_name(price.product)},
            line=index,
            product_id=line.product_id,
        ) from error
    DeliveryOrderPick.objects.bulk_create(
        DeliveryOrderPick(line=line, stock_lot=pick.stock_lot, quantity_kg=pick.quantity_kg)
        for pick in picks
    )


def _pay(*, order: DeliveryOrder):
    """The consumer's wallet pays the shop's sales; one entry per order."""
    try:
        return pay_shop_order(
            order_id=order.pk,
            consumer=order.consumer,
            total=order.total.amount,
            number=order.number,
        )
    except InsufficientBalance as short:
        raise WalletShort(
            balance=short.details["balance"], needed=short.details["needed"], field="wallet"
        ) from short


# --- Packing ------------------------------------------------------------------------------


def _is_staff_of(user: User, order: DeliveryOrder) -> bool:
    return is_admin(user) or staff_warehouse_id(user) == order.warehouse_id


def pack_order(*, by: User, order_id: int) -> DeliveryOrder:
    """The warehouse's staff (or an admin) has packed a placed order: it is ready to go and
    dispatch looks for a courier once this commits (one already asked ahead, see
    `dispatch.schedule_dispatch`, keeps its task and offer). An order whose courier accepted
    it while it was being packed stays ASSIGNED (he is on his way) with its packing recorded,
    and his page now lets him pick it up. Packing a packed order again changes nothing; a
    later state is refused (a conflict)."""
    with transaction.atomic():
        order = (
            DeliveryOrder.objects.select_for_update(of=("self",))
            .select_related("warehouse")
            .get(pk=order_id)
        )
        if not _is_staff_of(by, order):
            raise OrderNotYours(
                _("Only the staff of %(warehouse)s pack its orders.")
                % {"warehouse": order.warehouse.name}
            )
        if order.status == DeliveryOrderStatus.PACKED:
            return order
        if order.status == DeliveryOrderStatus.ASSIGNED and order.packed_at is None:
            _packed_for_courier(order, by=by)
            return order
        if order.status == DeliveryOrderStatus.ASSIGNED:
            return order  # packed already, courier on the way: a retried tap
        if order.status != DeliveryOrderStatus.PLACED:
            raise OrderStepRefused(
                _("This order is %(status)s; only a placed order can be packed.")
                % {"status": order.get_status_display()}
            )
        order.packed_at = timezone.now()
        move_order(order, DeliveryOrderStatus.PACKED, by=by, fields=["packed_at"])
        dispatch.request_dispatch(order)
        realtime.push_order(order)
    return order


def _packed_for_courier(order: DeliveryOrder, *, by: User) -> None:
    """The order's courier accepted it while it was being packed: it stays ASSIGNED, its
    packing is recorded and his page shows the task ready to pick up once all are packed."""
    order.packed_at = timezone.now()
    note_order(order, by=by, why=Why.PACKED_COURIER_COMING, fields=["packed_at"])
    realtime.push_order(order)
    if order.task_id is None:  # an assigned order is on its task
        return
    task = DeliveryTask.objects.select_related("courier").filter(pk=order.task_id).first()
    if task is not None:
        realtime.push_task(task)


# --- Cancelling ---------------------------------------------------------------------------


def cancel_order(*, by: User, order_id: int, reason: str = "") -> DeliveryOrder:
    """The consumer (her own order) or the warehouse's staff cancels an order that is placed
    or packed while no courier has accepted its task (one who accepted it while it was being
    packed makes it ASSIGNED: no longer cancellable). The picked kilograms go back into the
    same stock lots and the wallet is refunded in full (one refund per order). Cancelling a
    cancelled order changes nothing; a later state is refused (a conflict).

    An order's task (packed, or placed and dispatched ahead) is dispatch's:
    `dispatch.order_cancelled(order)` detaches the order and withdraws a task left without
    orders.
    """
    reason = (reason or "").strip()[:200]
    with transaction.atomic():
        order = (
            DeliveryOrder.objects.select_for_update(of=("self",))
            .select_related("warehouse")
            .get(pk=order_id)
        )
        if not (order.consumer_id == by.pk or _is_staff_of(by, order)):
            raise OrderNotYours(
                _("Only the consumer or the warehouse's staff may cancel this order.")
            )
        if order.status == DeliveryOrderStatus.CANCELLED:
            return order
        # The order, then its task: as dispatch takes them when a courier accepts.
        task = (
            DeliveryTask.objects.select_for_update(no_key=True).get(pk=order.task_id)
            if order.task_id is not None
            else None
        )
        _check_cancellable(order=order, task=task)
        _put_stock_back(order=order)
        _refund(order=order, by=by, reason=reason)
        order.cancelled_at = timezone.now()
        move_order(order, DeliveryOrderStatus.CANCELLED, by=by, why=reason, fields=["cancelled_at"])
        _withdraw_from_task(order=order)
        realtime.push_order(order)
    return order


def _check_cancellable(*, order: DeliveryOrder, task: DeliveryTask | None) -> None:
    if order.status == DeliveryOrderStatus.PLACED:
        return
    if order.status == DeliveryOrderStatus.PACKED and (task is None or task.courier_id is None):
        return
    if order.status == DeliveryOrderStatus.PACKED:
        raise OrderStepRefused(
            _("A courier has already taken this order; it can no longer be cancelled.")
        )
    raise OrderStepRefused(
        _("This order is %(status)s; it can no longer be cancelled.")
        % {"status": order.get_status_display()}
    )


def _put_stock_back(*, order: DeliveryOrder) -> None:
    """Each pick's kilograms back into its own lot, in the order placing locks them."""
    picks = (
        DeliveryOrderPick.objects.filter(line__order=order)
        .select_related("stock_lot")
        .order_by("stock_lot__product_id", "stock_lot__expires_at", "stock_lot_id")
    )
    for pick in picks:
        StockLot.objects.filter(pk=pick.stock_lot_id).update(
            quantity_kg=F("quantity_kg") + pick.quantity_kg, updated_at=timezone.now()
        )


def _refund(*, order: DeliveryOrder, by: User, reason: str) -> None:
    """The payment's legs reversed: the shop's sales pay the wallet back."""
    if order.payment_entry is None:
        return
    refund_shop_order(
        order_id=order.pk,
        consumer=order.consumer,
        total=order.total.amount,
        payment=order.payment_entry,
        by=by,
        memo=reason or order.number,
    )


def _withdraw_from_task(*, order: DeliveryOrder) -> None:
    if order.task_id is None:
        return
    dispatch.order_cancelled(order)
