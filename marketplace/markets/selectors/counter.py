"""Reads of the operator's counter: a market's trades and traders with their card balances,
what a trade or a card payment would come to before it is recorded, and who may open a
receipt.

The previews run the settlement service's own checks (marketplace.markets.services), so the
confirmation step refuses what settle_trade would refuse, with the same messages; the
service checks everything again when the operator confirms.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from moneyed import Money

from accounts.models import User
from common.money import round_money
from farms.exceptions import LotNotAdmitted
from farms.models import HarvestLot, LotAdmission, Product
from farms.selectors import open_holds_applying
from marketplace.markets.pricing import (
    clean_unit_price,
    clean_weights,
    commission_for,
    trade_amount,
)
from settlement.choices import AccountKind
from settlement.exceptions import InsufficientBalance, SettlementError
from settlement.funding import clean_amount
from settlement.models import BalanceSlot

from ...exceptions import InvalidProduct, LotRequired
from ..choices import TraderKind
from ..funding import check_top_up_limit, needs_approval
from ..funding_models import FundingKind
from ..models import Market, MarketStaff, Trade, Trader
from ..services import trader_by_card

T = TypeVar("T")
ZERO = Decimal("0.00")
SETTLEMENT_KINDS = (AccountKind.PREPAID, AccountKind.PAYABLE)


# --- Staff ---------------------------------------------------------------------------------


def is_supervisor(*, user: User, market: Market) -> bool:
    return MarketStaff.objects.filter(user=user, market=market, is_supervisor=True).exists()


# --- Trades --------------------------------------------------------------------------------


def _with_parties(trades: QuerySet[Trade]) -> QuerySet[Trade]:
    return trades.select_related(
        "market", "buyer", "seller", "product", "lot", "recorded_by", "reversal"
    )


def market_trades(*, market: Market) -> QuerySet[Trade]:
    """Every trade of the market, newest first: an operator's reach."""
    return _with_parties(Trade.objects.filter(market=market)).order_by("-recorded_at", "-id")


def trades_of_day(*, market: Market, business_date: date) -> QuerySet[Trade]:
    return market_trades(market=market).filter(business_date=business_date)


def trades_visible_to(user: User) -> QuerySet[Trade]:
    """Trades whose receipt the user may open: every trade of the market she works for, and
    the trades she bought or sold as a registered trader."""
    if not (user and user.is_authenticated):
        return Trade.objects.none()
    staff_markets = MarketStaff.objects.filter(user=user).values("market")
    return _with_parties(
        Trade.objects.filter(
            Q(market__in=staff_markets) | Q(buyer__user=user) | Q(seller__user=user)
        )
    )


@dataclass(frozen=True)
class DayTotals:
    """A day's trades at one market; reversed trades are counted apart and add nothing."""

    trade_count: int
    reversed_count: int
    volume_kg: Decimal
    turnover: Money
    buyer_fees: Money
    seller_fees: Money

    @property
    def commission(self) -> Money:
        return self.buyer_fees + self.seller_fees


def day_totals(*, market: Market, business_date: date) -> DayTotals:
    trades = Trade.objects.filter(market=market, business_date=business_date)
    live = trades.filter(reversal__isnull=True).aggregate(
        volume=Sum("net_kg"),
        turnover=Sum("amount"),
        buyer=Sum("buyer_fee"),
        seller=Sum("seller_fee"),
    )
    return DayTotals(
        trade_count=trades.filter(reversal__isnull=True).count(),
        reversed_count=trades.filter(reversal__isnull=False).count(),
        volume_kg=live["volume"] or Decimal("0.000"),
        turnover=Money(live["turnover"] or ZERO, "CNY"),
        buyer_fees=Money(live["buyer"] or ZERO, "CNY"),
        seller_fees=Money(live["seller"] or ZERO, "CNY"),
    )


# --- Traders and their cards ---------------------------------------------------------------


