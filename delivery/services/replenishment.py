"""Replenishment: each warehouse's suggested purchases for a day, the manager's adjustments,
and the approval that places marketplace orders with the sellers.

A plan is for the day its goods arrive (`for_date`, tomorrow with a one-day lead time); the
goods must last until the next delivery, `REVIEW_DAYS` later. For each product:

- cover period: from now to the end of the review period, i.e. the lead time (today, the day
  the order goes out, up to the day before `for_date`) plus the review period;
- forecast: expected demand over the cover (today counts only what is still to be sold);
- usable stock: the shelves' kilograms that are not expected to expire unsold, simulated
  first-expired-first-out against the forecast day by day, plus what earlier approved plans
  bought that is still on its way;
- safety stock: z × the forecast's one-day error × √(cover days);
- suggested: forecast + safety stock − usable stock, never below zero, rounded up to 0.5 kg.

Demand the shelves cannot meet before the goods arrive is counted as if it waited for them
(the textbook order-up-to level); with a one-day lead time that errs towards a full shelf.
"""

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from common.dates import business_date_of
from marketplace.exceptions import MarketplaceError
from marketplace.models import Order
from marketplace.services.orders import place_order
from settlement.exceptions import SettlementError

from ..exceptions import DeliveryError, PlanApproved, PlanNotYours
from ..forecast import forecast_daily_demand
from ..models import FrontWarehouse, ReplenishmentLine, ReplenishmentPlan, ReplenishmentStatus
from ..selectors.replenishment import (
    business_day_start,
    cheapest_listing,
    daily_sales_kg,
    inbound_kg_by_product,
    listing_can_supply,
    manages,
    products_to_plan,
    stock_lots_by_product,
)

logger = logging.getLogger(__name__)

KG = Decimal("0.001")
ZERO = Decimal("0.000")
HISTORY_DAYS = 8 * 7
# Sellers weigh out whole and half kilograms.
ORDER_STEP_KG = Decimal("0.5")
# About nine days in ten without running out; more would mean more spoiled produce.
SAFETY_Z = Decimal("1.28")
# Far beyond a front warehouse's day; a larger number is a typing slip.
MAX_LINE_KG = Decimal("100000")
# Goods of an approved plan that are a day late are still expected.
LATE_ARRIVAL_DAYS = 1


def lead_days() -> int:
    """Days from ordering to the goods on the shelf (setting DELIVERY_REPLENISHMENT_LEAD_DAYS)."""
    return max(0, settings.DELIVERY_REPLENISHMENT_LEAD_DAYS)


def review_days() -> int:
    """Days one delivery must last (setting DELIVERY_REPLENISHMENT_REVIEW_DAYS)."""
    return max(1, settings.DELIVERY_REPLENISHMENT_REVIEW_DAYS)


@dataclass(frozen=True)
class ProductSuggestion:
    product_id: int
    forecast_kg: Decimal
    method: str
    usable_stock_kg: Decimal
    safety_stock_kg: Decimal
    suggested_kg: Decimal


# --- Suggesting -------------------------------------------------------------------------------


def suggest_for_all_warehouses(*, now: datetime | None = None) -> list[ReplenishmentPlan]:
    """The plan for the day after the lead time (tomorrow) of every active warehouse: created,
    or refreshed while still only suggested; an approved plan is left as it is. A warehouse
    whose suggestion fails is logged and skipped, so the others still get theirs."""
    now = now or timezone.now()
    for_date = business_date_of(now) + timedelta(days=lead_days())
    plans = []
    for warehouse in FrontWarehouse.objects.filter(is_active=True).order_by("pk"):
        try:
            plans.append(suggest_plan(warehouse=warehouse, for_date=for_date, now=now))
        except Exception:
            logger.exception("Replenishment plan of warehouse %s failed", warehouse.pk)
    return plans


