"""Every write front warehouses allow, as plain functions, each one transaction."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from coldchain.shelf_life import assess_lot_condition, harvested_at
from farms.models import HarvestLot, Product

from ..exceptions import DeliveryError, InsufficientStock
from ..models import FrontWarehouse, StockLot, StockWriteOff, WriteOffReason

KG = Decimal("0.001")


def _clean_quantity(quantity_kg, field: str = "quantity_kg") -> Decimal:
    quantity = Decimal(quantity_kg).quantize(KG)
    if quantity <= 0:
        raise DeliveryError(_("Give a quantity above zero."), field=field)
    return quantity


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
    quantity = _clean_quantity(quantity_kg)
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


@transaction.atomic
def take_stock_fefo(*, warehouse: FrontWarehouse, product: Product, quantity_kg) -> list[Pick]:
    """Take `quantity_kg` of a product out of the warehouse's stock, the earliest-expiring
    lots first (first-expired-first-out); all or nothing.

    The product's stock rows are locked in that same order, so two orders taking the last
    kilograms queue on the first row and the second finds it empty: never oversold.
    """
    wanted = _clean_quantity(quantity_kg)
    rows = list(
        StockLot.objects.select_for_update()
        .filter(warehouse=warehouse, product=product, quantity_kg__gt=0)
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
    quantity = _clean_quantity(quantity_kg)
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
