"""Each operator's cash drawer at the end of a business day: what she counted, what the
ledger says she should hold, and the difference, recorded once.

The expected cash is read from the ledger: the day's entries on the market's cash clearing
account (cash top-ups in, cash withdrawals out), each at the drawer of the operator who took
the money: the one who asked for it when a supervisor approved it, else the one who booked it.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from moneyed import Money

from accounts.models import User
from common.dates import business_today
from common.money import CENT
from settlement.funding import MAX_AMOUNT

from ..exceptions import (
    DrawerAlreadyCounted,
    DrawerDayNotBegun,
    InvalidDrawerCount,
    NotMarketStaff,
    StaffNotFound,
)
from .funding import staff_post
from .funding_models import DrawerCount
from .models import Market, MarketStaff
from .selectors.funding import cash_by_drawer

ZERO = Decimal("0.00")


def expected_cash(*, market: Market, operator_id: int, business_date: date) -> Money:
    amount = cash_by_drawer(market=market, business_date=business_date).get(operator_id, ZERO)
    return Money(amount, "CNY")


def clean_count(value) -> Decimal:
    """The cash counted: zero or more, in cents, or InvalidDrawerCount."""
    try:
        amount = Decimal(str(getattr(value, "amount", value)).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidDrawerCount() from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise InvalidDrawerCount()
    if amount != amount.quantize(CENT):
        raise InvalidDrawerCount()
    return amount.quantize(CENT)


def record_drawer_count(
    *,
    market: Market,
    by: User,
    counted,
    operator_id: int | None = None,
    business_date: date | None = None,
) -> DrawerCount:
    """The operator (or a supervisor, for any operator of the market) records the cash
    counted in her drawer for the business day (today unless given; never a later day).

    Written once per operator and day with what the ledger expected and the difference. The
    same count again returns it; another amount is refused (the first count stands). From
    then on no cash goes through her drawer that day (funding.py refuses it).
    """
    post = staff_post(by, market)
    operator_id = operator_id or by.pk
    if operator_id != by.pk and not post.is_supervisor:
        raise NotMarketStaff()
    amount = clean_count(counted)
    day = business_date or business_today()
    if day > business_today():
        raise DrawerDayNotBegun()
    with transaction.atomic():
        # Her top-ups and cash approvals take the same lock: the expected figure is final.
        if (
            not MarketStaff.objects.select_for_update(no_key=True)
            .filter(user_id=operator_id, market=market)
            .exists()
        ):
            raise StaffNotFound()
        existing = DrawerCount.objects.filter(
            market=market, operator_id=operator_id, business_date=day
        ).first()
        if existing is not None:
            if existing.counted.amount != amount:
                raise DrawerAlreadyCounted(business_date=day, counted=existing.counted)
            return existing
        expected = expected_cash(market=market, operator_id=operator_id, business_date=day)
        return DrawerCount.objects.create(
            market=market,
            operator_id=operator_id,
            business_date=day,
            # Amounts in the fields' currency, CNY.
            counted=amount,
            expected=expected.amount,
            difference=amount - expected.amount,
            recorded_by=by,
            recorded_at=timezone.now(),
        )
