"""Money onto and off a buyer's card at the counter, with maker–checker.

One operator alone may book only a small cash top-up (up to the market's approval threshold)
or a bank top-up, each within her own limits per top-up and per business day. A cash top-up
above the threshold, and every withdrawal, is a FundingRequest that reaches the ledger only
when a supervisor other than the operator who asked approves it. Every door (pages, API,
demo) comes through here.

Locks, always in this order: the request's row, the operator's staff row (her top-ups and
her drawer count queue behind each other, so a daily limit or a count cannot be raced), the
business day's row (FOR SHARE, see trades.hold_open_day), then the ledger's balance slots.
"""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from moneyed import Money

from accounts.models import User
from common.dates import business_today
from settlement.choices import EntryKind, FundingMethod
from settlement.exceptions import IdempotencyConflict, InsufficientBalance
from settlement.funding import clean_amount, funding_entry_key, top_up, withdraw
from settlement.models import JournalEntry, Posting
from settlement.selectors import balance_of

from ..exceptions import (
    AboveOperatorDailyLimit,
    AboveOperatorLimit,
    DeclineReasonRequired,
    DrawerCounted,
    FundingRequestNotFound,
    InactiveTrader,
    NotMarketStaff,
    OwnFundingRequest,
    RequestAlreadyDecided,
)
from .choices import TraderKind
from .funding_models import DrawerCount, FundingKind, FundingRequest, RequestStatus
from .models import Market, MarketStaff, Trader
from .services import settlement_account, trader_by_card
from .trades import hold_open_day

ZERO = Decimal("0.00")


# --- What one operator may do alone --------------------------------------------------------


def staff_post(user: User, market: Market) -> MarketStaff:
    """The user's post at this market, or NotMarketStaff."""
    post = MarketStaff.objects.select_related("market").filter(user=user, market=market).first()
    if post is None:
        raise NotMarketStaff()
    return post


def needs_approval(*, market: Market, kind: str, method: str, amount: Decimal) -> bool:
    """Every withdrawal, and a cash top-up above the market's threshold, waits for a
    supervisor; a smaller cash top-up or a bank top-up is booked at once."""
    if kind == FundingKind.WITHDRAWAL:
        return True
    return method == FundingMethod.CASH and amount > market.approval_threshold.amount


def check_top_up_limit(post: MarketStaff, amount: Decimal) -> None:
    """AboveOperatorLimit for a single top-up above what she may book at once."""
    limit = post.top_up_limit
    if amount > limit.amount:
        raise AboveOperatorLimit(limit=limit)


def topped_up_on(post: MarketStaff, business_date: date) -> Money:
    """What the operator booked onto cards that day: her own top-ups in the ledger and her
    top-up requests not declined (a pending one counts: it may yet be approved)."""
    booked = Posting.objects.filter(
        entry__book_id=post.market.book_id,
        entry__kind=EntryKind.TOP_UP,
        entry__business_date=business_date,
        entry__created_by_id=post.user_id,
        entry__funding_request__isnull=True,
        account__trader__isnull=False,
    ).aggregate(total=Sum("amount"))["total"]
    requested = FundingRequest.objects.filter(
        market_id=post.market_id,
        kind=FundingKind.TOP_UP,
        requested_by_id=post.user_id,
        business_date=business_date,
        status__in=(RequestStatus.PENDING, RequestStatus.APPROVED),
    ).aggregate(total=Sum("amount"))["total"]
    # A top-up credits the card: its posting there is negative.
    return Money(-(booked or ZERO) + (requested or ZERO), "CNY")


def _check_daily_limit(post: MarketStaff, amount: Decimal, business_date: date) -> None:
    used = topped_up_on(post, business_date)
    limit = post.top_up_daily_limit
    if used.amount + amount > limit.amount:
        raise AboveOperatorDailyLimit(limit=limit, used=used)


def _lock_post(user_id: int, market: Market) -> MarketStaff | None:
    return (
        MarketStaff.objects.select_for_update(no_key=True)
        .select_related("market")
        .filter(user_id=user_id, market=market)
        .first()
    )


def _refuse_counted_drawer(market: Market, operator_id: int, business_date: date) -> None:
    """Once an operator's drawer is counted for the day, no more cash goes through it, so the
    recorded difference stays true."""
    if DrawerCount.objects.filter(
        market=market, operator_id=operator_id, business_date=business_date
    ).exists():
        raise DrawerCounted(business_date=business_date)


