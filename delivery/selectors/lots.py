"""A harvest lot at the front warehouses: its stock (with where each receipt came from) and
the consumer orders picked from it. Traceability follows a lot to the doorstep through these;
a consumer is never named here, only her order."""

from django.db.models import Prefetch, QuerySet

from ..models import DeliveryOrderPick, StockLot, StockReceipt


def stock_of_lot(lot_id: int) -> QuerySet[StockLot]:
    """Every warehouse's stock of the lot, by arrival, with its receipts (each naming the
    marketplace order line or the market trade it came from)."""
    return (
        StockLot.objects.filter(lot_id=lot_id)
        .select_related("warehouse__site", "product")
        .prefetch_related(
            Prefetch("receipts", queryset=StockReceipt.objects.order_by("received_at", "pk"))
        )
        .order_by("received_at", "pk")
    )


def picks_of_lot(lot_id: int) -> QuerySet[DeliveryOrderPick]:
    """Every consumer order line's pick from the lot's stock, by the order's time."""
    return (
        DeliveryOrderPick.objects.filter(stock_lot__lot_id=lot_id)
        .select_related("line__order__warehouse", "stock_lot")
        .order_by("line__order__placed_at", "pk")
    )


def picks_of_order(order_id: int) -> QuerySet[DeliveryOrderPick]:
    """Which stock lots (and so which harvest lots) a consumer order's lines were picked from."""
    return (
        DeliveryOrderPick.objects.filter(line__order_id=order_id)
        .select_related(
            "line__product",
            "stock_lot__warehouse__site",
            "stock_lot__lot__product",
            "stock_lot__lot__farm__cooperative",
        )
        .prefetch_related("stock_lot__receipts")
        .order_by("line_id", "pk")
    )


def stock_lot_with_lot(stock_lot_id: int) -> StockLot | None:
    """One stock lot with its harvest lot, product and warehouse (for its packing label)."""
    return (
        StockLot.objects.select_related(
            "warehouse", "product", "lot__product", "lot__farm__cooperative"
        )
        .filter(pk=stock_lot_id)
        .first()
    )
