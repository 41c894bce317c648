"""Where a harvest lot went at the wholesale markets (checked in, traded), read as plain rows
for traceability's trail and recalls."""

from collections import defaultdict
from collections.abc import Iterable

from accounts.choices import Role
from accounts.models import User
from common.moments import EpochMicroseconds, moment_from_epoch_us
from farms.models import LotAdmission, LotHold

from ..models import Market, MarketStaff, Trade, Trader


def trades_of_lot(lot_id: int) -> list[tuple]:
    """(id, recorded_at, net_kg, market id, market name, buyer trader's name, buyer trader's
    user id or None) of every counter trade of the lot that was not reversed, oldest first."""
    rows = (
        Trade.objects.filter(lot_id=lot_id, reversal__isnull=True)
        .order_by("recorded_at", "id")
        .values_list(
            "id",
            EpochMicroseconds("recorded_at"),  # tens of thousands: see common.moments
            "net_kg",
            "market_id",
            "market__name",
            "buyer__name",
            "buyer__user_id",
        )
    )
    return [
        (id_, moment_from_epoch_us(recorded), kg, market_id, market, buyer, buyer_user)
        for id_, recorded, kg, market_id, market, buyer, buyer_user in rows
    ]


def staff_user_ids_of_markets(market_ids: Iterable[int]) -> dict[int, tuple[int, ...]]:
    """The active staff (operators and supervisors) of each market, by market id."""
    staff: defaultdict[int, list[int]] = defaultdict(list)
    rows = MarketStaff.objects.filter(market_id__in=set(market_ids), user__is_active=True)
    for market_id, user_id in rows.order_by("user_id").values_list("market_id", "user_id"):
        staff[market_id].append(user_id)
    return {market_id: tuple(users) for market_id, users in staff.items()}


def markets_of_lot(lot_id: int) -> list[int]:
    """The markets where the lot was checked in (admitted, or held at the gate) or traded."""
    traded = Trade.objects.filter(lot_id=lot_id).values_list("market_id", flat=True)
    admitted = LotAdmission.objects.filter(lot_id=lot_id).values_list("market_id", flat=True)
    held = LotHold.objects.filter(lot_id=lot_id, market__isnull=False).values_list(
        "market_id", flat=True
    )
    return sorted(set(traded.order_by().union(admitted.order_by(), held.order_by())))


def lot_ids_seen_at_market(market_id: int) -> set[int]:
    """The lots checked in (admitted, or held at the gate) or traded at the market."""
    traded = Trade.objects.filter(market_id=market_id, lot__isnull=False).values_list(
        "lot_id", flat=True
    )
    admitted = LotAdmission.objects.filter(market_id=market_id).values_list("lot_id", flat=True)
    held = LotHold.objects.filter(market_id=market_id).values_list("lot_id", flat=True)
    return set(traded.order_by().union(admitted.order_by(), held.order_by()))


def supervised_market_id(user: User) -> int | None:
    """The market this user supervises (an active market operator with the supervisor's
    post), if any."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    if user.role != Role.MARKET_OPERATOR:
        return None
    return (
        MarketStaff.objects.filter(user=user, is_supervisor=True)
        .values_list("market_id", flat=True)
        .first()
    )


def traders_by_id(trader_ids: Iterable[int]) -> dict[int, tuple[str, int | None]]:
    """(name, user id or None) of each trader, by trader id."""
    rows = Trader.objects.filter(pk__in=set(trader_ids)).values_list("pk", "name", "user_id")
    return {pk: (name, user_id) for pk, name, user_id in rows}


def market_names(market_ids: Iterable[int]) -> dict[int, str]:
    """Each market's name, by market id."""
    return dict(Market.objects.filter(pk__in=set(market_ids)).values_list("pk", "name"))
