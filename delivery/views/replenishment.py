"""The warehouse manager's replenishment page: tomorrow's suggested purchases, product by
product (forecast, usable stock, suggestion, the listing to buy from), quantities to adjust,
and the approval that places the marketplace orders.

A warehouse manager sees her own warehouse's plans; a platform admin sees any warehouse's
(read only: only the warehouse's manager adjusts and approves). Another warehouse's plan is
simply not found (404); other roles get 403.
"""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.choices import Role
from accounts.permissions import get_visible_or_404, is_admin, role_required
from common.dates import business_today

from ..exceptions import DeliveryError, PlanNotYours
from ..models import FrontWarehouse, ReplenishmentStatus
from ..selectors.replenishment import (
    managed_warehouse,
    manages,
    method_label,
    plans_visible_to,
    visible_warehouses,
)
from ..services import replenishment as replenishment_services

RECENT_PLANS = 7

managers_only = role_required(Role.WAREHOUSE_MANAGER)  # platform admins hold every role


def _warehouse_for(request, warehouse_id=None) -> FrontWarehouse:
    """The manager's own warehouse; for an admin the one asked for, else the first by name."""
    if is_admin(request.user):
        warehouses = visible_warehouses(request.user)
        if warehouse_id not in (None, ""):
            try:
                return get_visible_or_404(warehouses, pk=int(warehouse_id))
            except (TypeError, ValueError) as exc:
                raise Http404 from exc
        warehouse = warehouses.first()
    else:
        warehouse = managed_warehouse(request.user)
    if warehouse is None:
        raise Http404(_("You do not run a warehouse."))
    return warehouse


def _day_asked(value) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return business_today() + timedelta(days=replenishment_services.lead_days())


def _page_url(warehouse: FrontWarehouse, day: date, *, admin: bool) -> str:
    query = f"?date={day.isoformat()}"
    if admin:
        query += f"&warehouse={warehouse.pk}"
    return reverse("delivery:replenishment") + query


def _render(request, *, warehouse, day, entered=None, errors=None, status=200):
    """The page for one warehouse and day; `entered`/`errors` carry a refused form back."""
    entered, errors = entered or {}, errors or {}
    plans = plans_visible_to(request.user).filter(warehouse=warehouse)
    plan = plans.filter(for_date=day).first()
    may_manage = manages(request.user, warehouse.pk)
    rows, orders = [], {}
    for line in plan.lines.all() if plan else []:
        quantity = replenishment_services.quantity_to_buy_kg(line)
        rows.append(
            {
                "line": line,
                "method": method_label(line.method),
                "quantity": _plain(quantity),
                "value": entered.get(line.pk, _plain(quantity)),
                "error": errors.get(line.pk),
                "not_ordered": plan.status == ReplenishmentStatus.APPROVED
                and quantity > 0
                and line.marketplace_order_id is None,
            }
        )
        if line.marketplace_order is not None:
            orders[line.marketplace_order.pk] = line.marketplace_order
    return render(
        request,
        "delivery/replenishment/plan.html",
        {
            "warehouse": warehouse,
            "warehouses": visible_warehouses(request.user) if is_admin(request.user) else None,
            "day": day,
            "plan": plan,
            "rows": rows,
            "orders": sorted(orders.values(), key=lambda order: order.pk),
            "recent_plans": plans.exclude(for_date=day)[:RECENT_PLANS],
            "may_manage": may_manage,
            "is_open": plan is not None and plan.status == ReplenishmentStatus.SUGGESTED,
            "admin_view": is_admin(request.user),
            "has_errors": bool(errors),
        },
        status=status,
    )


def _plain(kg: Decimal) -> str:
    """12.500 → "12.5", 14.000 → "14": what the manager would type."""
    text = f"{kg.quantize(Decimal('0.001')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@managers_only
def replenishment_page(request):
    warehouse = _warehouse_for(request, request.GET.get("warehouse"))
    return _render(request, warehouse=warehouse, day=_day_asked(request.GET.get("date")))


@require_POST
@managers_only
def replenishment_suggest(request):
    """Suggest the day's plan now (or refresh it while it is only suggested)."""
    warehouse = _warehouse_for(request, request.POST.get("warehouse"))
    day = _day_asked(request.POST.get("date"))
    try:
        replenishment_services.suggest_plan(warehouse=warehouse, for_date=day)
    except DeliveryError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The suggestion is up to date."))
    return redirect(_page_url(warehouse, day, admin=is_admin(request.user)))


@require_POST
@managers_only
def replenishment_save(request, pk: int):
    """Save the quantities typed in; with the Approve button, then approve and order."""
    plan = get_visible_or_404(plans_visible_to(request.user), pk=pk)
    entered, errors = {}, {}
    try:
        for line in plan.lines.all():
            raw = request.POST.get(f"line-{line.pk}")
            if raw is None or _same_quantity(raw, replenishment_services.quantity_to_buy_kg(line)):
                continue
            entered[line.pk] = raw
            try:
                replenishment_services.update_line(
                    by=request.user, line_id=line.pk, approved_kg=raw
                )
            except PlanNotYours:
                raise
            except DeliveryError as refusal:
                errors[line.pk] = refusal.message
        if errors:
            return _render(
                request,
                warehouse=plan.warehouse,
                day=plan.for_date,
                entered=entered,
                errors=errors,
                status=400,
            )
        if "approve" in request.POST:
            plan = replenishment_services.approve_plan(by=request.user, plan_id=plan.pk)
            _report_approval(request, plan)
        else:
            messages.success(request, _("Quantities saved."))
    except DeliveryError as refusal:
        messages.error(request, refusal.message)
    return redirect(_page_url(plan.warehouse, plan.for_date, admin=is_admin(request.user)))


def _report_approval(request, plan) -> None:
    lines = list(plan.lines.select_related("product"))
    orders = {line.marketplace_order_id for line in lines if line.marketplace_order_id}
    missed = [
        line
        for line in lines
        if line.marketplace_order_id is None and line.approved_kg and line.approved_kg > 0
    ]
    messages.success(
        request,
        ngettext(
            "Approved: %(count)s marketplace order placed.",
            "Approved: %(count)s marketplace orders placed.",
            len(orders),
        )
        % {"count": len(orders)},
    )
    if missed:
        messages.warning(
            request,
            _("Not ordered, no listing on sale could supply them: %(products)s.")
            % {"products": "、".join(line.product.name_zh for line in missed)},
        )


def _same_quantity(raw: str, current: Decimal) -> bool:
    try:
        return Decimal(raw.strip()) == current
    except (InvalidOperation, ValueError):
        return False


urlpatterns = [
    path("warehouse/replenishment/", replenishment_page, name="replenishment"),
    path("warehouse/replenishment/suggest/", replenishment_suggest, name="replenishment_suggest"),
    path("warehouse/replenishment/<int:pk>/", replenishment_save, name="replenishment_save"),
]
