"""Reads of card applications: the markets a buyer may apply to, her applications, and a
market's applications for its operators.

Visibility: an applicant sees her own applications; a market's staff see their market's
only; anything else is not found.
"""

from dataclasses import dataclass

from django.db.models import Case, IntegerField, QuerySet, Value, When

from accounts.models import User

from ..card_models import TraderCardApplication
from ..choices import CardApplicationStatus, TraderKind
from ..models import Market, Trader


@dataclass(frozen=True)
class MarketForApplicant:
    """A market that takes applications, and where she stands with it."""

    market: Market
    holds_card: bool
    pending: TraderCardApplication | None


def markets_taking_applications() -> QuerySet[Market]:
    return Market.objects.filter(accepts_card_applications=True).order_by("city", "name")


def markets_for_applicant(user: User) -> list[MarketForApplicant]:
    held = set(
        Trader.objects.filter(user=user, kind=TraderKind.BUYER).values_list("market_id", flat=True)
    )
    pending = {
        application.market_id: application
        for application in TraderCardApplication.objects.filter(
            applicant=user, status=CardApplicationStatus.PENDING
        )
    }
    return [
        MarketForApplicant(
            market=market, holds_card=market.pk in held, pending=pending.get(market.pk)
        )
        for market in markets_taking_applications()
    ]


def applications_of(user: User) -> QuerySet[TraderCardApplication]:
    """Her own applications, newest first."""
    if not (user and user.is_authenticated):
        return TraderCardApplication.objects.none()
    return (
        TraderCardApplication.objects.filter(applicant=user)
        .select_related("market", "trader")
        .order_by("-created_at", "-id")
    )


def market_card_applications(
    *, market: Market, status: str | None = None
) -> QuerySet[TraderCardApplication]:
    """The market's applications: those waiting first, oldest first (the queue), then the
    decided ones, newest first; `status` for one state only."""
    applications = TraderCardApplication.objects.filter(market=market).select_related(
        "market", "applicant", "reviewed_by", "trader"
    )
    if status:
        applications = applications.filter(status=status)
    waiting_first = Case(
        When(status=CardApplicationStatus.PENDING, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return applications.annotate(waiting_first=waiting_first).order_by(
        "waiting_first", "-reviewed_at", "created_at", "id"
    )


def pending_count(*, market: Market) -> int:
    return TraderCardApplication.objects.filter(
        market=market, status=CardApplicationStatus.PENDING
    ).count()
