"""Pages of the operator's counter, under /market/: record a trade (form, confirmation,
receipt), top up or pay back a buyer's card, the day's trades and a supervisor's reversal,
the market's traders.

Every page but the receipt is for market operators: another role gets 403, an operator
who works for no market 404, and an object of another market is not found (404). A
service's refusal (DomainError) comes back as an error on the field at fault.
"""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.addresses import client_address
from accounts.choices import Role
from accounts.permissions import get_visible_or_404, role_required
from common.dates import business_today
from common.exceptions import DomainError
from common.forms import add_service_error
from settlement.choices import FundingMethod
from settlement.exceptions import IdempotencyConflict

from .. import funding, receipts
from .. import services as markets
from .. import trades as counter_trades
from ..choices import TraderKind
from ..forms import CardPaymentForm, ReverseTradeForm, TradeDayForm, TradeForm, TraderForm
from ..funding_models import FundingRequest
from ..selectors.counter import (
    active_sellers,
    card_balance,
    card_preview,
    day_totals,
    is_supervisor,
    lot_by_code,
    market_trader_by_card,
    market_traders,
    market_trades,
    trade_preview,
    traders_with_balances,
    trades_of_day,
    trades_visible_to,
)

TEMPLATES = "marketplace/markets/counter/"
TRADES_PER_PAGE = 100
TRADERS_PER_PAGE = 50


def operator_page(view):
    """Market operators only (sign in first; 403 for other roles); the view gets the
    operator's market, and an operator who works for none gets 404."""

    @role_required(Role.MARKET_OPERATOR)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        market = markets.market_of(request.user)
        if market is None:
            raise Http404
        return view(request, market, *args, **kwargs)

    return wrapped


def _show_refusal(form, error: DomainError) -> None:
    add_service_error(form, error, form.SERVICE_FIELDS)
    if isinstance(error, IdempotencyConflict):
        # The key was spent on other content; a new one lets the operator record this.
        form.renew_key()


def _add_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        name = form.SERVICE_FIELDS.get(name, name)
        form.add_error(name if name in form.fields else None, message)


# --- Recording a trade ---------------------------------------------------------------------


@operator_page
def counter(request, market):
    """Enter the weighing, check the confirmation, record: three steps, one hidden key.

    POST step=review (the default) shows the confirmation, step=edit the form again with
    its values, step=confirm settles the trade and shows its receipt. The key made when the
    form was first shown travels through every step, so a double click or a resubmit of the
    confirmation records one trade.
    """
    form = TradeForm(request.POST or None, sellers=active_sellers(market=market))
    if market.entry_check_required:  # every trade names a lot checked in at the gate
        form.fields["lot"].label = _("Lot code")
    step = request.POST.get("step", "review")
    if request.method == "POST" and step != "edit" and form.is_valid():
        if step == "confirm":
            try:
                trade = counter_trades.settle_trade(
                    market=market,
                    by=request.user,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    **form.trade_arguments(),
                )
            except DomainError as error:
                _show_refusal(form, error)
            else:
                messages.success(request, _("Trade #%(id)s recorded.") % {"id": trade.pk})
                return redirect("markets:receipt", pk=trade.pk)
        else:
            preview = trade_preview(market=market, **form.trade_arguments())
            if not preview.errors:
                return render(
                    request, TEMPLATES + "confirm.html", {"form": form, "preview": preview}
                )
            _add_errors(form, preview.errors)
    return render(request, TEMPLATES + "counter.html", {"form": form, "market": market})


def _money(value) -> str | None:
    return None if value is None else str(value.amount)


