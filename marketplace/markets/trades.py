"""Counter trades at a wholesale market: settle a weighed trade at once, reverse a mistaken
one. Money moves only through the ledger (settlement.posting.post_entry); these functions
decide what moves and check who may move it.

Lock order: the trade's lot FOR SHARE (`farms.services.holds.lock_lots_for_sale`: a hold
being placed takes it FOR UPDATE, so a trade and a hold on the same lot never cross), then
the business day's row FOR SHARE (end of day takes it FOR UPDATE), then the ledger's balance
slots in (account, slot) order, as post_entry takes them.
"""

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save

from accounts.models import User
from common.dates import business_today
from common.metrics import count
from farms.exceptions import LotHeld, LotNotAdmitted
from farms.models import HarvestLot, Product
from farms.services.holds import lock_lots_for_sale
from settlement.accounts import book_account
from settlement.choices import AccountKind, EntryKind
from settlement.exceptions import InsufficientBalance, TradeAlreadyReversed
from settlement.posting import (
    AccountRef,
    EntryRow,
    Leg,
    answer_for_refused_entry,
    find_entry,
    post_entry_with_row,
    reverse_entry,
)

from ..exceptions import (
    BusinessDayClosed,
    InvalidProduct,
    LotRequired,
    NotMarketStaff,
    ReasonRequired,
    UnknownCard,
)
from ..metrics import TRADES_SETTLED
from .choices import DayStatus, TraderKind
from .models import Market, Trade
from .pricing import clean_unit_price, clean_weights, fees_by_rule, trade_amount
from .services import refuse_unusable_card, require_staff


def hold_open_day(market: Market, business_date: date) -> None:
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
        if row is None:
            raise UnknownCard(field=field)
        refuse_unusable_card((row[1], row[2]), kind=kind, field=field)
        trader_id, _kind, _active, account_id, slots = row
        return _Card(trader_id=trader_id, account=AccountRef(pk=account_id, slots=slots))


# Everything a trade reads, in one round trip inside its transaction, the day's row held
# FOR SHARE (see hold_open_day): settling is the counter's hot path, and each ORM query
# costs about a millisecond of Python. A PL/pgSQL function (marketplace migration 0013), so
# its plan is kept for the session instead of made again for every trade.
_COUNTER_CONTEXT = """
SELECT * FROM market_counter_context(%(by)s, %(market)s, %(book)s, %(today)s, %(product_id)s,
                                     %(product_code)s, %(buyer_card)s, %(seller_card)s)
"""


