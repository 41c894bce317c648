"""The warehouse manager's pages (tablet or PC, fitting a 360 px phone too):

- /warehouse/: today's on-time rate, open orders with the time left and their late risk, a
  Pack button on placed orders, tasks no courier took with "dispatch again"; the lists
  refresh themselves when an order moves (live "delivery.order" events);
- /warehouse/stock/: stock by lot with the shelf life left, a write-off and a count per
  lot, the last seven days' loss rate;
- /warehouse/receiving/: the marketplace order lines and market trades bought for the
  warehouse and not yet received, and any other arrival of a lot.

Warehouse managers see only their own warehouse (another's lot, order, task, order line or
trade is not found, 404); a platform admin picks one with `?warehouse=<id>`; other roles get
403. A refusal of a service shows on the field at fault and nothing changes.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.choices import Role
from accounts.permissions import get_visible_or_404, is_admin, role_required
from common.exceptions import DomainError, NotFoundOrNotYours
from common.forms import add_service_error

from ..models import DeliveryOrderStatus, WriteOffReason
from ..selectors import warehouse as selectors
from ..selectors.history import Reader
from ..services import dispatch
from ..services import stock as stock_services

managers_only = role_required(Role.WAREHOUSE_MANAGER)  # platform admins hold every role


# --- Forms ----------------------------------------------------------------------------------


def _kg_field(label) -> forms.CharField:
    # Text, not a number field: the stock services clean weights, with the API's messages.
    return forms.CharField(
        label=label,
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def _cleaned(clean, value) -> Decimal:
    try:
        return clean(value)
    except DomainError as error:
        raise forms.ValidationError(str(error.message)) from None


class WriteOffForm(forms.Form):
    quantity_kg = _kg_field(gettext_lazy("Quantity (kg)"))
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        choices=[("", "—"), *WriteOffReason.choices],
        error_messages={"required": gettext_lazy("Choose a reason.")},
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_quantity_kg(self) -> Decimal:
        return _cleaned(stock_services.clean_quantity_kg, self.cleaned_data["quantity_kg"])


class CountForm(forms.Form):
    counted_kg = _kg_field(gettext_lazy("Counted (kg)"))

    def clean_counted_kg(self) -> Decimal:
        return _cleaned(stock_services.clean_counted_kg, self.cleaned_data["counted_kg"])


class ReceiveForm(forms.Form):
    quantity_kg = _kg_field(gettext_lazy("Received (kg)"))

    def clean_quantity_kg(self) -> Decimal:
        return _cleaned(stock_services.clean_quantity_kg, self.cleaned_data["quantity_kg"])


class ReceiveLotForm(ReceiveForm):
    lot_code = forms.CharField(
        label=gettext_lazy("Harvest lot code"),
        max_length=40,
        error_messages={"required": gettext_lazy("Give the harvest lot's code.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    field_order = ["lot_code", "quantity_kg"]


# --- Which warehouse ------------------------------------------------------------------------


def _warehouse(request):
    """The warehouse the page is about; 404 for a manager without one."""
    warehouse = selectors.warehouse_of(request.user, warehouse_id=request.GET.get("warehouse"))
    if warehouse is None:
        raise Http404(_("You do not run a warehouse."))
    return warehouse


def _query(request, warehouse) -> str:
    """`?warehouse=<id>` for an admin (who may pick), nothing for a manager."""
    return "?" + urlencode({"warehouse": warehouse.pk}) if is_admin(request.user) else ""


def _back(request, warehouse, url_name: str):
    return redirect(reverse(f"delivery:{url_name}") + _query(request, warehouse))


def _base_context(request, warehouse) -> dict:
    return {
        "warehouse": warehouse,
        "warehouse_query": _query(request, warehouse),
        "warehouses": selectors.warehouses_for_choice(request.user),
    }


# --- The dashboard --------------------------------------------------------------------------


def _dashboard_context(request, warehouse) -> dict:
    reader = Reader(user_id=request.user.pk, is_admin=is_admin(request.user), is_staff=True)
    summary = selectors.warehouse_summary(warehouse, timezone.now(), reader=reader)
    return {
        **_base_context(request, warehouse),
        "summary": summary,
        "placed": DeliveryOrderStatus.PLACED,
    }


@managers_only
def dashboard(request):
    warehouse = _warehouse(request)
    return render(
        request, "delivery/warehouse/dashboard.html", _dashboard_context(request, warehouse)
    )


@managers_only
def dashboard_live(request):
    """The dashboard's figures and lists alone: live.js fetches them again on an event."""
    warehouse = _warehouse(request)
    return render(
        request, "delivery/warehouse/_dashboard_live.html", _dashboard_context(request, warehouse)
    )


