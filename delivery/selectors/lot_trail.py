"""Where a harvest lot went through the front warehouses: their stock of it, what each stock
lot was received from, and the consumer order lines picked from it, read as plain rows for
traceability's trail. Consumers are named by id only (never by name or address)."""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Sum

from common.moments import EpochMicroseconds, moment_from_epoch_us

from ..models import (
    DeliveryOrderPick,
    DeliveryOrderStatus,
    FrontWarehouse,
    StockLot,
    StockReceipt,
    WarehouseStaff,
)


def stock_lots_of_lot(lot_id: int) -> list[tuple]:
    """(id, received_at, kilograms received (the receipts' sum, else the stock's quantity),
    kilograms left, warehouse id, warehouse name, warehouse code) of every warehouse's stock
    of the lot, oldest first."""
    rows = (
        StockLot.objects.filter(lot_id=lot_id)
        .annotate(received_kg=Sum("receipts__quantity_kg"))
        .order_by("received_at", "id")
        .values_list(
            "id",
            "received_at",
            "received_kg",
            "quantity_kg",
            "warehouse_id",
            "warehouse__name",
            "warehouse__code",
        )
    )
    return [
        (id_, at, received if received is not None else left, left, *rest)
        for id_, at, received, left, *rest in rows
    ]


def stock_receipt_sources_of_lot(lot_id: int) -> list[tuple]:
    """(stock lot id, marketplace order line id or None, trade id or None) of every receipt
    into a stock lot of the lot, oldest first."""
    return list(
        StockReceipt.objects.filter(stock_lot__lot_id=lot_id)
        .order_by("received_at", "id")
        .values_list("stock_lot_id", "order_line_id", "trade_id")
    )


def staff_user_ids_of_warehouses(warehouse_ids: Iterable[int]) -> dict[int, tuple[int, ...]]:
    """The active managers of each warehouse, by warehouse id."""
    staff: defaultdict[int, list[int]] = defaultdict(list)
    rows = WarehouseStaff.objects.filter(warehouse_id__in=set(warehouse_ids), user__is_active=True)
    for warehouse_id, user_id in rows.order_by("user_id").values_list("warehouse_id", "user_id"):
        staff[warehouse_id].append(user_id)
    return {warehouse_id: tuple(users) for warehouse_id, users in staff.items()}


def consumer_picks_of_lot(lot_id: int) -> list[tuple]:
    """(order line id, order placed at, kilograms picked, order status, stock lot id, order
    number, consumer id) of every pick from a stock lot of the lot for an order that was not
    cancelled, oldest first. A line takes from each stock lot once (first-expired-first-out
    picks each row once), so a pick is a line's share of the lot at that warehouse."""
    rows = (
        DeliveryOrderPick.objects.filter(stock_lot__lot_id=lot_id)
        .exclude(line__order__status=DeliveryOrderStatus.CANCELLED)
        .order_by("line__order__placed_at", "line_id")
        .values_list(
            "line_id",
            EpochMicroseconds("line__order__placed_at"),  # tens of thousands: see common.moments
            "quantity_kg",
            "line__order__status",
            "stock_lot_id",
            "line__order__number",
            "line__order__consumer_id",
        )
    )
    return [
        (line_id, moment_from_epoch_us(placed), kg, status, stock_id, number, consumer)
        for line_id, placed, kg, status, stock_id, number, consumer in rows
    ]


def warehouses_by_id(warehouse_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(name, code) of each front warehouse, by warehouse id."""
    rows = FrontWarehouse.objects.filter(pk__in=set(warehouse_ids)).values_list(
        "pk", "name", "code"
    )
    return {pk: (name, code) for pk, name, code in rows}
