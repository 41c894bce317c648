"""Front warehouses' risks: stock that will expire before it sells at the current rate, and
an on-time rate below target over the last period."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from delivery.models import DeliveryOrder, DeliveryOrderStatus, FrontWarehouse
from delivery.selectors.replenishment import daily_sales_kg, stock_lots_by_product
from farms.models import Product

from . import Finding

KG = Decimal("0.001")
DAY = timedelta(days=1)


def _warehouses(rule):
    warehouses = FrontWarehouse.objects.filter(is_active=True).order_by("pk")
    if rule.warehouse_id is not None:
        warehouses = warehouses.filter(pk=rule.warehouse_id)
    return warehouses


# --- Stock that will expire unsold -----------------------------------------------------------


def unsold_kg(
    lots: list[tuple[datetime, Decimal]], *, kg_per_day: Decimal, now: datetime
) -> Decimal:
    """What of `lots` ((expiry, kg), earliest first) is left when each expires, if sales go
    on at `kg_per_day` and pick first-expired-first-out (as the warehouse does)."""
    sold_so_far = Decimal("0")
    left = Decimal("0")
    for expires_at, quantity_kg in lots:
        days = max((expires_at - now) / DAY, 0.0)
        can_sell = max(kg_per_day * Decimal(str(days)) - sold_so_far, Decimal("0"))
        sold = min(quantity_kg, can_sell)
        sold_so_far += sold
        left += quantity_kg - sold
    return left


def evaluate_unsold_stock(rule, *, now: datetime) -> list[Finding]:
    """Each (warehouse, product) where at least `min_unsold_kg` will expire on the shelf at
    the rate of the last `sales_days` days of orders."""
    sales_days = int(rule.threshold("sales_days"))
    least = Decimal(str(rule.threshold("min_unsold_kg")))
    found = []
    for warehouse in _warehouses(rule):
        sales = daily_sales_kg(warehouse=warehouse, since=now - sales_days * DAY, until=now)
        for product_id, lots in stock_lots_by_product(warehouse).items():
            sold_kg = sum(sales.get(product_id, {}).values(), Decimal("0"))
            kg_per_day = sold_kg / sales_days
            left = unsold_kg(lots, kg_per_day=kg_per_day, now=now).quantize(KG)
            if left < least:
                continue
            found.append(
                Finding(
                    subject=warehouse,
                    key=f"unsold:{warehouse.pk}:{product_id}",
                    figures={
                        "warehouse_id": warehouse.pk,
                        "warehouse": warehouse.name,
                        "product_id": product_id,
                        "stock_kg": str(sum((kg for _at, kg in lots), Decimal("0"))),
                        "unsold_kg": str(left),
                        "kg_per_day": str(kg_per_day.quantize(KG)),
                        "sales_days": sales_days,
                        "first_expiry_at": lots[0][0].isoformat(),
                    },
                )
            )
    names = dict(
        Product.objects.filter(pk__in={f.figures["product_id"] for f in found}).values_list(
            "pk", "name_zh"
        )
    )
    for finding in found:
        finding.figures["product"] = names[finding.figures["product_id"]]
    return found


def describe_unsold_stock(figures: dict) -> str:
    return _(
        "%(warehouse)s: %(unsold)s kg of %(product)s will expire unsold at the current rate "
        "of %(rate)s kg a day (%(stock)s kg in stock)."
    ) % {
        "warehouse": figures["warehouse"],
        "unsold": figures["unsold_kg"],
        "product": figures["product"],
        "rate": figures["kg_per_day"],
        "stock": figures["stock_kg"],
    }


# --- On-time rate ----------------------------------------------------------------------------


def evaluate_on_time(rule, *, now: datetime) -> list[Finding]:
    """Each warehouse whose orders due in the last `window_minutes` (promised by then, not
    cancelled; at least `min_orders` of them) were delivered by their promise less often than
    `target_pct` %. An order due and not yet delivered counts as late."""
    window = timedelta(minutes=rule.threshold("window_minutes"))
    target = rule.threshold("target_pct")
    least = int(rule.threshold("min_orders"))
    found = []
    for warehouse in _warehouses(rule):
        due = (
            DeliveryOrder.objects.filter(
                warehouse=warehouse, promised_by__gt=now - window, promised_by__lte=now
            )
            .exclude(status=DeliveryOrderStatus.CANCELLED)
            .values_list("delivered_at", "promised_by")
        )
        rows = list(due)
        if len(rows) < least:
            continue
        on_time = sum(
            1 for delivered_at, promised in rows if delivered_at and delivered_at <= promised
        )
        rate = 100 * on_time / len(rows)
        if rate >= target:
            continue
        found.append(
            Finding(
                subject=warehouse,
                key=f"on_time:{warehouse.pk}",
                figures={
                    "warehouse_id": warehouse.pk,
                    "warehouse": warehouse.name,
                    "due": len(rows),
                    "on_time": on_time,
                    "rate_pct": round(rate, 1),
                    "target_pct": target,
                    "window_minutes": int(window / timedelta(minutes=1)),
                },
            )
        )
    return found


def describe_on_time(figures: dict) -> str:
    return _(
        "%(warehouse)s delivered %(on_time)s of %(due)s orders on time in the last %(minutes)s "
        "minutes (%(rate)s %%, target %(target)s %%)."
    ) % {
        "warehouse": figures["warehouse"],
        "on_time": figures["on_time"],
        "due": figures["due"],
        "minutes": figures["window_minutes"],
        "rate": figures["rate_pct"],
        "target": figures["target_pct"],
    }
