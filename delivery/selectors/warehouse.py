"""Reads of the warehouse manager's screens: stock with its remaining shelf life, the loss
rate, open orders and their risk of being late, tasks no courier took, today's on-time rate.

Visibility: a warehouse manager sees the one warehouse she works at (`warehouse_of`), its
stock, orders and tasks, and the marketplace order lines and market trades bought for it (by
any of its staff); a platform admin may pick any warehouse. Anyone else sees none, and an
object out of reach is simply not found.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.permissions import is_admin
from coldchain.selectors.shipments import lots_shipped_to
from common.dates import BUSINESS_TIME_ZONE
from farms.models import HarvestLot
from farms.selectors import everywhere_hold_reason
from marketplace.choices import OrderStatus
from marketplace.models import OrderLine, Trade

from .. import routing
from ..models import (
    OPEN_ORDER_STATUSES,
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    FrontWarehouse,
    StockLot,
    StockReceipt,
    StockWriteOff,
    WarehouseStaff,
    WriteOffReason,
)
from ..rules import DispatchRules, current_rules
from .history import HistoryStep, Reader, order_events_prefetch, order_history

# Shelf life shorter than this is flagged on the stock page: sell it or write it off today.
NEAR_EXPIRY = timedelta(hours=24)
# An order not yet on its way with less than this left is at risk, whatever the distance.
AT_RISK_MINUTES = 10
LOSS_RATE_DAYS = 7
# Marketplace orders whose goods have changed hands: their lines can be received.
RECEIVABLE_ORDER_STATUSES = (OrderStatus.HANDED_OVER, OrderStatus.COMPLETED)


# --- Who works where ------------------------------------------------------------------------


def warehouse_of(user, *, warehouse_id=None) -> FrontWarehouse | None:
    """The warehouse this user runs: a manager's own (`warehouse_id` is ignored); for a
    platform admin the one asked for, else the first by name. None for anyone else, or a
    manager without a post."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    warehouses = FrontWarehouse.objects.select_related("site")
    if is_admin(user):
        if warehouse_id not in (None, ""):
            try:
                return warehouses.filter(pk=int(warehouse_id)).first()
            except (TypeError, ValueError):
                return None
        return warehouses.order_by("name", "pk").first()
    if user.role != Role.WAREHOUSE_MANAGER:
        return None
    post = WarehouseStaff.objects.filter(user=user).select_related("warehouse__site").first()
    return post.warehouse if post else None


def works_at(user, warehouse: FrontWarehouse) -> bool:
    """A member of the warehouse's staff, or a platform admin."""
    if is_admin(user):
        return True
    return bool(
        user
        and user.is_authenticated
        and WarehouseStaff.objects.filter(user=user, warehouse=warehouse).exists()
    )


def is_staff_member(user_id: int | None, warehouse: FrontWarehouse) -> bool:
    return (
        user_id is not None
        and WarehouseStaff.objects.filter(user_id=user_id, warehouse=warehouse).exists()
    )


def warehouses_for_choice(user) -> QuerySet[FrontWarehouse]:
    """The warehouses an admin may switch between (a manager: none to choose from)."""
    if not is_admin(user):
        return FrontWarehouse.objects.none()
    return FrontWarehouse.objects.order_by("name", "pk")


# --- What a warehouse may see ---------------------------------------------------------------


def stock_lots_of(warehouse: FrontWarehouse) -> QuerySet[StockLot]:
    return StockLot.objects.filter(warehouse=warehouse).select_related("lot", "product")


def orders_of(warehouse: FrontWarehouse) -> QuerySet[DeliveryOrder]:
    return DeliveryOrder.objects.filter(warehouse=warehouse)


def tasks_of(warehouse: FrontWarehouse) -> QuerySet[DeliveryTask]:
    return DeliveryTask.objects.filter(warehouse=warehouse)


def order_lines_bought_for(warehouse: FrontWarehouse) -> QuerySet[OrderLine]:
    """Marketplace order lines bought by the warehouse's staff (received or not)."""
    return OrderLine.objects.filter(
        order__buyer__in=WarehouseStaff.objects.filter(warehouse=warehouse).values("user")
    ).select_related("order", "order__seller", "listing", "listing__lot", "listing__product")


def trades_bought_for(warehouse: FrontWarehouse) -> QuerySet[Trade]:
    """Market trades whose buyer trader is one of the warehouse's staff (received or not)."""
    return Trade.objects.filter(
        buyer__user__in=WarehouseStaff.objects.filter(warehouse=warehouse).values("user")
    ).select_related("market", "seller", "buyer", "product", "lot")


