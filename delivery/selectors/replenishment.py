"""Reads of replenishment: the sales history a forecast starts from, what is on the shelves and
on its way, the marketplace listings to buy from, and who may see which plan.

Visibility: a warehouse manager sees the plans of the warehouse she works at; a platform admin
sees every plan. Anyone else sees none, and a plan out of reach is simply not found.
"""

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.permissions import is_admin
from common.dates import BUSINESS_TIME_ZONE
from marketplace.choices import ListingStatus, OrderStatus
from marketplace.models import Listing, OrderLine

from .. import forecast
from ..models import (
    DeliveryOrderLine,
    DeliveryOrderStatus,
    FrontWarehouse,
    ReplenishmentLine,
    ReplenishmentPlan,
    ReplenishmentStatus,
    ShopPrice,
    StockLot,
    WarehouseStaff,
)

# Marketplace orders whose goods are on their way or at the door: from placed to completed,
# until a receipt puts them on the shelves. Rejected, cancelled and expired ones bring nothing.
INBOUND_ORDER_STATUSES = (
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.READY,
    OrderStatus.AWAITING_BUYER,
    OrderStatus.HANDED_OVER,
    OrderStatus.COMPLETED,
)

# How each forecast came about, in the manager's words.
METHOD_LABELS = {
    forecast.HOLT_WINTERS: _("Weekly pattern (Holt-Winters)"),
    forecast.HOLT_WINTERS_DAMPED: _("Weekly pattern and trend (Holt-Winters)"),
    forecast.RECENT_AVERAGE: _("Average of recent days"),
    forecast.LAST_WEEK: _("Same day last week"),
    forecast.NO_SALES: _("No sales yet"),
}


def method_label(method: str) -> str:
    return str(METHOD_LABELS.get(method, method))


# --- Who sees what ----------------------------------------------------------------------------


def managed_warehouse(user) -> FrontWarehouse | None:
    """The warehouse a warehouse manager works at; None for anyone else (admins included)."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    if user.role != Role.WAREHOUSE_MANAGER:
        return None
    post = WarehouseStaff.objects.filter(user=user).select_related("warehouse").first()
    return post.warehouse if post is not None else None


def manages(user, warehouse_id: int) -> bool:
    """True for a manager of this very warehouse (only she adjusts and approves its plans)."""
    warehouse = managed_warehouse(user)
    return warehouse is not None and warehouse.pk == warehouse_id


def plans_visible_to(user) -> QuerySet[ReplenishmentPlan]:
    """Plans this user may see, the latest day first, with their lines, products, listings,
    sellers and marketplace orders loaded."""
    plans = (
        ReplenishmentPlan.objects.select_related("warehouse", "approved_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ReplenishmentLine.objects.select_related(
                    "product", "listing__seller", "marketplace_order"
                ).order_by("product__name_zh", "product_id"),
            )
        )
        .order_by("-for_date", "-pk")
    )
    if is_admin(user):
        return plans
    warehouse = managed_warehouse(user)
    if warehouse is None:
        return plans.none()
    return plans.filter(warehouse=warehouse)


def lines_visible_to(user) -> QuerySet[ReplenishmentLine]:
    lines = ReplenishmentLine.objects.select_related("plan", "product", "listing__seller")
    if is_admin(user):
        return lines
    warehouse = managed_warehouse(user)
    if warehouse is None:
        return lines.none()
    return lines.filter(plan__warehouse=warehouse)


def visible_warehouses(user) -> QuerySet[FrontWarehouse]:
    """The warehouses whose plans the user may pick from (an admin: all of them)."""
    if is_admin(user):
        return FrontWarehouse.objects.order_by("name", "pk")
    warehouse = managed_warehouse(user)
    if warehouse is None:
        return FrontWarehouse.objects.none()
    return FrontWarehouse.objects.filter(pk=warehouse.pk)


# --- What a suggestion is made of -------------------------------------------------------------


def business_day_start(day: date) -> datetime:
    """Midnight at the start of an Asia/Shanghai day, as an aware moment."""
    return datetime.combine(day, time.min, tzinfo=BUSINESS_TIME_ZONE)


def daily_sales_kg(
    *, warehouse: FrontWarehouse, since: datetime, until: datetime
) -> dict[int, dict[date, Decimal]]:
    """Kilograms ordered from the warehouse per product and Asia/Shanghai day, for orders
    placed in [since, until). Every order counts but a cancelled one: a placed order is demand
    whether or not it has been delivered yet."""
    rows = (
        DeliveryOrderLine.objects.filter(
            order__warehouse=warehouse,
            order__placed_at__gte=since,
            order__placed_at__lt=until,
        )
        .exclude(order__status=DeliveryOrderStatus.CANCELLED)
        .annotate(day=TruncDate("order__placed_at", tzinfo=BUSINESS_TIME_ZONE))
        .values("product_id", "day")
        .annotate(kg=Sum("quantity_kg"))
        .order_by()
    )
    sales: dict[int, dict[date, Decimal]] = defaultdict(dict)
    for row in rows:
        sales[row["product_id"]][row["day"]] = row["kg"]
    return dict(sales)


def stock_lots_by_product(
    warehouse: FrontWarehouse,
) -> dict[int, list[tuple[datetime, Decimal]]]:
    """(expected expiry, kg) of the warehouse's lots with stock, earliest expiry first."""
    lots: dict[int, list[tuple[datetime, Decimal]]] = defaultdict(list)
    rows = (
        StockLot.objects.filter(warehouse=warehouse, quantity_kg__gt=0)
        .order_by("expires_at", "pk")
        .values_list("product_id", "expires_at", "quantity_kg")
    )
    for product_id, expires_at, quantity_kg in rows:
        lots[product_id].append((expires_at, quantity_kg))
    return dict(lots)


