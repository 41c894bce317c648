"""Every write of a wholesale market: registry, counter trades, reversals.

Card top-ups and withdrawals (with a supervisor's approval) are in funding.py.

Money moves only through the ledger (marketplace.ledger.services.post_entry); these
functions decide what moves and check who may move it.
"""

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from moneyed import Money

from accounts.models import User
from common.dates import business_today
from common.money import CENT, round_money
from farms.models import HarvestLot, Product

from ..exceptions import (
    AmountBelowOneCent,
    BusinessDayClosed,
    InactiveTrader,
    InsufficientBalance,
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
from ..ledger.choices import MARKET_BOOK_KINDS, AccountKind, BookKind, EntryKind
from ..ledger.models import Account, Book
from ..ledger.services import (
    AccountRef,
    Leg,
    answer_for_refused_entry,
    book_account,
    find_entry,
    open_account,
    post_entry,
    reverse_entry,
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


def set_trader_active(*, market: Market, by: User, trader_id: int, is_active: bool) -> Trader:
    """An operator of the market suspends a trader's card (no trades, top-ups or withdrawals
    until it is lifted) or lifts the suspension. Trades already recorded stay as they are."""
    _require_staff(by, market)
    with transaction.atomic():
        trader = Trader.objects.select_for_update(no_key=True).get(pk=trader_id, market=market)
        if trader.is_active != is_active:
            trader.is_active = is_active
            trader.save(update_fields=["is_active", "updated_at"])
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
    """Each side's fee on a trade of this amount by the market's rule for the category."""
    rule = (
        CommissionRule.objects.filter(market=market)
        .filter(Q(category=category) | Q(category=""))
        .order_by("-category")
        .values_list("buyer_pct", "seller_pct", "minimum_fee")
        .first()
    )
    return _fees(rule, amount)


def _fees(rule: tuple[Decimal, Decimal, Decimal] | None, amount: Money) -> Commission:
    """Each side's fee: its percentage of the amount, at least the minimum fee (when the
    percentage is not zero), rounded half up once. A rule for the category wins over the
    market's default (the caller picks it); the seller's fee never exceeds the amount."""
    zero = Money(Decimal("0.00"), "CNY")
    if rule is None:
        return Commission(zero, zero)
    buyer_pct, seller_pct, minimum = rule
    minimum_fee = Money(minimum, "CNY")

    def fee(pct: Decimal) -> Money:
        if pct == 0:
            return zero
        return max(round_money(amount * pct / 100), minimum_fee)

    return Commission(buyer_fee=fee(buyer_pct), seller_fee=min(fee(seller_pct), amount))


def clean_weights(gross_kg, tare_kg) -> tuple[Decimal, Decimal, Decimal]:
    """(gross, tare, net) in kg with 3 decimals, or a field error.

    Always written with 3 decimals, so "100" and "100.000" are the same request to the
    idempotency check. Tare is compared with gross before it is quantized: a tare too large
    to quantize is simply above the gross.
    """
    gross = _decimal(gross_kg, InvalidWeight())
    tare = _decimal(tare_kg if tare_kg not in (None, "") else 0, InvalidWeight(field="tare_kg"))
    if gross <= 0 or gross > MAX_TRADE_KG or gross != gross.quantize(GRAM):
        raise InvalidWeight()
    if tare < 0:
        raise InvalidWeight(field="tare_kg")
    if tare >= gross:
        raise TareAboveGross()
    if tare != tare.quantize(GRAM):
        raise InvalidWeight(field="tare_kg")
    gross, tare = gross.quantize(GRAM), tare.quantize(GRAM)
    return gross, tare, gross - tare


def clean_unit_price(value) -> Decimal:
    """The price per kg with 2 decimals ("1.2" and "1.20" are the same price), or a field error."""
    price = _decimal(value.amount if isinstance(value, Money) else value, InvalidUnitPrice())
    if price <= 0 or price > MAX_UNIT_PRICE or price != price.quantize(CENT):
        raise InvalidUnitPrice()
    return price.quantize(CENT)


def trade_amount(*, net_kg: Decimal, unit_price: Decimal) -> Money:
    """Net weight × price, rounded half up once; a trade worth less than a cent is refused."""
    amount = round_money(Money(net_kg * unit_price, "CNY"))
    if not amount.amount:
        raise AmountBelowOneCent()
    return amount


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
    _refuse_unusable_card(trader and (trader.kind, trader.is_active), kind=kind, field=field)
    return trader


def _refuse_unusable_card(held: tuple[str, bool] | None, *, kind: str, field: str) -> None:
    """The refusals of a card: unknown (held is None), suspended, or of the other side.
    `held` is the card's (trader kind, is active)."""
    if held is None:
        raise UnknownCard(field=field)
    trader_kind, active = held
    if not active:
        raise InactiveTrader(field=field)
    if trader_kind != kind:
        raise WrongTraderKind(field=field)


@dataclass(frozen=True)
class _Card:
    trader_id: int
    account: AccountRef


@dataclass(frozen=True)
class _CounterContext:
    is_staff: bool
    day_status: str | None  # None: the day has no row yet
    product_id: int | None
    product_name: str
    product_active: bool
    rule: tuple[Decimal, Decimal, Decimal] | None  # buyer %, seller %, minimum fee
    commission_account: AccountRef
    cards: dict[str, tuple]  # card number → (trader id, kind, active, account id, slots)

    def card(self, number: str, *, kind: str, field: str) -> _Card:
        """The card's trader and settlement account; the refusals of trader_by_card."""
        row = self.cards.get(number)
        _refuse_unusable_card(row and (row[1], row[2]), kind=kind, field=field)
        trader_id, _kind, _active, account_id, slots = row
        return _Card(trader_id=trader_id, account=AccountRef(pk=account_id, slots=slots))


# Everything a trade reads, in one round trip inside its transaction, the day's row held
# FOR SHARE (see _hold_open_day): settling is the counter's hot path, and each ORM query
# costs about a millisecond of Python.
_COUNTER_CONTEXT = """
SELECT EXISTS (SELECT 1 FROM marketplace_marketstaff s
                WHERE s.user_id = %(by)s AND s.market_id = %(market)s),
       (SELECT d.status FROM marketplace_marketday d
         WHERE d.market_id = %(market)s AND d.business_date = %(today)s FOR SHARE),
       p.id, p.name_zh, p.is_active,
       (SELECT array[r.buyer_pct, r.seller_pct, r.minimum_fee] FROM marketplace_commissionrule r
         WHERE r.market_id = %(market)s AND r.category IN (p.category, '')
         ORDER BY r.category DESC LIMIT 1),
       a.id, a.slots,
       (SELECT json_agg(json_build_array(t.card_number, t.id, t.kind, t.is_active, c.id, c.slots))
          FROM marketplace_trader t
          JOIN marketplace_account c ON c.trader_id = t.id
           AND c.kind = CASE t.kind WHEN 'buyer' THEN 'prepaid' ELSE 'payable' END
         WHERE t.market_id = %(market)s AND t.card_number IN (%(buyer_card)s, %(seller_card)s))
  FROM marketplace_account a
  LEFT JOIN farms_product p ON p.id = %(product_id)s OR p.code = %(product_code)s
 WHERE a.book_id = %(book)s AND a.kind = 'commission' AND a.trader_id IS NULL
   AND a.user_id IS NULL
"""


def _counter_context(
    *, market: Market, by: User, product: Product | str, cards: tuple[str, str], today: date
) -> _CounterContext:
    is_product = isinstance(product, Product)
    with connection.cursor() as cursor:
        cursor.execute(
            _COUNTER_CONTEXT,
            {
                "by": by.pk,
                "market": market.pk,
                "book": market.book_id,
                "today": today,
                "product_id": product.pk if is_product else None,
                "product_code": None if is_product else str(product or "").strip(),
                "buyer_card": cards[0],
                "seller_card": cards[1],
            },
        )
        row = cursor.fetchone()
    if row is None:  # no commission account: a book opened by hand, not by create_market
        book_account(market.book, AccountKind.COMMISSION)
        return _counter_context(market=market, by=by, product=product, cards=cards, today=today)
    is_staff, day_status, product_id, name, active, rule, account_id, slots, card_rows = row
    if isinstance(card_rows, str):
        card_rows = json.loads(card_rows)
    return _CounterContext(
        is_staff=is_staff,
        day_status=day_status,
        product_id=product_id,
        product_name=name or "",
        product_active=bool(active),
        rule=tuple(Decimal(str(value)) for value in rule) if rule else None,
        commission_account=AccountRef(pk=account_id, slots=slots),
        cards={number: tuple(rest) for number, *rest in card_rows or ()},
    )


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
    cards = (str(buyer_card or "").strip(), str(seller_card or "").strip())
    key = f"trade:{market.pk}:{idempotency_key}"
    today = business_today()
    try:
        return _settle_trade(
            market=market,
            by=by,
            cards=cards,
            product=product,
            gross_kg=gross_kg,
            tare_kg=tare_kg,
            unit_price=unit_price,
            key=key,
            lot=lot,
            today=today,
        )
    except _RefusedEntry as refused:
        # The database refused the entry and the transaction is rolled back: a retry gets
        # its first trade, a short card its balance.
        try:
            entry = answer_for_refused_entry(
                refused.error, key=key, request=refused.request, legs=refused.legs
            )
        except InsufficientBalance as short:
            raise InsufficientBalance(field="buyer_card", **short.details) from None
        return entry.trade


class _RefusedEntry(Exception):
    def __init__(self, error: IntegrityError, *, request: dict, legs: list[Leg]):
        self.error, self.request, self.legs = error, request, legs


def _settle_trade(
    *, market, by, cards, product, gross_kg, tare_kg, unit_price, key, lot, today
) -> Trade:
    """settle_trade inside its one transaction (post_entry without a savepoint of its own)."""
    with transaction.atomic():
        counter = _counter_context(market=market, by=by, product=product, cards=cards, today=today)
        if not counter.is_staff:
            raise NotMarketStaff()
        gross, tare, net = clean_weights(gross_kg, tare_kg)
        price = clean_unit_price(unit_price)
        if counter.product_id is None or not counter.product_active:
            raise InvalidProduct(field="product")
        if lot is not None and lot.product_id != counter.product_id:
            raise InvalidProduct(field="lot")
        buyer = counter.card(cards[0], kind=TraderKind.BUYER, field="buyer_card")
        seller = counter.card(cards[1], kind=TraderKind.SELLER, field="seller_card")
        amount = trade_amount(net_kg=net, unit_price=price)
        request = {
            "buyer": buyer.trader_id,
            "seller": seller.trader_id,
            "product": counter.product_id,
            "lot": lot.pk if lot else None,
            "gross": gross,
            "tare": tare,
            "price": price,
        }
        if counter.day_status != DayStatus.OPEN:
            if counter.day_status is None:  # the day's first trade opens it
                _hold_open_day(market, today)
            else:
                # A retry of a trade recorded before the close still gets its trade back.
                existing = find_entry(key, request)
                if existing is None:
                    raise BusinessDayClosed(business_date=today)
                return existing.trade
        fees = _fees(counter.rule, amount)
        legs = [
            Leg(buyer.account, (amount + fees.buyer_fee).amount),
            Leg(seller.account, -(amount - fees.seller_fee).amount),
            Leg(counter.commission_account, -(fees.buyer_fee + fees.seller_fee).amount),
        ]
        # No posting of nothing: no commission, or a seller fee that took the whole amount.
        legs = [leg for leg in legs if leg.amount]
        try:
            entry, _created = post_entry(
                book=market.book,
                kind=EntryKind.TRADE,
                legs=legs,
                idempotency_key=key,
                request=request,
                by=by,
                memo=f"{counter.product_name} {net} kg × {price}",
                business_date=today,
                savepoint=False,
            )
        except IntegrityError as error:
            raise _RefusedEntry(error, request=request, legs=legs) from error
        return Trade.objects.create(
            market=market,
            business_date=today,
            seller_id=seller.trader_id,
            buyer_id=buyer.trader_id,
            product_id=counter.product_id,
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

    The reversal is dated today (which must be open); a trade is reversed at most once. A
    retry with the key of the reversal that was made returns the trade as it is.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    with transaction.atomic():
        trade = (
            Trade.objects.select_for_update(of=("self",))
            .select_related("market__book", "entry", "reversal")
            .get(pk=trade_id)
        )
        _require_staff(by, trade.market, supervisor=True)
        key = f"reversal:{trade.market_id}:{idempotency_key}"
        if trade.reversal_id is not None:
            if trade.reversal.idempotency_key == key:
                # The same request again (or IdempotencyConflict if the reason differs).
                find_entry(key, {"reverses": trade.entry_id, "reason": reason})
                return trade
            raise TradeAlreadyReversed()
        today = business_today()
        _hold_open_day(trade.market, today)
        reversal = reverse_entry(entry=trade.entry, by=by, reason=reason, idempotency_key=key)
        trade.reversal = reversal
        trade.reversal_reason = reason[:200]
        trade.save(update_fields=["reversal", "reversal_reason"])
    return trade