# --- Top-up and withdrawal -----------------------------------------------------------------


def top_up_card(
    *, market: Market, by: User, card_number: str, amount, method: str, idempotency_key: str
) -> JournalEntry | FundingRequest:
    """Cash or a bank transfer paid onto a buyer's card: the journal entry when it is booked
    at once, the pending request when it waits for a supervisor (a cash top-up above the
    market's threshold; the card is credited only on approval).

    Refused with a field error above the operator's limit per top-up or per day, for an
    unknown or suspended card, on a closed day, or through a drawer already counted. A retry
    with the same key returns what the first call made.
    """
    post = staff_post(by, market)
    buyer = trader_by_card(
        market=market, card_number=card_number, kind=TraderKind.BUYER, field="card_number"
    )
    value = clean_amount(amount)
    method = FundingMethod(method)
    account = settlement_account(buyer)
    today = business_today()
    with transaction.atomic():
        locked = _lock_post(by.pk, market)
        if locked is None:  # no longer on the market's staff
            raise NotMarketStaff()
        post = locked
        earlier = _earlier_request(market, FundingKind.TOP_UP, idempotency_key)
        if earlier is not None:
            return _same_request(earlier, trader=buyer, amount=value, method=method, by=by)
        entry_key = funding_entry_key(
            kind=EntryKind.TOP_UP, book_id=market.book_id, idempotency_key=idempotency_key
        )
        if JournalEntry.objects.filter(idempotency_key=entry_key).exists():
            # A retry: the ledger returns the first entry (or refuses other content).
            return top_up(
                account=account, amount=value, method=method, by=by,
                idempotency_key=idempotency_key,
            )  # fmt: skip
        check_top_up_limit(post, value)
        _check_daily_limit(post, value, today)
        hold_open_day(market, today)
        if method == FundingMethod.CASH:
            _refuse_counted_drawer(market, by.pk, today)
        if needs_approval(market=market, kind=FundingKind.TOP_UP, method=method, amount=value):
            return _create_request(
                market=market, kind=FundingKind.TOP_UP, trader=buyer, account=account,
                amount=value, method=method, by=by, idempotency_key=idempotency_key,
                business_date=today,
            )  # fmt: skip
        return top_up(
            account=account, amount=value, method=method, by=by, idempotency_key=idempotency_key
        )


def withdraw_from_card(
    *, market: Market, by: User, card_number: str, amount, method: str, idempotency_key: str
) -> FundingRequest:
    """A buyer asks for (part of) her card balance back: a request that waits for a
    supervisor, whatever the amount; the card is debited only on approval.

    Refused with the balance when the card holds less than the amount now (and checked
    again at approval). A retry with the same key returns the first request.
    """
    staff_post(by, market)
    buyer = trader_by_card(
        market=market, card_number=card_number, kind=TraderKind.BUYER, field="card_number"
    )
    value = clean_amount(amount)
    method = FundingMethod(method)
    account = settlement_account(buyer)
    today = business_today()
    with transaction.atomic():
        earlier = _earlier_request(market, FundingKind.WITHDRAWAL, idempotency_key)
        if earlier is not None:
            return _same_request(earlier, trader=buyer, amount=value, method=method, by=by)
        hold_open_day(market, today)
        if method == FundingMethod.CASH:
            _refuse_counted_drawer(market, by.pk, today)
        balance = balance_of(account)
        if balance.amount < value:
            raise InsufficientBalance(balance=balance, needed=Money(value, "CNY"))
        return _create_request(
            market=market, kind=FundingKind.WITHDRAWAL, trader=buyer, account=account,
            amount=value, method=method, by=by, idempotency_key=idempotency_key,
            business_date=today,
        )  # fmt: skip


def _request_key(market: Market, kind: str, idempotency_key: str) -> str:
    return f"{market.pk}:{kind}:{idempotency_key}"


def _earlier_request(market: Market, kind: str, idempotency_key: str) -> FundingRequest | None:
    return FundingRequest.objects.filter(
        idempotency_key=_request_key(market, kind, idempotency_key)
    ).first()


def _same_request(
    request: FundingRequest, *, trader: Trader, amount: Decimal, method: str, by: User
) -> FundingRequest:
    """The first request again, or IdempotencyConflict when the key asked for other content."""
    if (request.trader_id, request.amount.amount, request.method, request.requested_by_id) != (
        trader.pk,
        amount,
        method,
        by.pk,
    ):
        raise IdempotencyConflict()
    return request