def suggest_plan(
    *, warehouse: FrontWarehouse, for_date: date, now: datetime | None = None
) -> ReplenishmentPlan:
    """The warehouse's suggested purchases for goods arriving on `for_date` (see the module's
    docstring for the rule). A plan still suggested is refreshed: its lines get the new
    forecast and the cheapest listing now; quantities the manager set are kept. An approved
    plan is returned unchanged. Refused for a day already past."""
    now = now or timezone.now()
    if for_date < business_date_of(now):
        raise DeliveryError(_("Plans are made for today or a day to come."), field="for_date")
    existing = ReplenishmentPlan.objects.filter(warehouse=warehouse, for_date=for_date).first()
    if existing is not None and existing.status == ReplenishmentStatus.APPROVED:
        return existing
    # The forecasts take a while: computed before the plan's row is locked.
    suggestions = suggest_quantities(warehouse=warehouse, for_date=for_date, now=now)
    with transaction.atomic():
        plan, _created = ReplenishmentPlan.objects.get_or_create(
            warehouse=warehouse, for_date=for_date
        )
        plan = ReplenishmentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status == ReplenishmentStatus.APPROVED:
            return plan
        _write_lines(plan=plan, suggestions=suggestions, now=now)
        plan.save(update_fields=["updated_at"])
    return plan


def suggest_quantities(
    *, warehouse: FrontWarehouse, for_date: date, now: datetime
) -> list[ProductSuggestion]:
    """One suggestion per product to plan (listed, stocked or sold lately); nothing written."""
    today = business_date_of(now)
    cover = [today + timedelta(days=day) for day in range((for_date - today).days + review_days())]
    sales = daily_sales_kg(
        warehouse=warehouse,
        since=business_day_start(today - timedelta(days=HISTORY_DAYS)),
        until=now,
    )
    lots = stock_lots_by_product(warehouse)
    inbound = inbound_kg_by_product(
        warehouse=warehouse,
        arriving_from=today - timedelta(days=LATE_ARRIVAL_DAYS),
        arriving_before=for_date,
    )
    sale_moments = [_sale_moment(day, now) for day in cover]
    cover_ends_at = business_day_start(cover[-1] + timedelta(days=1))
    suggestions = []
    for product_id in products_to_plan(
        warehouse=warehouse, sold_product_ids=sales, stocked_product_ids=lots
    ):
        by_day = sales.get(product_id, {})
        forecast = forecast_daily_demand(_history(by_day, today=today), len(cover))
        demand = list(forecast.values_kg)
        # Today's forecast is for the whole day; what has sold since midnight is gone.
        demand[0] = max(ZERO, demand[0] - by_day.get(today, ZERO))
        forecast_kg = sum(demand, ZERO)
        usable = usable_stock_kg(
            lots=lots.get(product_id, []),
            demand=list(zip(sale_moments, demand, strict=True)),
            cover_ends_at=cover_ends_at,
        ) + inbound.get(product_id, ZERO)
        safety = (SAFETY_Z * forecast.spread_kg * Decimal(math.sqrt(len(cover)))).quantize(KG)
        suggestions.append(
            ProductSuggestion(
                product_id=product_id,
                forecast_kg=forecast_kg.quantize(KG),
                method=forecast.method,
                usable_stock_kg=usable.quantize(KG),
                safety_stock_kg=safety,
                suggested_kg=round_up_to_step(forecast_kg + safety - usable),
            )
        )
    return suggestions


def usable_stock_kg(
    *,
    lots: Iterable[tuple[datetime, Decimal]],
    demand: Sequence[tuple[datetime, Decimal]],
    cover_ends_at: datetime,
) -> Decimal:
    """Kilograms of stock that are not expected to expire unsold.

    `lots` are (expected expiry, kg); `demand` is (moment of sale, kg) per day in time order.
    Each day's demand takes the earliest-expiring lots first, as picking does; a lot whose
    expiry comes before the moment it would be sold is lost, and so is stock left at the end
    of the cover that expires before the cover ends. Everything else counts: what will be
    sold, and what is left and still good when the next delivery arrives.
    """
    shelf = [
        _OnShelf(expires_at, Decimal(kg)) for expires_at, kg in sorted(lots, key=lambda lot: lot[0])
    ]
    total = sum((lot.kg for lot in shelf), ZERO)
    lost = ZERO
    for sold_at, wanted in demand:
        while shelf and shelf[0].expires_at <= sold_at:
            lost += shelf.pop(0).kg
        while shelf and wanted > 0:
            taken = min(shelf[0].kg, wanted)
            shelf[0].kg -= taken
            wanted -= taken
            if shelf[0].kg == 0:
                shelf.pop(0)
    lost += sum((lot.kg for lot in shelf if lot.expires_at <= cover_ends_at), ZERO)
    return total - lost


