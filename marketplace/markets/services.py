"""Every write of a wholesale market: registry, counter trades, reversals, end of day.

Money moves only through the ledger (marketplace.ledger.services.post_entry); these
functions decide what moves and check who may move it.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import Q
from moneyed import Money

from accounts.models import User
from common.dates import business_today
from common.money import CENT, round_money
from farms.models import HarvestLot, Product

from ..exceptions import (
    BusinessDayClosed,
    InactiveTrader,
    InvalidProduct,
    InvalidUnitPrice,
    InvalidWeight,
    NotMarketStaff,
    ReasonRequired,
    TareAboveGross,
    TradeAlreadyReversed,
    UnknownCard,
    WrongTraderKind,
)
from ..ledger.choices import BOOK_OWNED_KINDS, AccountKind, BookKind, EntryKind
from ..ledger.models import Account, Book, JournalEntry
from ..ledger.services import (
    Leg,
    book_account,
    find_entry,
    open_account,
    post_entry,
    reverse_entry,
    top_up,
    withdraw,
)
from .choices import DayStatus, TraderKind
from .models import (
    MAX_TRADE_KG,
    MAX_UNIT_PRICE,
    CommissionRule,
    Market,
    MarketStaff,
    Trade,
    Trader,
)

GRAM = Decimal("0.001")


# --- Registry ------------------------------------------------------------------------------


def create_market(*, code: str, name: str, city: str, address: str = "") -> Market:
    """A market with its settlement book and the book's own accounts."""
    with transaction.atomic():
        book = Book.objects.create(kind=BookKind.MARKET, code=f"market-{code}", name=name)
        for kind in BOOK_OWNED_KINDS:
            book_account(book, kind)
        return Market.objects.create(code=code, name=name, city=city, address=address, book=book)


def add_staff(*, market: Market, user: User, is_supervisor: bool = False) -> MarketStaff:
    staff, _ = MarketStaff.objects.update_or_create(
        user=user, defaults={"market": market, "is_supervisor": is_supervisor}
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
) -> Trader:
    """A trader with her settlement account: a prepaid card for a buyer, a payable for a seller."""
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
        open_account(book=market.book, kind=settlement_kind(kind), name=name, trader=trader)
    return trader


def settlement_kind(trader_kind: str) -> str:
    return AccountKind.PREPAID if trader_kind == TraderKind.BUYER else AccountKind.PAYABLE


def settlement_account(trader: Trader) -> Account:
    return Account.objects.get(trader=trader, kind=settlement_kind(trader.kind))


def market_of(user: User) -> Market | None:
    """The market an operator works for, or None."""
    staff = MarketStaff.objects.select_related("market__book").filter(user=user).first()
    return staff.market if staff else None


def _require_staff(user: User, market: Market, *, supervisor: bool = False) -> None:
    allowed = MarketStaff.objects.filter(user=user, market=market)
    if supervisor:
        allowed = allowed.filter(is_supervisor=True)
    if not allowed.exists():
        raise NotMarketStaff()


# --- Business days -------------------------------------------------------------------------


def _hold_open_day(market: Market, business_date: date) -> None:
    """Hold the day's row FOR SHARE, refusing a closed day: trades run side by side, and end
    of day (FOR UPDATE) waits for those in flight and then shuts out new ones."""
    with connection.cursor() as cursor:
        for _attempt in range(2):
            cursor.execute(
                "SELECT status FROM marketplace_marketday"
                " WHERE market_id = %s AND business_date = %s FOR SHARE",
                [market.pk, business_date],
            )
            row = cursor.fetchone()
            if row is not None:
                break
            cursor.execute(
                "INSERT INTO marketplace_marketday (market_id, business_date, status)"
                " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                [market.pk, business_date, DayStatus.OPEN],
            )
    if row is None or row[0] != DayStatus.OPEN:
        raise BusinessDayClosed(business_date=business_date)