def _create_request(
    *, market, kind, trader, account, amount, method, by, idempotency_key, business_date
) -> FundingRequest:
    key = _request_key(market, kind, idempotency_key)
    try:
        with transaction.atomic():
            return FundingRequest.objects.create(
                market=market,
                kind=kind,
                trader=trader,
                account=account,
                amount=amount,  # in the field's currency, CNY
                method=method,
                requested_by=by,
                requested_at=timezone.now(),
                business_date=business_date,
                idempotency_key=key,
            )
    except IntegrityError:
        # The same key sent twice at once: the second waited on the unique index.
        earlier = FundingRequest.objects.filter(idempotency_key=key).first()
        if earlier is None:
            raise
        return _same_request(earlier, trader=trader, amount=amount, method=method, by=by)


# --- The supervisor's decision -------------------------------------------------------------


def _locked_request(market: Market, request_id: int) -> FundingRequest:
    """The market's request, locked; FundingRequestNotFound for another market's (its
    existence is never confirmed)."""
    request = (
        FundingRequest.objects.select_for_update(of=("self",))
        .select_related("trader", "account__book")
        .filter(pk=request_id, market=market)
        .first()
    )
    if request is None:
        raise FundingRequestNotFound()
    return request


def _require_checker(request: FundingRequest, by: User) -> None:
    """A supervisor of the request's market, and not the operator who asked for it."""
    if not MarketStaff.objects.filter(
        user=by, market_id=request.market_id, is_supervisor=True
    ).exists():
        raise NotMarketStaff()
    if request.requested_by_id == by.pk:
        raise OwnFundingRequest()


def approve_funding_request(
    *, market: Market, by: User, request_id: int, address: str | None = None
) -> FundingRequest:
    """A supervisor other than the requester approves: the top-up or withdrawal is posted to
    the ledger (dated today, which must be open) with a key derived from the request, and
    the request is approved, in one transaction under the request's lock.

    Approving an approved request returns it and posts nothing more (two supervisors at
    once: the second waits for the first and finds it approved). A withdrawal the card no
    longer covers is refused with its balance and stays pending: the money may still come
    (a top-up, a reversed trade), and declining is a decision a supervisor makes, with a
    reason, not one the system makes for her. A withdrawal is audited (by `by`, from
    `address`).
    """
    with transaction.atomic():
        request = _locked_request(market, request_id)
        _require_checker(request, by)
        if request.status == RequestStatus.APPROVED:
            return request
        if not request.can_move_to(RequestStatus.APPROVED):
            raise RequestAlreadyDecided(status_label=request.get_status_display())
        today = business_today()
        if request.method == FundingMethod.CASH:
            # The cash goes through the requester's drawer: not once it is counted.
            _lock_post(request.requested_by_id, market)
            _refuse_counted_drawer(market, request.requested_by_id, today)
        hold_open_day(market, today)
        if not Trader.objects.filter(pk=request.trader_id, is_active=True).exists():
            raise InactiveTrader()
        if request.kind == FundingKind.TOP_UP:
            request.entry = top_up(
                account=request.account,
                amount=request.amount.amount,
                method=request.method,
                by=by,
                idempotency_key=f"request-{request.pk}",
            )
        else:
            request.entry = withdraw(
                account=request.account,
                amount=request.amount.amount,
                method=request.method,
                by=by,
                idempotency_key=f"request-{request.pk}",
                address=address,
            )
        request.status = RequestStatus.APPROVED
        request.decided_by = by
        request.decided_at = timezone.now()
        request.save(update_fields=["entry", "status", "decided_by", "decided_at"])
    return request


def decline_funding_request(
    *, market: Market, by: User, request_id: int, reason: str
) -> FundingRequest:
    """A supervisor other than the requester declines, saying why; nothing is posted.
    Declining it again with the same reason returns it."""
    reason = (reason or "").strip()[:200]
    if not reason:
        raise DeclineReasonRequired()
    with transaction.atomic():
        request = _locked_request(market, request_id)
        _require_checker(request, by)
        if request.status == RequestStatus.DECLINED and request.reason == reason:
            return request
        if not request.can_move_to(RequestStatus.DECLINED):
            raise RequestAlreadyDecided(status_label=request.get_status_display())
        request.status = RequestStatus.DECLINED
        request.decided_by = by
        request.decided_at = timezone.now()
        request.reason = reason
        request.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    return request