def traders_with_balances(*, market: Market) -> QuerySet[Trader]:
    """The market's traders, buyers first, each with `balance` (a Decimal in CNY): what the
    card holds for a buyer, what the market owes a seller, as the holder reads it."""
    debits = (
        BalanceSlot.objects.filter(
            account__trader=OuterRef("pk"), account__kind__in=SETTLEMENT_KINDS
        )
        .values("account__trader")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money: DecimalField = DecimalField(max_digits=14, decimal_places=2)
    return (
        Trader.objects.filter(market=market)
        .select_related("user", "stall")
        .annotate(
            balance=-Coalesce(Subquery(debits, output_field=money), Value(ZERO), output_field=money)
        )
        .order_by("kind", "name", "id")
    )


def card_balance(trader: Trader) -> Money:
    """The trader's settlement balance as she reads it (positive: the market owes her)."""
    total = BalanceSlot.objects.filter(
        account__trader=trader, account__kind__in=SETTLEMENT_KINDS
    ).aggregate(total=Sum("amount"))["total"]
    return Money(-(total or ZERO), "CNY")


def market_traders(*, market: Market) -> QuerySet[Trader]:
    return Trader.objects.filter(market=market)


def market_trader_by_card(*, market: Market, card_number: str) -> Trader | None:
    return Trader.objects.filter(market=market, card_number=card_number.strip()).first()


def lot_by_code(code: str) -> HarvestLot | None:
    return HarvestLot.objects.filter(lot_code=code.strip()).select_related("product").first()


def active_sellers(*, market: Market) -> QuerySet[Trader]:
    return Trader.objects.filter(market=market, kind=TraderKind.SELLER, is_active=True).order_by(
        "name", "id"
    )


# --- Previews ------------------------------------------------------------------------------


@dataclass
class _Checked:
    """`errors`: the service's refusal for each field at fault, by field name."""

    errors: dict[str, str] = field(default_factory=dict)

    def attempt(self, check: Callable[[], T]) -> T | None:
        """Run one of the service's checks; keep its refusal (the first per field)."""
        try:
            return check()
        except SettlementError as error:
            self.errors.setdefault(error.field or "__all__", str(error.message))
            return None


@dataclass
class TradePreview(_Checked):
    """What a trade would come to; any part that cannot be worked out is None."""

    buyer: Trader | None = None
    seller: Trader | None = None
    product: Product | None = None
    lot: HarvestLot | None = None
    gross_kg: Decimal | None = None
    tare_kg: Decimal | None = None
    net_kg: Decimal | None = None
    unit_price: Money | None = None
    amount: Money | None = None
    buyer_fee: Money | None = None
    seller_fee: Money | None = None
    buyer_balance: Money | None = None

    @property
    def buyer_pays(self) -> Money | None:
        if self.amount is None or self.buyer_fee is None:
            return None
        return self.amount + self.buyer_fee

    @property
    def seller_receives(self) -> Money | None:
        if self.amount is None or self.seller_fee is None:
            return None
        return self.amount - self.seller_fee

    @property
    def balance_after(self) -> Money | None:
        if self.buyer_balance is None or self.buyer_pays is None:
            return None
        return self.buyer_balance - self.buyer_pays


def trade_preview(
    *,
    market: Market,
    buyer_card: str,
    seller_card: str,
    product: Product | str | None,
    gross_kg,
    tare_kg,
    unit_price,
    lot: HarvestLot | None = None,
) -> TradePreview:
    """The trade settle_trade would record for these inputs: names, weights, amount, each
    side's commission and the buyer's card balance; a card short of what the buyer would pay
    is refused on the buyer's card, with its balance."""
    preview = TradePreview(lot=lot)
    weights = preview.attempt(lambda: clean_weights(gross_kg, tare_kg))
    if weights:
        preview.gross_kg, preview.tare_kg, preview.net_kg = weights
    price = preview.attempt(lambda: clean_unit_price(unit_price))
    if price is not None:
        preview.unit_price = Money(price, "CNY")
    if isinstance(product, str):
        product = Product.objects.filter(code=product, is_active=True).first()
    if product is None:
        preview.errors.setdefault("product", str(InvalidProduct.default_message))
    elif lot is not None and lot.product_id != product.pk:
        preview.errors.setdefault("lot", str(InvalidProduct.default_message))
    preview.product = product
    if lot_refused := lot_refusal(market=market, lot=lot):
        preview.errors.setdefault("lot", lot_refused)
    preview.buyer = preview.attempt(
        lambda: trader_by_card(
            market=market, card_number=buyer_card, kind=TraderKind.BUYER, field="buyer_card"
        )
    )
    preview.seller = preview.attempt(
        lambda: trader_by_card(
            market=market, card_number=seller_card, kind=TraderKind.SELLER, field="seller_card"
        )
    )
    if preview.buyer is not None:
        preview.buyer_balance = card_balance(preview.buyer)
    net_kg = preview.net_kg
    if net_kg is not None and price is not None:
        preview.amount = round_money(Money(net_kg * price, "CNY"))
        preview.attempt(lambda: trade_amount(net_kg=net_kg, unit_price=price))
        if product is not None:
            fees = commission_for(market=market, category=product.category, amount=preview.amount)
            preview.buyer_fee, preview.seller_fee = fees.buyer_fee, fees.seller_fee
    if preview.balance_after is not None and preview.balance_after.amount < 0:
        refusal = InsufficientBalance(
            balance=preview.buyer_balance, needed=preview.buyer_pays, field="buyer_card"
        )
        preview.errors.setdefault("buyer_card", str(refusal.message))
    return preview


def lot_refusal(*, market: Market, lot: HarvestLot | None) -> str | None:
    """Why the counter would refuse this lot now (settle_trade checks it again under its
    lock): an open hold's reason, or the gate check this market asks for."""
    if lot is None:
        return str(LotRequired.default_message) if market.entry_check_required else None
    hold = open_holds_applying(lot_ids=[lot.pk], market_id=market.pk).order_by("placed_at", "id")
    if first := hold.first():
        return first.reason
    if (
        market.entry_check_required
        and not LotAdmission.objects.filter(lot=lot, market=market).exists()
    ):
        return str(LotNotAdmitted.default_message)
    return None


@dataclass
class CardPreview(_Checked):
    """A top-up or withdrawal before it is recorded: the holder, her balance before and after
    (once approved, when it needs a supervisor's approval)."""

    trader: Trader | None = None
    amount: Money | None = None
    balance_before: Money | None = None
    balance_after: Money | None = None
    needs_approval: bool = False


def card_preview(
    *, market: Market, by: User, card_number: str, amount, method: str, withdrawal: bool
) -> CardPreview:
    """What a top-up (or a withdrawal) of `amount` would leave on a buyer's card, and whether
    it waits for a supervisor; a top-up above the operator's limit per top-up, or a
    withdrawal of more than the card holds, is refused."""
    preview = CardPreview()
    value = preview.attempt(lambda: clean_amount(amount))
    if value is not None:
        preview.amount = Money(value, "CNY")
        kind = FundingKind.WITHDRAWAL if withdrawal else FundingKind.TOP_UP
        preview.needs_approval = needs_approval(
            market=market, kind=kind, method=method, amount=value
        )
        post = MarketStaff.objects.select_related("market").filter(user=by, market=market).first()
        if post is not None and not withdrawal:
            preview.attempt(lambda: check_top_up_limit(post, value))
    preview.trader = preview.attempt(
        lambda: trader_by_card(
            market=market, card_number=card_number, kind=TraderKind.BUYER, field="card_number"
        )
    )
    if preview.trader is None:
        return preview
    preview.balance_before = card_balance(preview.trader)
    if preview.amount is not None:
        sign = -1 if withdrawal else 1
        preview.balance_after = preview.balance_before + preview.amount * sign
        if preview.balance_after.amount < 0:
            refusal = InsufficientBalance(balance=preview.balance_before, needed=preview.amount)
            preview.errors.setdefault("amount", str(refusal.message))
    return preview