@require_GET
@operator_page
def counter_preview(request, market):
    """What the counter form would record, as JSON, for counter.js to show as the operator
    types: names, net weight, amount, commissions, the buyer's balance. Errors are given
    only for the fields already filled in."""
    params = request.GET
    seller_card = params.get("seller_card", "").strip()
    if not seller_card and params.get("seller", "").isdigit():
        seller = active_sellers(market=market).filter(pk=params["seller"]).first()
        seller_card = seller.card_number if seller else ""
    lot_code = params.get("lot", "").strip()
    lot = lot_by_code(lot_code) if lot_code else None
    preview = trade_preview(
        market=market,
        buyer_card=params.get("buyer_card", ""),
        seller_card=seller_card,
        product=params.get("product") or None,
        gross_kg=params.get("gross_kg", ""),
        tare_kg=params.get("tare_kg", ""),
        unit_price=params.get("unit_price", ""),
        lot=lot,
    )
    filled = {name for name, value in params.items() if value.strip()}
    if seller_card:
        filled.add("seller_card")
    errors = {name: message for name, message in preview.errors.items() if name in filled}
    if lot_code and lot is None:
        errors["lot"] = _("No harvest lot has this code.")
    return JsonResponse(
        {
            "buyer": preview.buyer and preview.buyer.name,
            "buyer_balance": _money(preview.buyer_balance),
            "seller": preview.seller and preview.seller.name,
            "net_kg": None if preview.net_kg is None else str(preview.net_kg),
            "amount": _money(preview.amount),
            "buyer_fee": _money(preview.buyer_fee),
            "seller_fee": _money(preview.seller_fee),
            "buyer_pays": _money(preview.buyer_pays),
            "seller_receives": _money(preview.seller_receives),
            "balance_after": _money(preview.balance_after),
            "errors": errors,
        }
    )


# --- Receipts ------------------------------------------------------------------------------


@login_required
def receipt(request, pk: int):
    """A trade's printable receipt: for its market's staff, its buyer and its seller."""
    trade = get_visible_or_404(trades_visible_to(request.user), pk=pk)
    return render(
        request,
        TEMPLATES + "receipt.html",
        {
            "trade": trade,
            "receipt": receipts.receipt_of(trade),
            "at_counter": trade.market == markets.market_of(request.user),
        },
    )