def lots_receivable_at(warehouse: FrontWarehouse) -> QuerySet[HarvestLot]:
    """Lots the warehouse may receive without a source: those a cold-chain shipment brings to
    its site, those already in its stock, and those of the order lines and trades bought for
    it. Another lot is "not found, or not yours", like a code that does not exist."""
    return HarvestLot.objects.filter(
        Q(pk__in=lots_shipped_to(warehouse.site).values("pk"))
        | Q(pk__in=stock_lots_of(warehouse).values("lot"))
        | Q(pk__in=order_lines_bought_for(warehouse).values("listing__lot"))
        | Q(pk__in=trades_bought_for(warehouse).filter(lot__isnull=False).values("lot"))
    ).select_related("product")


def order_lines_to_receive(warehouse: FrontWarehouse) -> QuerySet[OrderLine]:
    """Lines of the staff's marketplace orders that were handed over and not yet received."""
    return (
        order_lines_bought_for(warehouse)
        .filter(order__status__in=RECEIVABLE_ORDER_STATUSES, warehouse_receipt__isnull=True)
        .order_by("order__updated_at", "pk")
    )


def trades_to_receive(warehouse: FrontWarehouse) -> QuerySet[Trade]:
    """The staff's market purchases of a known lot, not reversed and not yet received."""
    return (
        trades_bought_for(warehouse)
        .filter(lot__isnull=False, reversal__isnull=True, warehouse_receipt__isnull=True)
        .order_by("recorded_at", "pk")
    )


def receivable_kg(source: OrderLine | Trade) -> Decimal:
    """The most that may be received of an order line (packed, else ordered) or a trade."""
    if isinstance(source, Trade):
        return source.net_kg
    return source.packed_kg if source.packed_kg is not None else source.quantity_kg


# --- Stock and its shelf life ---------------------------------------------------------------


@dataclass(frozen=True)
class LotStock:
    stock_lot: StockLot
    quantity_kg: Decimal
    received_at: datetime
    expires_at: datetime
    remaining_hours: int  # whole hours left, 0 once past
    remaining_days: Decimal  # one decimal, 0 once past
    is_near_expiry: bool
    is_expired: bool
    held_reason: str | None = None  # the lot is held everywhere: blocked, never picked


@dataclass(frozen=True)
class ProductStock:
    product: object
    quantity_kg: Decimal
    lots: list[LotStock]

    @property
    def has_near_expiry(self) -> bool:
        return any(lot.is_near_expiry or lot.is_expired for lot in self.lots)


def lot_stock(stock_lot: StockLot, *, now: datetime) -> LotStock:
    left = stock_lot.expires_at - now
    seconds = max(left.total_seconds(), 0)
    return LotStock(
        stock_lot=stock_lot,
        quantity_kg=stock_lot.quantity_kg,
        received_at=stock_lot.received_at,
        expires_at=stock_lot.expires_at,
        remaining_hours=int(seconds // 3600),
        remaining_days=(Decimal(seconds) / Decimal(86400)).quantize(Decimal("0.1")),
        is_near_expiry=timedelta(0) < left <= NEAR_EXPIRY,
        is_expired=left <= timedelta(0),
        held_reason=getattr(stock_lot, "held_reason", None),
    )


def stock_view(warehouse: FrontWarehouse, now: datetime) -> list[ProductStock]:
    """The warehouse's stock by product (by Chinese name), each product's lots earliest
    expiry first, with the shelf life left at `now` and a held lot's reason; no empty lots."""
    rows = (
        stock_lots_of(warehouse)
        .filter(quantity_kg__gt=0)
        .annotate(held_reason=everywhere_hold_reason())
        .order_by("product__name_zh", "product_id", "expires_at", "pk")
    )
    products: dict[int, list[LotStock]] = {}
    names = {}
    for row in rows:
        products.setdefault(row.product_id, []).append(lot_stock(row, now=now))
        names[row.product_id] = row.product
    return [
        ProductStock(
            product=names[product_id],
            quantity_kg=sum((lot.quantity_kg for lot in lots), Decimal("0")),
            lots=lots,
        )
        for product_id, lots in products.items()
    ]


# --- Losses ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonLoss:
    reason: str
    label: str
    quantity_kg: Decimal
    rate: Decimal | None  # of the kilograms received

    @property
    def percent(self) -> Decimal | None:
        return _percent(self.rate)


@dataclass(frozen=True)
class LossRate:
    since: datetime
    until: datetime
    received_kg: Decimal
    written_off_kg: Decimal
    rate: Decimal | None  # written off ÷ received, 4 places; None when nothing was received
    by_reason: list[ReasonLoss]

    @property
    def percent(self) -> Decimal | None:
        return _percent(self.rate)


def _percent(rate: Decimal | None) -> Decimal | None:
    return None if rate is None else (rate * 100).quantize(Decimal("0.1"))


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / whole).quantize(Decimal("0.0001"))