@require_POST
@managers_only
def pack(request, pk: int):
    """Placed → packed: dispatch then looks for a courier."""
    from ..services.orders import pack_order  # the shop's area; read at call time

    warehouse = _warehouse(request)
    order = get_visible_or_404(selectors.orders_of(warehouse), pk=pk)
    try:
        order = pack_order(by=request.user, order_id=order.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Order %(number)s is packed.") % {"number": order.number})
    return _back(request, warehouse, "warehouse")


@require_POST
@managers_only
def redispatch(request, pk: int):
    """Look for a courier again for a task nobody took."""
    warehouse = _warehouse(request)
    task = get_visible_or_404(selectors.tasks_of(warehouse), pk=pk)
    try:
        dispatch.redispatch(by=request.user, task_id=task.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Looking for a courier again."))
    return _back(request, warehouse, "warehouse")


# --- Stock ----------------------------------------------------------------------------------


@dataclass
class LotRow:
    """One stock lot on the page, with its two forms (bound after a refused post)."""

    entry: selectors.LotStock
    write_off_form: forms.Form = field(default_factory=lambda: WriteOffForm(prefix="write-off"))
    count_form: forms.Form = field(default_factory=lambda: CountForm(prefix="count"))
    is_open: bool = False


def _render_stock(request, warehouse, *, failed: LotRow | None = None, status: int = 200):
    now = timezone.now()
    products = []
    for product in selectors.stock_view(warehouse, now):
        rows = []
        for entry in product.lots:
            if failed is not None and failed.entry.stock_lot.pk == entry.stock_lot.pk:
                rows.append(
                    LotRow(
                        entry=entry,
                        write_off_form=failed.write_off_form,
                        count_form=failed.count_form,
                        is_open=True,
                    )
                )
            else:
                rows.append(LotRow(entry=entry))
        products.append({"stock": product, "rows": rows})
    return render(
        request,
        "delivery/warehouse/stock.html",
        {
            **_base_context(request, warehouse),
            "products": products,
            "losses": selectors.recent_loss_rate(warehouse, now),
            "near_expiry_hours": int(selectors.NEAR_EXPIRY.total_seconds() // 3600),
        },
        status=status,
    )


@managers_only
def stock(request):
    return _render_stock(request, _warehouse(request))


@require_POST
@managers_only
def write_off(request, pk: int):
    warehouse = _warehouse(request)
    stock_lot = get_visible_or_404(selectors.stock_lots_of(warehouse), pk=pk)
    form = WriteOffForm(request.POST, prefix="write-off")
    if form.is_valid():
        try:
            done = stock_services.write_off_stock(
                stock_lot=stock_lot,
                quantity_kg=form.cleaned_data["quantity_kg"],
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(kg)s kg of lot %(lot)s written off (%(reason)s).")
                % {
                    "kg": done.quantity_kg,
                    "lot": stock_lot.lot.lot_code,
                    "reason": done.get_reason_display(),
                },
            )
            return _back(request, warehouse, "stock")
    failed = LotRow(entry=selectors.lot_stock(stock_lot, now=timezone.now()), write_off_form=form)
    return _render_stock(request, warehouse, failed=failed, status=400)


@require_POST
@managers_only
def count(request, pk: int):
    warehouse = _warehouse(request)
    stock_lot = get_visible_or_404(selectors.stock_lots_of(warehouse), pk=pk)
    form = CountForm(request.POST, prefix="count")
    if form.is_valid():
        try:
            counted = stock_services.record_count(
                stock_lot=stock_lot, counted_kg=form.cleaned_data["counted_kg"], by=request.user
            )
        except DomainError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _count_message(stock_lot.lot.lot_code, counted))
            return _back(request, warehouse, "stock")
    failed = LotRow(entry=selectors.lot_stock(stock_lot, now=timezone.now()), count_form=form)
    return _render_stock(request, warehouse, failed=failed, status=400)


def _count_message(lot_code: str, counted) -> str:
    difference = counted.counted_kg - counted.expected_kg
    values = {"lot": lot_code, "kg": abs(difference), "counted": counted.counted_kg}
    if difference < 0:
        return _("Lot %(lot)s counted at %(counted)s kg: %(kg)s kg short, written off.") % values
    if difference > 0:
        return _("Lot %(lot)s counted at %(counted)s kg: %(kg)s kg more, added to the stock.") % (
            values
        )
    return _("Lot %(lot)s counted at %(counted)s kg, as expected.") % values


# --- Receiving ------------------------------------------------------------------------------


@dataclass
class ArrivalRow:
    """An order line or a trade waiting to be received, with its form."""

    source: object
    limit_kg: Decimal
    form: forms.Form


def _arrival_rows(queryset, *, kind: str, failed=None, failed_form=None) -> list[ArrivalRow]:
    rows = []
    for source in queryset:
        limit = selectors.receivable_kg(source)
        if failed is not None and source.pk == failed.pk:
            form = failed_form
        else:
            form = ReceiveForm(prefix=f"{kind}-{source.pk}", initial={"quantity_kg": limit})
        rows.append(ArrivalRow(source=source, limit_kg=limit, form=form))
    return rows


def _render_receiving(
    request,
    warehouse,
    *,
    failed_line=None,
    failed_trade=None,
    failed_form=None,
    lot_form=None,
    status=200,
):
    return render(
        request,
        "delivery/warehouse/receiving.html",
        {
            **_base_context(request, warehouse),
            "lines": _arrival_rows(
                selectors.order_lines_to_receive(warehouse),
                kind="line",
                failed=failed_line,
                failed_form=failed_form,
            ),
            "trades": _arrival_rows(
                selectors.trades_to_receive(warehouse),
                kind="trade",
                failed=failed_trade,
                failed_form=failed_form,
            ),
            "lot_form": lot_form or ReceiveLotForm(prefix="lot"),
        },
        status=status,
    )


@managers_only
def receiving(request):
    return _render_receiving(request, _warehouse(request))


def _received(request, warehouse, receipt):
    messages.success(
        request,
        _("%(kg)s kg of lot %(lot)s received.")
        % {"kg": receipt.quantity_kg, "lot": receipt.stock_lot.lot.lot_code},
    )
    return _back(request, warehouse, "receiving")


@require_POST
@managers_only
def receive_order_line(request, pk: int):
    warehouse = _warehouse(request)
    line = get_visible_or_404(selectors.order_lines_bought_for(warehouse), pk=pk)
    form = ReceiveForm(request.POST, prefix=f"line-{line.pk}")
    if form.is_valid():
        try:
            receipt = stock_services.receive_from_order_line(
                warehouse=warehouse,
                order_line=line,
                quantity_kg=form.cleaned_data["quantity_kg"],
                by=request.user,
            )
        except DomainError as error:
            if error.field == "order_line":  # received already, or not handed over yet
                messages.error(request, error.message)
                return _back(request, warehouse, "receiving")
            add_service_error(form, error)
        else:
            return _received(request, warehouse, receipt)
    return _render_receiving(request, warehouse, failed_line=line, failed_form=form, status=400)


@require_POST
@managers_only
def receive_trade(request, pk: int):
    warehouse = _warehouse(request)
    trade = get_visible_or_404(selectors.trades_bought_for(warehouse), pk=pk)
    form = ReceiveForm(request.POST, prefix=f"trade-{trade.pk}")
    if form.is_valid():
        try:
            receipt = stock_services.receive_from_trade(
                warehouse=warehouse,
                trade=trade,
                quantity_kg=form.cleaned_data["quantity_kg"],
                by=request.user,
            )
        except DomainError as error:
            if error.field == "trade":  # received already, reversed, or without a lot
                messages.error(request, error.message)
                return _back(request, warehouse, "receiving")
            add_service_error(form, error)
        else:
            return _received(request, warehouse, receipt)
    return _render_receiving(request, warehouse, failed_trade=trade, failed_form=form, status=400)


@require_POST
@managers_only
def receive_lot(request):
    warehouse = _warehouse(request)
    form = ReceiveLotForm(request.POST, prefix="lot")
    if form.is_valid():
        lots = selectors.lots_receivable_at(warehouse)
        lot = lots.filter(lot_code__iexact=form.cleaned_data["lot_code"]).first()
        if lot is None:  # missing, or someone else's: the same words
            form.add_error("lot_code", NotFoundOrNotYours.default_message)
        else:
            try:
                receipt = stock_services.receive_lot(
                    warehouse=warehouse,
                    lot=lot,
                    quantity_kg=form.cleaned_data["quantity_kg"],
                    by=request.user,
                )
            except DomainError as error:
                add_service_error(form, error)
            else:
                return _received(request, warehouse, receipt)
    return _render_receiving(request, warehouse, lot_form=form, status=400)


urlpatterns = [
    path("warehouse/", dashboard, name="warehouse"),
    path("warehouse/live/", dashboard_live, name="warehouse_live"),
    path("warehouse/orders/<int:pk>/pack/", pack, name="warehouse_pack"),
    path("warehouse/tasks/<int:pk>/redispatch/", redispatch, name="warehouse_redispatch"),
    path("warehouse/stock/", stock, name="stock"),
    path("warehouse/stock/<int:pk>/write-off/", write_off, name="stock_write_off"),
    path("warehouse/stock/<int:pk>/count/", count, name="stock_count"),
    path("warehouse/receiving/", receiving, name="receiving"),
    path(
        "warehouse/receiving/order-lines/<int:pk>/",
        receive_order_line,
        name="receive_order_line",
    ),
    path("warehouse/receiving/trades/<int:pk>/", receive_trade, name="receive_trade"),
    path("warehouse/receiving/lot/", receive_lot, name="receive_lot"),
]