def _counter_context(
    *, market: Market, by: User, product: Product | str, cards: tuple[str, str], today: date
) -> _CounterContext:
    with connection.cursor() as cursor:
        cursor.execute(
            _COUNTER_CONTEXT,
            {
                "by": by.pk,
                "market": market.pk,
                "book": market.book_id,
                "today": today,
                "product_id": product.pk if isinstance(product, Product) else None,
                "product_code": None
                if isinstance(product, Product)
                else str(product or "").strip(),
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
        rule=_rule(rule),
        commission_account=AccountRef(pk=account_id, slots=slots),
        cards={number: tuple(rest) for number, *rest in card_rows or ()},
    )


def _rule(values: list | None) -> tuple[Decimal, Decimal, Decimal] | None:
    """The commission rule as (buyer %, seller %, minimum fee), from its SQL array."""
    if not values:
        return None
    buyer_pct, seller_pct, minimum_fee = (Decimal(str(value)) for value in values)
    return buyer_pct, seller_pct, minimum_fee


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
    product, too little on the card (the balance is shown), or a closed business day; and on
    "lot" for a lot with an open hold here or everywhere (`LotHeld`, the hold's reason), and,
    where the market checks lots at its gate, for a trade naming no lot (`LotRequired`) or a
    lot not checked in there (`LotNotAdmitted`).
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
    """settle_trade inside its one transaction: the entry, its postings and the trade in one
    statement, without a savepoint of its own."""
    with transaction.atomic():
        try:
            _lock_lot(market=market, lot=lot)
        except (LotHeld, LotNotAdmitted, LotRequired):
            # A retry of a trade recorded before the hold still gets its trade back.
            first = Trade.objects.filter(entry__idempotency_key=key, recorded_by=by).first()
            if first is None:
                raise
            return first
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
                hold_open_day(market, today)
            else:
                # A retry of a trade recorded before the close still gets its trade back.
                existing = find_entry(key, request)
                if existing is None:
                    raise BusinessDayClosed(business_date=today)
                return existing.trade
        fees = fees_by_rule(counter.rule, amount)
        legs = [
            Leg(buyer.account, (amount + fees.buyer_fee).amount),
            Leg(seller.account, -(amount - fees.seller_fee).amount),
            Leg(counter.commission_account, -(fees.buyer_fee + fees.seller_fee).amount),
        ]
        # No posting of nothing: no commission, or a seller fee that took the whole amount.
        legs = [leg for leg in legs if leg.amount]
        try:
            entry, trade_id = post_entry_with_row(
                book=market.book,
                kind=EntryKind.TRADE,
                legs=legs,
                idempotency_key=key,
                request=request,
                row=EntryRow(
                    table=Trade._meta.db_table,
                    values={
                        "market_id": market.pk,
                        "business_date": today,
                        "seller_id": seller.trader_id,
                        "buyer_id": buyer.trader_id,
                        "product_id": counter.product_id,
                        "lot_id": lot.pk if lot else None,
                        "gross_kg": gross,
                        "tare_kg": tare,
                        "net_kg": net,
                        # Amounts in the fields' currency, CNY.
                        "unit_price": price,
                        "unit_price_currency": "CNY",
                        "amount": amount.amount,
                        "amount_currency": "CNY",
                        "buyer_fee": fees.buyer_fee.amount,
                        "buyer_fee_currency": "CNY",
                        "seller_fee": fees.seller_fee.amount,
                        "seller_fee_currency": "CNY",
                        "recorded_by_id": by.pk,
                        "reversal_reason": "",
                    },
                    from_entry={"entry_id": "id", "recorded_at": "created_at"},
                ),
                by=by,
                memo=f"{counter.product_name} {net} kg × {price}",
                business_date=today,
            )
        except IntegrityError as error:
            raise _RefusedEntry(error, request=request, legs=legs) from error
        count(TRADES_SETTLED)
        trade = Trade(
            pk=trade_id,
            market=market,
            business_date=today,
            seller_id=seller.trader_id,
            buyer_id=buyer.trader_id,
            product_id=counter.product_id,
            lot=lot,
            gross_kg=gross,
            tare_kg=tare,
            net_kg=net,
            unit_price=price,
            amount=amount.amount,
            buyer_fee=fees.buyer_fee.amount,
            seller_fee=fees.seller_fee.amount,
            entry=entry,
            recorded_by=by,
            recorded_at=entry.created_at,
        )
        trade._state.adding = False
        trade._state.db = connection.alias
        # Written with the entry, not by save(): those who listen for new trades (the control
        # tower's price rules) hear of it as from save().
        post_save.send(
            sender=Trade,
            instance=trade,
            created=True,
            update_fields=None,
            raw=False,
            using=connection.alias,
        )
        return trade


def _lock_lot(*, market: Market, lot: HarvestLot | None) -> None:
    """The trade's lot first, FOR SHARE, refusing a held lot (here or everywhere) and, where
    the market checks lots at its gate, a missing or unadmitted one. Reversals never call it:
    undoing a trade of a lot held since stays possible."""
    if lot is None:
        if market.entry_check_required:
            raise LotRequired()
        return
    lock_lots_for_sale(
        lot_ids=[lot.pk], market_id=market.pk, admission_required=market.entry_check_required
    )


def reverse_trade(
    *, trade_id: int, by: User, reason: str, idempotency_key: str, address: str | None = None
) -> Trade:
    """A supervisor undoes a mistaken trade with a reversing entry; nothing is deleted.

    The reversal is dated today (which must be open); a trade is reversed at most once. A
    retry with the key of the reversal that was made returns the trade as it is. Audited
    (by `by`, from `address`) with the reversing entry.
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
        require_staff(by, trade.market, supervisor=True)
        key = f"reversal:{trade.market_id}:{idempotency_key}"
        if trade.reversal is not None:
            if trade.reversal.idempotency_key == key:
                # The same request again (or IdempotencyConflict if the reason differs).
                find_entry(key, {"reverses": trade.entry_id, "reason": reason})
                return trade
            raise TradeAlreadyReversed()
        today = business_today()
        hold_open_day(trade.market, today)
        reversal = reverse_entry(
            entry=trade.entry, by=by, reason=reason, idempotency_key=key, address=address
        )
        trade.reversal = reversal
        trade.reversal_reason = reason[:200]
        trade.save(update_fields=["reversal", "reversal_reason"])
    return trade
