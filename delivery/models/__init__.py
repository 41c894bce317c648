"""Delivery's tables, one module per part of the business: front warehouses, their stock,
consumer orders, couriers with their tasks and offers, replenishment. Django finds the models
through this package; the rest of the code imports them from here."""

from .couriers import (
    ACTIVE_TASK_STATUSES,
    OFFER_MOVES,
    TASK_MOVES,
    Courier,
    CourierInvitation,
    CourierInvitationStatus,
    CourierStatus,
    DeliveryTask,
    DeliveryTaskEvent,
    DeliveryTaskStatus,
    OfferStatus,
    TaskOffer,
    TaskOfferEvent,
    VehicleType,
)
from .orders import (
    OPEN_ORDER_STATUSES,
    ORDER_MOVES,
    DeliveryOrder,
    DeliveryOrderEvent,
    DeliveryOrderLine,
    DeliveryOrderPick,
    DeliveryOrderStatus,
)
from .replenishment import ReplenishmentLine, ReplenishmentPlan, ReplenishmentStatus
from .stock import (
    ShopPrice,
    StockCount,
    StockLot,
    StockReceipt,
    StockWriteOff,
    WriteOffReason,
)
from .warehouses import FrontWarehouse, WarehouseStaff

__all__ = [
    "ACTIVE_TASK_STATUSES",
    "OFFER_MOVES",
    "OPEN_ORDER_STATUSES",
    "ORDER_MOVES",
    "TASK_MOVES",
    "Courier",
    "CourierInvitation",
    "CourierInvitationStatus",
    "CourierStatus",
    "DeliveryOrder",
    "DeliveryOrderEvent",
    "DeliveryOrderLine",
    "DeliveryOrderPick",
    "DeliveryOrderStatus",
    "DeliveryTask",
    "DeliveryTaskEvent",
    "DeliveryTaskStatus",
    "FrontWarehouse",
    "OfferStatus",
    "ReplenishmentLine",
    "ReplenishmentPlan",
    "ReplenishmentStatus",
    "ShopPrice",
    "StockCount",
    "StockLot",
    "StockReceipt",
    "StockWriteOff",
    "TaskOffer",
    "TaskOfferEvent",
    "VehicleType",
    "WarehouseStaff",
    "WriteOffReason",
]