@dataclass
class _OnShelf:
    """What is left of one lot while the demand takes from it."""

    expires_at: datetime
    kg: Decimal


def round_up_to_step(kg: Decimal) -> Decimal:
    """Nothing below zero; anything above rounds up to the next ORDER_STEP_KG."""
    if kg <= 0:
        return ZERO
    steps = (kg / ORDER_STEP_KG).to_integral_value(rounding=ROUND_CEILING)
    return (steps * ORDER_STEP_KG).quantize(KG)


def _history(by_day: dict[date, Decimal], *, today: date) -> list[tuple[date, Decimal]]:
    """Daily sales from the first day the product sold in the window to yesterday, zero days
    included; the days before its first sale say nothing (it may not have been stocked)."""
    days = [day for day in by_day if day < today]
    if not days:
        return []
    first = min(days)
    return [
        (first + timedelta(days=offset), by_day.get(first + timedelta(days=offset), ZERO))
        for offset in range((today - first).days)
    ]


def _sale_moment(day: date, now: datetime) -> datetime:
    """When a day's sales happen on average: the middle of what is left of the day."""
    start = max(business_day_start(day), now)
    end = business_day_start(day + timedelta(days=1))
    return start + (end - start) / 2


def _write_lines(
    *, plan: ReplenishmentPlan, suggestions: list[ProductSuggestion], now: datetime
) -> None:
    current = {line.product_id: line for line in plan.lines.all()}
    for suggestion in suggestions:
        line = current.pop(suggestion.product_id, None) or ReplenishmentLine(
            plan=plan, product_id=suggestion.product_id
        )
        line.forecast_kg = suggestion.forecast_kg
        line.method = suggestion.method
        line.usable_stock_kg = suggestion.usable_stock_kg
        line.suggested_kg = suggestion.suggested_kg
        quantity = quantity_to_buy_kg(line)
        line.listing = (
            cheapest_listing(product_id=line.product_id, quantity_kg=quantity, now=now)
            if quantity > 0
            else None
        )
        line.save()
    # Products no longer worth planning go, unless the manager set a quantity for them.
    for line in current.values():
        if line.approved_kg is None:
            line.delete()


# --- The manager's adjustments and approval ---------------------------------------------------


def update_line(*, by: User, line_id: int, approved_kg) -> ReplenishmentLine:
    """The warehouse's manager sets how much of a product to buy: zero or more kilograms, to
    the gram. Only while the plan is suggested; the listing is chosen again if the one on the
    line cannot supply the new quantity."""
    quantity = clean_approved_kg(approved_kg)
    now = timezone.now()
    with transaction.atomic():
        plan_id = (
            ReplenishmentLine.objects.filter(pk=line_id).values_list("plan_id", flat=True).first()
        )
        plan = _locked_plan(by=by, plan_id=plan_id)
        if plan.status == ReplenishmentStatus.APPROVED:
            raise PlanApproved(field="approved_kg")
        line = ReplenishmentLine.objects.select_related("listing", "product").get(pk=line_id)
        line.approved_kg = quantity
        if quantity > 0 and not _may_buy_from(line.listing, quantity=quantity, buyer=by, now=now):
            line.listing = cheapest_listing(
                product_id=line.product_id, quantity_kg=quantity, now=now, buyer=by
            )
        line.save(update_fields=["approved_kg", "listing"])
    return line