@login_required
def receipt_pdf(request, pk: int):
    trade = get_visible_or_404(trades_visible_to(request.user), pk=pk)
    response = HttpResponse(receipts.receipt_pdf(trade), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{receipts.receipt_filename(trade)}"'
    return response


# --- Cards ---------------------------------------------------------------------------------


def _card_payment(request, market, *, withdrawal: bool):
    """Top-up or withdrawal: the form, a confirmation with the holder's name and her balance
    before and after, then the service; the same hidden key makes a resubmit harmless. A
    withdrawal, or a cash top-up above the market's threshold, becomes a request for a
    supervisor (the confirmation says so) and the operator is taken to her requests."""
    form = CardPaymentForm(request.POST or None)
    step = request.POST.get("step", "review")
    if request.method == "POST" and step != "edit" and form.is_valid():
        arguments = form.payment_arguments()
        if step == "confirm":
            service = funding.withdraw_from_card if withdrawal else funding.top_up_card
            try:
                outcome = service(
                    market=market,
                    by=request.user,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    **arguments,
                )
            except DomainError as error:
                _show_refusal(form, error)
            else:
                if isinstance(outcome, FundingRequest):
                    messages.success(
                        request,
                        _(
                            "Request #%(id)s for ¥%(amount)s waits for a supervisor's "
                            "approval; the card's balance changes only once it is approved."
                        )
                        % {"id": outcome.pk, "amount": f"{arguments['amount']:.2f}"},
                    )
                    return redirect("markets:requests")
                trader = market_trader_by_card(market=market, card_number=arguments["card_number"])
                done = _("¥%(amount)s paid onto the card of %(name)s; it holds ¥%(balance)s.")
                balance = card_balance(trader)
                messages.success(
                    request,
                    done
                    % {
                        "amount": f"{arguments['amount']:.2f}",
                        "name": trader.name,
                        "balance": balance.amount,
                    },
                )
                return redirect("markets:top_up")
        else:
            preview = card_preview(
                market=market,
                by=request.user,
                card_number=arguments["card_number"],
                amount=arguments["amount"],
                method=arguments["method"],
                withdrawal=withdrawal,
            )
            if not preview.errors:
                return render(
                    request,
                    TEMPLATES + "card_confirm.html",
                    {
                        "form": form,
                        "preview": preview,
                        "withdrawal": withdrawal,
                        "method_label": FundingMethod(arguments["method"]).label,
                    },
                )
            _add_errors(form, preview.errors)
    return render(request, TEMPLATES + "card_form.html", {"form": form, "withdrawal": withdrawal})


@operator_page
def top_up(request, market):
    return _card_payment(request, market, withdrawal=False)


@operator_page
def withdraw(request, market):
    return _card_payment(request, market, withdrawal=True)


# --- The day's trades ----------------------------------------------------------------------


@operator_page
def trade_list(request, market):
    """A day's trades (today unless ?date=) with the day's totals; a supervisor may reverse."""
    day = business_today()
    form = TradeDayForm(request.GET or None, initial={"date": day})
    if form.is_valid() and form.cleaned_data["date"]:
        day = form.cleaned_data["date"]
    page = Paginator(trades_of_day(market=market, business_date=day), TRADES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        TEMPLATES + "trade_list.html",
        {
            "form": form,
            "day": day,
            "is_today": day == business_today(),
            "page": page,
            "totals": day_totals(market=market, business_date=day),
            "may_reverse": is_supervisor(user=request.user, market=market),
            "query": f"date={day.isoformat()}",
        },
    )


@operator_page
def reverse_trade(request, market, pk: int):
    """A supervisor reverses a mistaken trade, with a reason, after seeing what it was."""
    trade = get_visible_or_404(market_trades(market=market), pk=pk)
    if not is_supervisor(user=request.user, market=market):
        raise PermissionDenied
    back = f"{reverse('markets:trade_list')}?date={trade.business_date.isoformat()}"
    if trade.is_reversed:
        messages.info(request, _("Trade #%(id)s is reversed.") % {"id": trade.pk})
        return redirect(back)
    form = ReverseTradeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            counter_trades.reverse_trade(
                trade_id=trade.pk,
                by=request.user,
                reason=form.cleaned_data["reason"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                address=client_address(request),
            )
        except DomainError as error:
            add_service_error(form, error, {"idempotency_key": None})
        else:
            messages.success(request, _("Trade #%(id)s is reversed.") % {"id": trade.pk})
            return redirect(back)
    return render(
        request,
        TEMPLATES + "reverse.html",
        {"trade": trade, "receipt": receipts.receipt_of(trade), "form": form, "back": back},
    )


# --- Traders -------------------------------------------------------------------------------


@operator_page
def trader_list(request, market):
    """The market's traders with their card balances; ?kind=buyer|seller, ?q= name or card."""
    traders = traders_with_balances(market=market)
    kind = request.GET.get("kind", "")
    if kind in TraderKind.values:
        traders = traders.filter(kind=kind)
    query = request.GET.get("q", "").strip()
    if query:
        traders = traders.filter(Q(name__icontains=query) | Q(card_number=query))
    page = Paginator(traders, TRADERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        TEMPLATES + "trader_list.html",
        {
            "page": page,
            "kind": kind,
            "kinds": TraderKind,
            "q": query,
            "query": urlencode({"kind": kind, "q": query}),
        },
    )


@operator_page
def trader_create(request, market):
    """Register a seller or a buyer with a card, optionally linked to her platform account."""
    form = TraderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            trader = markets.register_trader(
                market=market,
                registered_by=request.user,
                address=client_address(request),
                **form.trader_arguments(),
            )
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                name = {"user": "user_phone"}.get(name, name)
                for problem in problems:
                    form.add_error(name if name in form.fields else None, problem)
        except DomainError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is registered with card %(card)s.")
                % {"name": trader.name, "card": trader.card_number},
            )
            return redirect("markets:trader_list")
    return render(request, TEMPLATES + "trader_form.html", {"form": form})


@require_POST
@operator_page
def trader_activation(request, market, pk: int):
    """Suspend a trader's card (active=0) or lift the suspension (active=1)."""
    trader = get_visible_or_404(market_traders(market=market), pk=pk)
    trader = markets.set_trader_active(
        market=market,
        by=request.user,
        trader_id=trader.pk,
        is_active=request.POST.get("active") == "1",
        address=client_address(request),
    )
    done = (
        _("%(name)s's card is active again.")
        if trader.is_active
        else _("%(name)s's card is suspended.")
    )
    messages.success(request, done % {"name": trader.name})
    return redirect("markets:trader_list")


urlpatterns = [
    path("counter/", counter, name="counter"),
    path("counter/preview/", counter_preview, name="counter_preview"),
    path("trades/", trade_list, name="trade_list"),
    path("trades/<int:pk>/receipt/", receipt, name="receipt"),
    path("trades/<int:pk>/receipt.pdf", receipt_pdf, name="receipt_pdf"),
    path("trades/<int:pk>/reverse/", reverse_trade, name="reverse_trade"),
    path("cards/top-up/", top_up, name="top_up"),
    path("cards/withdraw/", withdraw, name="withdraw"),
    path("traders/", trader_list, name="trader_list"),
    path("traders/new/", trader_create, name="trader_create"),
    path("traders/<int:pk>/activation/", trader_activation, name="trader_activation"),
]