def loss_rate(warehouse: FrontWarehouse, since: datetime, until: datetime) -> LossRate:
    """Kilograms written off in [since, until) over kilograms received (stock receipts) in
    the same period, overall and by reason (every reason listed, zero where none)."""
    received = StockReceipt.objects.filter(
        stock_lot__warehouse=warehouse, received_at__gte=since, received_at__lt=until
    ).aggregate(kg=Sum("quantity_kg"))["kg"] or Decimal("0")
    per_reason = dict(
        StockWriteOff.objects.filter(
            stock_lot__warehouse=warehouse, recorded_at__gte=since, recorded_at__lt=until
        )
        .values("reason")
        .annotate(kg=Sum("quantity_kg"))
        .values_list("reason", "kg")
    )
    written_off = sum(per_reason.values(), Decimal("0"))
    return LossRate(
        since=since,
        until=until,
        received_kg=received,
        written_off_kg=written_off,
        rate=_ratio(written_off, received),
        by_reason=[
            ReasonLoss(
                reason=reason.value,
                label=str(reason.label),
                quantity_kg=per_reason.get(reason.value, Decimal("0")),
                rate=_ratio(per_reason.get(reason.value, Decimal("0")), received),
            )
            for reason in WriteOffReason
        ],
    )


def recent_loss_rate(warehouse: FrontWarehouse, now: datetime) -> LossRate:
    """The last seven days up to now."""
    return loss_rate(warehouse, now - timedelta(days=LOSS_RATE_DAYS), now)


# --- Promises -------------------------------------------------------------------------------


class LateRisk:
    LATE = "late"
    AT_RISK = "at_risk"
    ON_TIME = "on_time"
    LABELS = {
        LATE: _("Late"),
        AT_RISK: _("At risk"),
        ON_TIME: _("On time"),
    }


@dataclass(frozen=True)
class OpenOrder:
    order: DeliveryOrder
    minutes_left: int  # to the promise, rounded down; negative once late
    # Estimated minutes to the door, rounded up: loading and the ride from the warehouse, or
    # the ride from the courier once picked up.
    travel_minutes: int
    risk: str
    history: tuple[HistoryStep, ...] = ()  # when read for a page that shows it

    @property
    def risk_label(self) -> str:
        return str(LateRisk.LABELS[self.risk])

    @property
    def minutes_late(self) -> int:
        return -self.minutes_left


def minutes_to_door(
    order: DeliveryOrder, warehouse: FrontWarehouse, *, rules: DispatchRules
) -> float:
    """What the order still needs to reach its door, by dispatch's travel model
    (`routing.minutes_to_door`): from the courier's last position once picked up, else
    loading at the warehouse and the ride from there."""
    start = warehouse.site.location
    courier = order.task.courier if order.task_id and order.task else None
    picked_up = order.status == DeliveryOrderStatus.PICKED_UP
    if picked_up and courier is not None and courier.position is not None:
        start = courier.position
    return routing.minutes_to_door(
        (start.x, start.y),
        (order.location.x, order.location.y),
        rules=rules,
        at_warehouse=not picked_up,
    )


def late_risk(*, status: str, minutes_left: float, travel: float) -> str:
    """Late once the promise has passed; at risk with under AT_RISK_MINUTES left and the
    order not yet on its way, or less time left than it needs to reach the door (`travel`,
    see `minutes_to_door`: the promise dispatch's route check says cannot be kept); otherwise
    on time."""
    if minutes_left < 0:
        return LateRisk.LATE
    not_on_its_way = status != DeliveryOrderStatus.PICKED_UP
    if (not_on_its_way and minutes_left < AT_RISK_MINUTES) or minutes_left < travel:
        return LateRisk.AT_RISK
    return LateRisk.ON_TIME


def _minutes_left(promised_by: datetime, now: datetime) -> int:
    # Rounded down: a promise passed by seconds is already -1 (late).
    return math.floor((promised_by - now).total_seconds() / 60)


