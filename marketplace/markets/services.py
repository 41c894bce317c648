"""Every write of a wholesale market's registry: markets with their books, staff, traders
and their cards.

Counter trades and reversals are in trades.py, what a trade comes to in pricing.py, card
top-ups and withdrawals (with a supervisor's approval) in funding.py.
"""

from decimal import Decimal

from django.db import transaction

from accounts.choices import AuditAction
from accounts.models import User
from accounts.services.audit import record_audit
from settlement.accounts import book_account, open_account
from settlement.choices import MARKET_BOOK_KINDS, AccountKind, BookKind
from settlement.models import Account, Book

from ..exceptions import InactiveTrader, NotMarketStaff, UnknownCard, WrongTraderKind
from .choices import TraderKind
from .models import Market, MarketStaff, Trader

# --- Registry ------------------------------------------------------------------------------


def create_market(*, code: str, name: str, city: str, address: str = "") -> Market:
    """A market with its settlement book and the book's own accounts."""
    with transaction.atomic():
        book = Book.objects.create(kind=BookKind.MARKET, code=f"market-{code}", name=name)
        for kind in MARKET_BOOK_KINDS:
            book_account(book, kind)
        return Market.objects.create(code=code, name=name, city=city, address=address, book=book)


def add_staff(
    *,
    market: Market,
    user: User,
    is_supervisor: bool = False,
    transaction_limit: Decimal | None = None,
    daily_limit: Decimal | None = None,
) -> MarketStaff:
    """The user works at the market's counter; her own top-up limits, or the market's."""
    staff, _ = MarketStaff.objects.update_or_create(
        user=user,
        defaults={
            "market": market,
            "is_supervisor": is_supervisor,
            "transaction_limit": transaction_limit,
            "daily_limit": daily_limit,
        },
    )
    return staff


def register_trader(
    *,
    market: Market,
    kind: str,
    name: str,
    card_number: str,
    user: User | None = None,
    cooperative=None,
    stall=None,
    phone: str = "",
    registered_by: User | None = None,
    address: str | None = None,
) -> Trader:
    """A trader with her settlement account: a prepaid card for a buyer, a payable for a seller.

    A card an operator issues (`registered_by`, from `address`) is audited; the demo's and
    the benchmarks' traders are not anyone's decision.
    """
    with transaction.atomic():
        trader = Trader(
            market=market,
            kind=kind,
            name=name,
            card_number=card_number,
            user=user,
            cooperative=cooperative,
            stall=stall,
            phone=phone,
        )
        trader.full_clean()
        trader.save()
        open_account(book=market.book, kind=settlement_kind(kind), name=name, trader_id=trader.pk)
        if registered_by is not None:
            record_audit(
                action=AuditAction.TRADER_CARD_ISSUED,
                actor=registered_by,
                subject=user,
                target=trader,
                label=trader_label(trader),
                changes={"card_number": (None, trader.card_number), "kind": (None, kind)},
                address=address,
            )
    return trader


def trader_label(trader: Trader) -> str:
    """A trader in the audit log: by market, kind and id, since her name may be a person's."""
    return f"{trader.market.code} {trader.kind} #{trader.pk}"


def set_trader_active(
    *, market: Market, by: User, trader_id: int, is_active: bool, address: str | None = None
) -> Trader:
    """An operator of the market suspends a trader's card (no trades, top-ups or withdrawals
    until it is lifted) or lifts the suspension. Trades already recorded stay as they are.
    A change is audited (by `by`, from `address`)."""
    require_staff(by, market)
    with transaction.atomic():
        trader = Trader.objects.select_for_update(no_key=True).get(pk=trader_id, market=market)
        if trader.is_active != is_active:
            trader.is_active = is_active
            trader.save(update_fields=["is_active", "updated_at"])
            record_audit(
                action=AuditAction.TRADER_CARD_REINSTATED
                if is_active
                else AuditAction.TRADER_CARD_SUSPENDED,
                actor=by,
                subject=trader.user,
                target=trader,
                label=trader_label(trader),
                changes={"is_active": (not is_active, is_active)},
                address=address,
            )
    return trader


def settlement_kind(trader_kind: str) -> str:
    return AccountKind.PREPAID if trader_kind == TraderKind.BUYER else AccountKind.PAYABLE


def settlement_account(trader: Trader) -> Account:
    return Account.objects.get(trader=trader, kind=settlement_kind(trader.kind))


def market_of(user: User) -> Market | None:
    """The market an operator works for, or None."""
    staff = MarketStaff.objects.select_related("market__book").filter(user=user).first()
    return staff.market if staff else None


def require_staff(user: User, market: Market, *, supervisor: bool = False) -> None:
    allowed = MarketStaff.objects.filter(user=user, market=market)
    if supervisor:
        allowed = allowed.filter(is_supervisor=True)
    if not allowed.exists():
        raise NotMarketStaff()


def trader_by_card(*, market: Market, card_number: str, kind: str, field: str) -> Trader:
    """The active trader of this market and side holding the card, or a field error."""
    trader = Trader.objects.filter(market=market, card_number=str(card_number).strip()).first()
    if trader is None:
        raise UnknownCard(field=field)
    refuse_unusable_card((trader.kind, trader.is_active), kind=kind, field=field)
    return trader


def refuse_unusable_card(held: tuple[str, bool] | None, *, kind: str, field: str) -> None:
    """The refusals of a card: unknown (held is None), suspended, or of the other side.
    `held` is the card's (trader kind, is active)."""
    if held is None:
        raise UnknownCard(field=field)
    trader_kind, active = held
    if not active:
        raise InactiveTrader(field=field)
    if trader_kind != kind:
        raise WrongTraderKind(field=field)