def approve_plan(*, by: User, plan_id: int) -> ReplenishmentPlan:
    """The warehouse's manager approves the plan: every line with a quantity above zero (the
    manager's, else the suggested one) is ordered from its listing, or from the cheapest one
    able to supply it now, one marketplace order per seller with the manager as the buyer.
    A line no listing can supply, or whose seller's order is refused, stays unordered (its
    `marketplace_order` is empty) and the approval goes on.

    Idempotent: the plan's row is locked and an approved plan is returned as it is; each
    seller's order carries the key `replenishment:<plan>:<seller>` as well.
    """
    now = timezone.now()
    with transaction.atomic():
        plan = _locked_plan(by=by, plan_id=plan_id)
        if plan.status == ReplenishmentStatus.APPROVED:
            return plan
        lines = list(plan.lines.select_related("listing", "product").order_by("pk"))
        by_seller: dict[int, list[ReplenishmentLine]] = defaultdict(list)
        for line in lines:
            quantity = quantity_to_buy_kg(line)
            line.approved_kg = quantity
            if quantity <= 0:
                continue
            if not _may_buy_from(line.listing, quantity=quantity, buyer=by, now=now):
                line.listing = cheapest_listing(
                    product_id=line.product_id, quantity_kg=quantity, now=now, buyer=by
                )
            if line.listing is not None:
                by_seller[line.listing.seller_id].append(line)
        for seller_id, seller_lines in sorted(by_seller.items()):
            order = _order_from(by=by, plan=plan, seller_id=seller_id, lines=seller_lines)
            for line in seller_lines:
                line.marketplace_order = order
        ReplenishmentLine.objects.bulk_update(
            lines, ["approved_kg", "listing", "marketplace_order"]
        )
        plan.status = ReplenishmentStatus.APPROVED
        plan.approved_by = by
        plan.approved_at = now
        plan.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    return plan


def quantity_to_buy_kg(line: ReplenishmentLine) -> Decimal:
    """The manager's quantity where she set one, else the suggested one."""
    return line.approved_kg if line.approved_kg is not None else line.suggested_kg


def clean_approved_kg(value) -> Decimal:
    """A weight in kg: zero or more, at most 3 decimals, below MAX_LINE_KG."""
    if value is None or str(value).strip() == "":
        raise DeliveryError(_("Enter how many kilograms to buy."), field="approved_kg")
    try:
        quantity = Decimal(str(value).strip())
    except InvalidOperation:
        quantity = None
    if quantity is None or not quantity.is_finite():
        raise DeliveryError(_("Enter a weight in kilograms, such as 12.5."), field="approved_kg")
    if quantity < 0:
        raise DeliveryError(_("A quantity to buy cannot be below zero."), field="approved_kg")
    if quantity != quantity.quantize(KG):
        raise DeliveryError(
            _("Give the weight to at most 3 decimals (grams)."), field="approved_kg"
        )
    if quantity > MAX_LINE_KG:
        raise DeliveryError(
            _("More than %(max)s kg: check the quantity.") % {"max": MAX_LINE_KG},
            field="approved_kg",
        )
    return quantity.quantize(KG)


def _locked_plan(*, by: User, plan_id: int | None) -> ReplenishmentPlan:
    if plan_id is None:  # the line asked for does not exist
        raise PlanNotYours()
    plan = (
        ReplenishmentPlan.objects.select_for_update(of=("self",))
        .select_related("warehouse")
        .filter(pk=plan_id)
        .first()
    )
    if plan is None or not manages(by, plan.warehouse_id):
        raise PlanNotYours()
    return plan


def _may_buy_from(listing, *, quantity: Decimal, buyer: User, now: datetime) -> bool:
    return listing_can_supply(listing, quantity_kg=quantity, now=now) and (
        listing.seller_id != buyer.pk
    )


def _order_from(
    *, by: User, plan: ReplenishmentPlan, seller_id: int, lines: list[ReplenishmentLine]
) -> Order | None:
    """One marketplace order with the seller for the plan's lines; None when refused (a
    listing sold or closed since it was read: the marketplace re-checks under its lock)."""
    try:
        return place_order(
            buyer=by,
            # The caller groups by seller only lines with a listing and an approved quantity.
            lines=[
                (line.listing_id, line.approved_kg)
                for line in lines
                if line.listing_id is not None and line.approved_kg is not None
            ],
            buyer_note=_("Replenishment of %(warehouse)s for %(day)s")
            % {"warehouse": plan.warehouse.name, "day": plan.for_date.isoformat()},
            idempotency_key=f"replenishment:{plan.pk}:{seller_id}",
        )
    except (MarketplaceError, SettlementError):  # a wallet that cannot hold the order
        logger.info(
            "Replenishment plan %s: the order with seller %s was refused", plan.pk, seller_id
        )
        return None