def open_orders(
    warehouse: FrontWarehouse, now: datetime, *, reader: Reader | None = None
) -> list[OpenOrder]:
    """Orders placed, packed, assigned or picked up, the earliest promise first, each with
    the minutes left to its promise and its late risk (and its history, for a `reader`)."""
    orders = (
        orders_of(warehouse)
        .filter(status__in=OPEN_ORDER_STATUSES)
        .select_related("task__courier__user")
        .prefetch_related("lines__product")
        .order_by("promised_by", "pk")
    )
    if reader is not None:
        orders = orders.prefetch_related(order_events_prefetch())
    return [order_promise(order, warehouse, now, reader=reader) for order in orders]


def order_promise(
    order: DeliveryOrder, warehouse: FrontWarehouse, now: datetime, *, reader: Reader | None = None
) -> OpenOrder:
    """One order's minutes left, time to its door and late risk at `now`. The risk compares
    the exact figures (as dispatch does), the page shows them in whole minutes."""
    needed = minutes_to_door(order, warehouse, rules=current_rules(warehouse=warehouse, at=now))
    left = (order.promised_by - now).total_seconds() / 60
    return OpenOrder(
        order=order,
        minutes_left=_minutes_left(order.promised_by, now),
        travel_minutes=math.ceil(needed),
        risk=late_risk(status=order.status, minutes_left=left, travel=needed),
        history=tuple(order_history(order, reader=reader)) if reader is not None else (),
    )


def unassigned_tasks(warehouse: FrontWarehouse) -> list[DeliveryTask]:
    """Tasks no courier took (every candidate declined or none was near): the manager may
    dispatch them again. Oldest first."""
    return list(
        tasks_of(warehouse)
        .filter(status=DeliveryTaskStatus.UNASSIGNED)
        .prefetch_related(
            Prefetch("orders", queryset=DeliveryOrder.objects.order_by("promised_by", "pk"))
        )
        .order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class OnTimeRate:
    day: date
    delivered: int
    on_time: int

    @property
    def rate(self) -> Decimal | None:
        return _ratio(Decimal(self.on_time), Decimal(self.delivered))

    @property
    def percent(self) -> Decimal | None:
        return _percent(self.rate)


def business_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=BUSINESS_TIME_ZONE)
    return start, start + timedelta(days=1)


def on_time_rate(warehouse: FrontWarehouse, day: date) -> OnTimeRate:
    """Of the orders delivered on `day` (an Asia/Shanghai date), how many by their promise."""
    start, end = business_day_bounds(day)
    delivered = orders_of(warehouse).filter(
        status=DeliveryOrderStatus.DELIVERED, delivered_at__gte=start, delivered_at__lt=end
    )
    counts: defaultdict[str, int] = defaultdict(int)
    for delivered_at, promised_by in delivered.values_list("delivered_at", "promised_by"):
        counts["all"] += 1
        # Filtered on delivered_at, which a delivered order always has.
        counts["on_time"] += delivered_at is not None and delivered_at <= promised_by
    return OnTimeRate(day=day, delivered=counts["all"], on_time=counts["on_time"])


# --- The dashboard in one read --------------------------------------------------------------


@dataclass(frozen=True)
class WarehouseSummary:
    warehouse: FrontWarehouse
    now: datetime
    on_time: OnTimeRate
    losses: LossRate
    open_orders: list[OpenOrder]
    unassigned_tasks: list[DeliveryTask]

    @property
    def open_count(self) -> int:
        return len(self.open_orders)

    @property
    def late_count(self) -> int:
        return sum(1 for entry in self.open_orders if entry.risk == LateRisk.LATE)

    @property
    def at_risk_count(self) -> int:
        return sum(1 for entry in self.open_orders if entry.risk == LateRisk.AT_RISK)


def warehouse_summary(
    warehouse: FrontWarehouse, now: datetime, *, reader: Reader | None = None
) -> WarehouseSummary:
    """Today's on-time rate (Asia/Shanghai), the last seven days' loss rate, open orders
    with their late risk (and history, for a `reader`), and tasks waiting for a courier."""
    today = now.astimezone(BUSINESS_TIME_ZONE).date()
    return WarehouseSummary(
        warehouse=warehouse,
        now=now,
        on_time=on_time_rate(warehouse, today),
        losses=recent_loss_rate(warehouse, now),
        open_orders=open_orders(warehouse, now, reader=reader),
        unassigned_tasks=unassigned_tasks(warehouse),
    )
