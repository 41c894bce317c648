"""Reads for a trader on her phone: her cards' balances, the day's trades, her statements.

Visibility: a user sees the traders linked to her (Trader.user) and their statements; a
market's staff see the statements of their market's traders; a platform admin sees all.
Anything else is not found, so statement ids of other traders are not confirmed.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from moneyed import Money

from accounts.models import User
from accounts.permissions import is_admin
from settlement.choices import AccountKind, BookKind
from settlement.models import Account
from settlement.selectors import balance_of

from ..models import MarketStaff, Statement, Trade, Trader
from ..services import settlement_account

RECENT_STATEMENTS = 10


@dataclass(frozen=True)
class TraderTrade:
    """A trade as one side of it sees it: what she bought or sold, and what it cost her or
    brought her (the amount with her side's commission)."""

    trade: Trade
    bought: bool
    fee: Money
    total: Money  # what she pays (a buyer) or receives (a seller)


@dataclass(frozen=True)
class TraderAccount:
    """One of her traders at a market: the card, its balance, today's trades, statements."""

    trader: Trader
    balance: Money
    trades: list[TraderTrade] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    more_statements: bool = False


@dataclass(frozen=True)
class PlatformBalance:
    """A platform-book account of hers: the wallet orders are paid from, or what she is owed."""

    kind: str
    label: str
    balance: Money


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def traders_of(user: User) -> QuerySet[Trader]:
    """The traders linked to this user, at every market, by market and kind."""
    if not _active(user):
        return Trader.objects.none()
    return (
        Trader.objects.filter(user=user)
        .select_related("market", "stall")
        .order_by("market__name", "kind", "id")
    )


def trades_of(trader: Trader, *, business_date: date) -> QuerySet[Trade]:
    """The trader's trades of a business day (bought or sold), reversed ones included."""
    return (
        Trade.objects.filter(business_date=business_date)
        .filter(Q(seller=trader) | Q(buyer=trader))
        .select_related("product")
        .order_by("recorded_at", "id")
    )


def as_seen_by(trade: Trade, trader: Trader) -> TraderTrade:
    bought = trade.buyer_id == trader.pk
    if bought:
        return TraderTrade(trade=trade, bought=True, fee=trade.buyer_fee, total=trade.buyer_pays)
    return TraderTrade(trade=trade, bought=False, fee=trade.seller_fee, total=trade.seller_receives)


def trader_accounts(
    user: User, *, business_date: date, statements: int = RECENT_STATEMENTS
) -> list[TraderAccount]:
    """Her traders with their balances, the day's trades and their latest statements."""
    accounts = []
    for trader in traders_of(user):
        latest = list(
            Statement.objects.filter(trader=trader).order_by("-business_date")[: statements + 1]
        )
        accounts.append(
            TraderAccount(
                trader=trader,
                balance=balance_of(settlement_account(trader)),
                trades=[
                    as_seen_by(trade, trader)
                    for trade in trades_of(trader, business_date=business_date)
                ],
                statements=latest[:statements],
                more_statements=len(latest) > statements,
            )
        )
    return accounts


def statements_visible_to(user: User) -> QuerySet[Statement]:
    """Statements this user may read: her own traders', or, for market staff, those of her
    market's traders; newest first."""
    statements = Statement.objects.select_related("trader__market").order_by(
        "-business_date", "trader__market__name", "trader_id"
    )
    if not _active(user):
        return statements.none()
    if is_admin(user):
        return statements
    staff_markets = MarketStaff.objects.filter(user=user).values("market")
    return statements.filter(Q(trader__user=user) | Q(trader__market__in=staff_markets))


def own_statements(user: User) -> QuerySet[Statement]:
    """Her own traders' statements only (what her statement list shows), newest first."""
    return statements_visible_to(user).filter(trader__user=user)


PLATFORM_KINDS: dict[str, str | Promise] = {
    AccountKind.PREPAID: _("Platform wallet"),
    AccountKind.HELD: _("Held for open orders"),
    AccountKind.PAYABLE: _("Owed to you for orders"),
}


def platform_balances(user: User) -> list[PlatformBalance]:
    """Her wallet and payable in the platform book, for those that exist: reading a page
    must not open accounts."""
    if not _active(user):
        return []
    order: list[str] = list(PLATFORM_KINDS)  # the wallet first, what is held from it next
    accounts = sorted(
        Account.objects.filter(
            user=user, book__kind=BookKind.PLATFORM, kind__in=list(PLATFORM_KINDS)
        ),
        key=lambda account: order.index(account.kind),
    )
    return [
        PlatformBalance(
            kind=account.kind,
            label=str(PLATFORM_KINDS[account.kind]),
            balance=balance_of(account),
        )
        for account in accounts
    ]