def inbound_kg_by_product(
    *, warehouse: FrontWarehouse, arriving_before: date, arriving_from: date
) -> dict[int, Decimal]:
    """Kilograms bought by the warehouse's approved plans for days in [arriving_from,
    arriving_before) whose marketplace orders are still on their way: neither received into
    stock nor rejected, cancelled or expired. They will be on the shelves before the day the
    next plan is for, so a new plan must not buy them again."""
    order_ids = ReplenishmentLine.objects.filter(
        plan__warehouse=warehouse,
        plan__status=ReplenishmentStatus.APPROVED,
        plan__for_date__gte=arriving_from,
        plan__for_date__lt=arriving_before,
        marketplace_order__isnull=False,
    ).values("marketplace_order_id")
    rows = (
        OrderLine.objects.filter(
            order_id__in=order_ids,
            order__status__in=INBOUND_ORDER_STATUSES,
            warehouse_receipt__isnull=True,
        )
        .values("listing__product_id")
        .annotate(kg=Sum("quantity_kg"))
        .order_by()
    )
    return {row["listing__product_id"]: row["kg"] for row in rows}


def products_to_plan(
    *, warehouse: FrontWarehouse, sold_product_ids, stocked_product_ids
) -> list[int]:
    """Products listed in the warehouse's shop, or on its shelves, or sold lately; a product
    the manager took out of the shop (listed no more) is not bought again."""
    prices = dict(
        ShopPrice.objects.filter(warehouse=warehouse).values_list("product_id", "is_listed")
    )
    listed = {product_id for product_id, is_listed in prices.items() if is_listed}
    delisted = set(prices) - listed
    return sorted((listed | set(sold_product_ids) | set(stocked_product_ids)) - delisted)


def cheapest_listing(
    *, product_id: int, quantity_kg: Decimal, now: datetime, buyer=None
) -> Listing | None:
    """The marketplace listing to buy `quantity_kg` of a product from: on sale now, with that
    much left and a minimum order no larger, at the lowest price per kg (the fresher harvest,
    then the older listing, on a tie). Never the buyer's own."""
    listings = Listing.objects.filter(
        product_id=product_id,
        status=ListingStatus.ACTIVE,
        available_from__lte=now,
        available_until__gt=now,
        available_kg__gte=quantity_kg,
        minimum_order_kg__lte=quantity_kg,
    ).select_related("seller")
    if buyer is not None:
        listings = listings.exclude(seller=buyer)
    return listings.order_by("price_per_kg", "-harvest_date", "pk").first()


def listing_can_supply(listing: Listing | None, *, quantity_kg: Decimal, now: datetime) -> bool:
    """The listing could take an order of `quantity_kg` now (the order re-checks atomically)."""
    return bool(
        listing is not None
        and listing.status == ListingStatus.ACTIVE
        and listing.available_from <= now < listing.available_until
        and listing.minimum_order_kg <= quantity_kg <= listing.available_kg
    )
