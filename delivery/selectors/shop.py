"""Reads of the consumer's shop: which warehouse serves a home, what it sells now, whose
orders a user may see, and an order's status with the courier's position.

Visibility: a consumer sees her own orders, a warehouse's staff that warehouse's, a platform
admin all; anyone else none (an order out of sight is not found at every door).
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Max, Min, Q, QuerySet, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from djmoney.money import Money

from accounts.models import User
from accounts.permissions import is_admin
from common.dates import BUSINESS_TIME_ZONE
from common.geo import metres_between
from farms.selectors import held_everywhere

from .. import routing
from ..exceptions import DeliveryError
from ..models import (
    DeliveryOrder,
    DeliveryOrderStatus,
    FrontWarehouse,
    ShopPrice,
    StockLot,
    WarehouseStaff,
)
from ..rules import DispatchRules, current_rules
from . import couriers as courier_selectors
from .zones import warehouse_serving

DAY_SECONDS = 86_400
TENTHS = Decimal("0.1")
# The statuses in which a courier has the order (coming to fetch it, or carrying it).
COURIER_STATUSES = (DeliveryOrderStatus.ASSIGNED, DeliveryOrderStatus.PICKED_UP)


def product_name(product) -> str:
    """The product's name in the reader's language."""
    language = translation.get_language() or ""
    return product.name_zh if language.startswith("zh") else product.name_en


# --- Where a home is served ----------------------------------------------------------------


def clean_location(longitude, latitude) -> tuple[float, float]:
    """WGS 84 degrees (GCJ-02 from a Chinese map service must be converted before it
    reaches here); DeliveryError on field "location" when missing or out of range."""
    try:
        point = (float(longitude), float(latitude))
    except (TypeError, ValueError):
        point = None
    if (
        point is None
        or not all(math.isfinite(value) for value in point)
        or not -180 <= point[0] <= 180
        or not -90 <= point[1] <= 90
    ):
        raise DeliveryError(
            _("Give your location: a longitude from -180 to 180 and a latitude from -90 to 90."),
            field="location",
        )
    return point


def serving_warehouse(*, longitude, latitude) -> FrontWarehouse:
    """The warehouse whose zone holds the home; outside every zone a refusal on "location"
    (the shop then takes no order)."""
    longitude, latitude = clean_location(longitude, latitude)
    warehouse = warehouse_serving(longitude=longitude, latitude=latitude)
    if warehouse is None:
        raise DeliveryError(
            _(
                "We do not deliver to this location yet: it is outside the delivery zone of "
                "every front warehouse."
            ),
            field="location",
        )
    return warehouse


def local_time(moment: datetime):
    return timezone.localtime(moment, BUSINESS_TIME_ZONE).time()


def is_open_now(warehouse: FrontWarehouse, now: datetime | None = None) -> bool:
    """Opening hours are Asia/Shanghai wall-clock times."""
    return warehouse.is_open_at(local_time(now or timezone.now()))


def service_areas() -> list[dict]:
    """Every active warehouse's zone, for the shop's map (GeoJSON geometry, WGS 84)."""
    return [
        {
            "name": warehouse.name,
            "promised_minutes": warehouse.promised_minutes,
            "zone": json.loads(warehouse.delivery_zone.json),
        }
        for warehouse in FrontWarehouse.objects.filter(is_active=True).order_by("pk")
    ]


# --- What the warehouse sells ---------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueItem:
    """A listed product with stock: the consumer orders it by the kilogram."""

    product_id: int
    name: str
    name_zh: str
    name_en: str
    price_per_kg: Money
    available_kg: Decimal
    # Picking is first-expired-first-out: the earliest expiry is what a new order gets.
    earliest_expiry: datetime
    freshest_expiry: datetime
    shelf_life_days: Decimal  # days left until the earliest expiry (0 when past it)


def catalogue(warehouse: FrontWarehouse, *, now: datetime | None = None) -> list[CatalogueItem]:
    """The warehouse's listed products that have stock, by name: price per kg, available kg
    and remaining shelf life (stock of lots held everywhere left out, as picking leaves it). Two queries, whatever the number of products."""
    now = now or timezone.now()
    prices = {
        price.product_id: price
        for price in ShopPrice.objects.filter(warehouse=warehouse, is_listed=True).select_related(
            "product"
        )
    }
    if not prices:
        return []
    stock = (
        StockLot.objects.filter(warehouse=warehouse, product_id__in=prices, quantity_kg__gt=0)
        .exclude(held_everywhere())  # a recalled lot's stock is not for sale
        .values("product_id")
        .annotate(
            available_kg=Sum("quantity_kg"),
            earliest_expiry=Min("expires_at"),
            freshest_expiry=Max("expires_at"),
        )
    )
    items = []
    for row in stock:
        price = prices[row["product_id"]]
        left_seconds = max((row["earliest_expiry"] - now).total_seconds(), 0)
        items.append(
            CatalogueItem(
                product_id=price.product_id,
                name=product_name(price.product),
                name_zh=price.product.name_zh,
                name_en=price.product.name_en,
                price_per_kg=price.price_per_kg,
                available_kg=row["available_kg"],
                earliest_expiry=row["earliest_expiry"],
                freshest_expiry=row["freshest_expiry"],
                shelf_life_days=(Decimal(left_seconds) / DAY_SECONDS).quantize(TENTHS),
            )
        )
    return sorted(items, key=lambda item: (item.name, item.product_id))


# --- Whose orders -------------------------------------------------------------------------


def staff_warehouse_id(user: User) -> int | None:
    """The warehouse the user works at, if she is its staff."""
    if not user.is_authenticated:
        return None
    return WarehouseStaff.objects.filter(user=user).values_list("warehouse_id", flat=True).first()


def orders_visible_to(user: User) -> QuerySet[DeliveryOrder]:
    """A consumer's own orders, her warehouse's for a warehouse's staff, all for an admin;
    newest first, with what the list and the status page show loaded."""
    orders = DeliveryOrder.objects.select_related(
        "warehouse__site", "consumer", "task__courier__user"
    ).order_by("-placed_at", "-pk")
    if not (user and user.is_authenticated and user.is_active):
        return orders.none()
    if is_admin(user):
        return orders
    seen = Q(consumer=user)
    if (warehouse_id := staff_warehouse_id(user)) is not None:
        seen |= Q(warehouse_id=warehouse_id)
    return orders.filter(seen)


def proof_photos_visible_to(user: User) -> QuerySet[DeliveryOrder]:
    """Delivered orders whose photo at the door the user may see: an order she may see (her
    own, her warehouse's, any for an admin) or, for a courier, one of his tasks'."""
    orders = orders_visible_to(user)
    courier = courier_selectors.courier_of(user)
    if courier is not None:
        orders = orders | courier_selectors.courier_orders(courier)
    return orders.exclude(proof_photo="")


def may_cancel(user: User, order: DeliveryOrder) -> bool:
    """The order's consumer, its warehouse's staff or an admin, in a state that allows it
    (the service checks it again under lock)."""
    if order.status not in (DeliveryOrderStatus.PLACED, DeliveryOrderStatus.PACKED):
        return False
    if order.task is not None and order.task.courier_id is not None:
        return False
    return (
        order.consumer_id == user.pk
        or is_admin(user)
        or staff_warehouse_id(user) == order.warehouse_id
    )


# --- An order's status --------------------------------------------------------------------


def _steps(order: DeliveryOrder) -> list[dict]:
    """The order's way from placed to delivered (or cancelled), each with its time if
    reached. A courier asked while the order was being packed comes before its packing."""
    packed = ("packed", _("Packed at the warehouse"), order.packed_at)
    assigned = ("assigned", _("A courier is on the way to the warehouse"), order.assigned_at)
    courier_first = order.assigned_at is not None and (
        order.packed_at is None or order.assigned_at < order.packed_at
    )
    steps = [
        ("placed", _("Placed and paid"), order.placed_at),
        *((assigned, packed) if courier_first else (packed, assigned)),
        ("picked_up", _("On its way to you"), order.picked_up_at),
        ("delivered", _("Delivered"), order.delivered_at),
    ]
    if order.status == DeliveryOrderStatus.CANCELLED:
        steps = [step for step in steps if step[2] is not None]
        steps.append(("cancelled", _("Cancelled and refunded"), order.cancelled_at))
    return [
        {"step": step, "label": label, "at": at, "done": at is not None}
        for step, label, at in steps
    ]


def is_late(order: DeliveryOrder, now: datetime | None = None) -> bool:
    """Delivered after its promise, or still open past it."""
    if order.status == DeliveryOrderStatus.CANCELLED:
        return False
    finished = order.delivered_at or now or timezone.now()
    return finished > order.promised_by


def courier_of(order: DeliveryOrder) -> dict | None:
    """Who brings the order and where he is, while he has it (assigned or picked up)."""
    if order.status not in COURIER_STATUSES or order.task is None:
        return None
    courier = order.task.courier
    if courier is None:
        return None
    position = courier.position
    return {
        "name": str(courier.user),
        "longitude": position.x if position is not None else None,
        "latitude": position.y if position is not None else None,
        "at": courier.position_at,
    }


def expected_at(
    order: DeliveryOrder, *, now: datetime | None = None, rules: DispatchRules | None = None
) -> datetime | None:
    """When the order should reach its door, for the consumer; None once delivered or
    cancelled. The promise (`promised_by`: placed_at + the warehouse's promised minutes) is
    commercial and stays as sold; this is the honest estimate beside it, by the same travel
    model as dispatch and the warehouse page for this warehouse at this hour (its couriers'
    learned speed, `rules.current_rules`; pass `rules` when the caller has them already):
    packing until DELIVERY_PACKING_MINUTES after placing (or now, once that has passed), a
    courier not yet chosen DELIVERY_PICKUP_MINUTES away and a chosen one's ride from where he
    is, loading, then the ride to the door (from the courier once picked up). Straight to
    this door: a batch's earlier doors are not counted, as the warehouse page does not count
    them either."""
    if order.status in (DeliveryOrderStatus.DELIVERED, DeliveryOrderStatus.CANCELLED):
        return None
    now = now or timezone.now()
    rules = rules or current_rules(warehouse=order.warehouse, at=now)
    warehouse = order.warehouse.site.location
    courier = order.task.courier if order.task_id and order.task else None
    position = courier.position if courier is not None else None
    start, leaves = (warehouse.x, warehouse.y), now
    if order.status == DeliveryOrderStatus.PLACED:
        packing = getattr(settings, "DELIVERY_PACKING_MINUTES", 6)
        leaves = max(now, order.placed_at + timedelta(minutes=packing))
    if order.status in (DeliveryOrderStatus.PLACED, DeliveryOrderStatus.PACKED):
        leaves += timedelta(minutes=rules.pickup_minutes)
    elif order.status == DeliveryOrderStatus.ASSIGNED:
        reach = rules.pickup_minutes
        if position is not None:
            reach = rules.travel_minutes(metres_between((position.x, position.y), start))
        leaves += timedelta(minutes=reach)
    elif position is not None:  # picked up: he rides from where he is
        start = (position.x, position.y)
    door = (order.location.x, order.location.y)
    at_warehouse = order.status != DeliveryOrderStatus.PICKED_UP
    ride = routing.minutes_to_door(start, door, rules=rules, at_warehouse=at_warehouse)
    return leaves + timedelta(minutes=ride)


def order_status(
    order: DeliveryOrder, *, now: datetime | None = None, rules: DispatchRules | None = None
) -> dict:
    """What the status page and the API show of an order the caller may see (fetch it with
    `orders_visible_to`): its status, the steps with their times, the promise and the
    expected arrival (`expected_at`), whether it is late, and the courier's name and position while he has it. The delivery code is not
    in it: the doors show it to the order's consumer only."""
    return {
        "status": order.status,
        "status_label": order.get_status_display(),
        "steps": _steps(order),
        "placed_at": order.placed_at,
        "promised_by": order.promised_by,
        "expected_at": expected_at(order, now=now, rules=rules),
        "is_late": is_late(order, now),
        "courier": courier_of(order),
        "warehouse": {
            "id": order.warehouse_id,
            "name": order.warehouse.name,
            "longitude": order.warehouse.site.location.x,
            "latitude": order.warehouse.site.location.y,
        },
        "home": {
            "address": order.address,
            "longitude": order.location.x,
            "latitude": order.location.y,
        },
    }
