"""Reads of maker–checker at the counter: the supervisor's queue of requests, an operator's
own requests, and the day's cash drawers (expected from the ledger, counted or missing).

Everything starts from the operator's market: another market's request is not found.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import Coalesce
from moneyed import Money

from accounts.models import User
from settlement.choices import AccountKind, EntryKind
from settlement.models import Posting

from ..funding_models import DrawerCount, FundingRequest, RequestStatus
from ..models import Market, MarketStaff

ZERO = Decimal("0.00")
RECENT_REQUESTS = 50


def market_requests(*, market: Market) -> QuerySet[FundingRequest]:
    """Every top-up and withdrawal request of the market, newest first: an operator's reach."""
    return (
        FundingRequest.objects.filter(market=market)
        .select_related("trader", "requested_by", "decided_by", "entry")
        .order_by("-requested_at", "-id")
    )


def pending_requests(*, market: Market) -> QuerySet[FundingRequest]:
    """The supervisors' queue: requests waiting for a decision, oldest first."""
    return (
        market_requests(market=market)
        .filter(status=RequestStatus.PENDING)
        .order_by("requested_at", "id")
    )


def requests_made_by(*, market: Market, user: User) -> QuerySet[FundingRequest]:
    """The operator's own requests, newest first (her latest only)."""
    return market_requests(market=market).filter(requested_by=user)[:RECENT_REQUESTS]


def cash_by_drawer(*, market: Market, business_date: date) -> dict[int, Decimal]:
    """The cash each operator's drawer should have gained that day (user id → CNY): her cash
    top-ups less her cash withdrawals, from the ledger."""
    rows = (
        Posting.objects.filter(
            account__book_id=market.book_id,
            account__kind=AccountKind.CASH,
            entry__business_date=business_date,
            entry__kind__in=(EntryKind.TOP_UP, EntryKind.WITHDRAWAL),
        )
        # The cash clearing account is debit-positive: money in is a debit.
        .annotate(
            drawer=Coalesce(F("entry__funding_request__requested_by"), F("entry__created_by"))
        )
        .values("drawer")
        .annotate(total=Sum("amount"))
        .values_list("drawer", "total")
    )
    return {drawer: total for drawer, total in rows if drawer is not None}


@dataclass(frozen=True)
class DrawerLine:
    """One operator's drawer on a day: what the ledger expects, and her count if recorded."""

    operator: User
    expected: Money
    count: DrawerCount | None

    @property
    def is_missing(self) -> bool:
        return self.count is None


def drawers_of_day(*, market: Market, business_date: date) -> list[DrawerLine]:
    """Every drawer of the day: the market's operators, anyone whose drawer took or paid
    cash that day, anyone counted; a drawer not counted is missing. By name."""
    cash = cash_by_drawer(market=market, business_date=business_date)
    counts = {
        count.operator_id: count
        for count in DrawerCount.objects.filter(market=market, business_date=business_date)
    }
    staff = set(MarketStaff.objects.filter(market=market).values_list("user_id", flat=True))
    people = User.objects.filter(pk__in=staff | set(cash) | set(counts)).order_by(
        "display_name", "username", "id"
    )
    return [
        DrawerLine(
            operator=person,
            # A recorded count keeps the figure it was compared with.
            expected=counts[person.pk].expected
            if person.pk in counts
            else Money(cash.get(person.pk, ZERO), "CNY"),
            count=counts.get(person.pk),
        )
        for person in people
    ]