# --- Trades --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Commission:
    buyer_fee: Money
    seller_fee: Money


def commission_for(*, market: Market, category: str, amount: Money) -> Commission:
    """Each side's fee: its percentage of the amount, at least the minimum fee (when the
    percentage is not zero), rounded half up once. A rule for the category wins over the
    market's default; the seller's fee never exceeds the amount."""
    rules = CommissionRule.objects.filter(market=market).filter(
        Q(category=category) | Q(category="")
    )
    rule = max(rules, key=lambda r: r.category != "", default=None)
    if rule is None:
        zero = Money(0, "CNY")
        return Commission(zero, zero)

    def fee(pct: Decimal) -> Money:
        if pct == 0:
            return Money(Decimal("0.00"), "CNY")
        return max(round_money(amount * pct / 100), rule.minimum_fee)

    return Commission(buyer_fee=fee(rule.buyer_pct), seller_fee=min(fee(rule.seller_pct), amount))


def clean_weights(gross_kg, tare_kg) -> tuple[Decimal, Decimal, Decimal]:
    """(gross, tare, net) in kg with 3 decimals, or a field error."""
    gross = _decimal(gross_kg, InvalidWeight())
    tare = _decimal(tare_kg if tare_kg not in (None, "") else 0, InvalidWeight(field="tare_kg"))
    if gross <= 0 or gross > MAX_TRADE_KG or gross != gross.quantize(GRAM):
        raise InvalidWeight()
    if tare < 0 or tare != tare.quantize(GRAM):
        raise InvalidWeight(field="tare_kg")
    if tare >= gross:
        raise TareAboveGross()
    return gross, tare, (gross - tare).quantize(GRAM)


def clean_unit_price(value) -> Decimal:
    price = _decimal(value.amount if isinstance(value, Money) else value, InvalidUnitPrice())
    if price <= 0 or price > MAX_UNIT_PRICE or price != price.quantize(CENT):
        raise InvalidUnitPrice()
    return price


def _decimal(value, error: Exception) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise error from None
    if not number.is_finite():
        raise error
    return number


def trader_by_card(*, market: Market, card_number: str, kind: str, field: str) -> Trader:
    """The active trader of this market and side holding the card, or a field error."""
    trader = Trader.objects.filter(market=market, card_number=str(card_number).strip()).first()
    if trader is None:
        raise UnknownCard(field=field)
    if not trader.is_active:
        raise InactiveTrader(field=field)
    if trader.kind != kind:
        raise WrongTraderKind(field=field)
    return trader


def settle_trade(
    *,
    market: Market,
    by: User,
    buyer_card: str,
    seller_card: str,
    product: Product | str,
    gross_kg,
    tare_kg,
    unit_price,
    idempotency_key: str,
    lot: HarvestLot | None = None,
) -> Trade:
    """Record a weighed trade and settle it at once: the buyer's card pays the amount and her
    commission, the seller is owed the amount less his, the market keeps both commissions.

    Idempotent by key: a retry returns the first trade. Refused with a field error and
    nothing written for an unknown or suspended card, a bad weight or price, a lot of another
    product, too little on the card (the balance is shown), or a closed business day.
    """
    _require_staff(by, market)
    gross, tare, net = clean_weights(gross_kg, tare_kg)
    price = clean_unit_price(unit_price)
    if isinstance(product, str):
        product = Product.objects.filter(code=product, is_active=True).first()
    if product is None or (lot is not None and lot.product_id != product.pk):
        raise InvalidProduct(field="lot" if product is not None else "product")
    buyer = trader_by_card(
        market=market, card_number=buyer_card, kind=TraderKind.BUYER, field="buyer_card"
    )
    seller = trader_by_card(
        market=market, card_number=seller_card, kind=TraderKind.SELLER, field="seller_card"
    )
    amount = round_money(Money(net * price, "CNY"))
    fees = commission_for(market=market, category=product.category, amount=amount)
    request = {
        "buyer": buyer.pk,
        "seller": seller.pk,
        "product": product.pk,
        "lot": lot.pk if lot else None,
        "gross": gross,
        "tare": tare,
        "price": price,
    }
    key = f"trade:{market.pk}:{idempotency_key}"
    existing = find_entry(key, request)
    if existing is not None:
        return existing.trade
    today = business_today()
    buyer_pays = amount + fees.buyer_fee
    seller_gets = amount - fees.seller_fee
    legs = [
        Leg(settlement_account(buyer), buyer_pays.amount),
        Leg(settlement_account(seller), -seller_gets.amount),
    ]
    commission = fees.buyer_fee + fees.seller_fee
    if commission.amount:
        legs.append(Leg(book_account(market.book, AccountKind.COMMISSION), -commission.amount))
    with transaction.atomic():
        _hold_open_day(market, today)
        entry, created = post_entry(
            book=market.book,
            kind=EntryKind.TRADE,
            legs=legs,
            idempotency_key=key,
            request=request,
            by=by,
            memo=f"{product.name_zh} {net} kg × {price}",
            business_date=today,
        )
        if not created:
            return entry.trade
        return Trade.objects.create(
            market=market,
            business_date=today,
            seller=seller,
            buyer=buyer,
            product=product,
            lot=lot,
            gross_kg=gross,
            tare_kg=tare,
            net_kg=net,
            unit_price=Money(price, "CNY"),
            amount=amount,
            buyer_fee=fees.buyer_fee,
            seller_fee=fees.seller_fee,
            entry=entry,
            recorded_by=by,
            recorded_at=entry.created_at,
        )


def reverse_trade(*, trade_id: int, by: User, reason: str, idempotency_key: str) -> Trade:
    """A supervisor undoes a mistaken trade with a reversing entry; nothing is deleted.

    The reversal is dated today (which must be open); a trade is reversed at most once.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    with transaction.atomic():
        trade = (
            Trade.objects.select_for_update(of=("self",))
            .select_related("market__book", "entry")
            .get(pk=trade_id)
        )
        _require_staff(by, trade.market, supervisor=True)
        if trade.reversal_id is not None:
            raise TradeAlreadyReversed()
        today = business_today()
        _hold_open_day(trade.market, today)
        reversal = reverse_entry(
            entry=trade.entry,
            by=by,
            reason=reason,
            idempotency_key=f"reversal:{trade.market_id}:{idempotency_key}",
        )
        trade.reversal = reversal
        trade.reversal_reason = reason[:200]
        trade.save(update_fields=["reversal", "reversal_reason"])
    return trade


# --- Cards: top-up and withdrawal at the counter -------------------------------------------


def top_up_card(
    *, market: Market, by: User, card_number: str, amount, method: str, idempotency_key: str
) -> JournalEntry:
    """An operator records cash or a bank transfer paid onto a buyer's card."""
    _require_staff(by, market)
    buyer = trader_by_card(
        market=market, card_number=card_number, kind=TraderKind.BUYER, field="card_number"
    )
    with transaction.atomic():
        _hold_open_day(market, business_today())
        return top_up(
            account=settlement_account(buyer),
            amount=amount,
            method=method,
            by=by,
            idempotency_key=idempotency_key,
        )


def withdraw_from_card(
    *, market: Market, by: User, card_number: str, amount, method: str, idempotency_key: str
) -> JournalEntry:
    """An operator pays a buyer back (part of) her card balance."""
    _require_staff(by, market)
    buyer = trader_by_card(
        market=market, card_number=card_number, kind=TraderKind.BUYER, field="card_number"
    )
    with transaction.atomic():
        _hold_open_day(market, business_today())
        return withdraw(
            account=settlement_account(buyer),
            amount=amount,
            method=method,
            by=by,
            idempotency_key=idempotency_key,
        )
