"""Where a harvest lot went at the wholesale markets' counters, read as plain rows for
traceability's trail."""

from collections import defaultdict
from collections.abc import Iterable

from ..models import MarketStaff, Trade


def trades_of_lot(lot_id: int) -> list[tuple]:
    """(id, recorded_at, net_kg, market id, market name, buyer trader's name, buyer trader's
    user id or None) of every counter trade of the lot that was not reversed, oldest first."""
    return list(
        Trade.objects.filter(lot_id=lot_id, reversal__isnull=True)
        .order_by("recorded_at", "id")
        .values_list(
            "id",
            "recorded_at",
            "net_kg",
            "market_id",
            "market__name",
            "buyer__name",
            "buyer__user_id",
        )
    )


def staff_user_ids_of_markets(market_ids: Iterable[int]) -> dict[int, tuple[int, ...]]:
    """The active staff (operators and supervisors) of each market, by market id."""
    staff: defaultdict[int, list[int]] = defaultdict(list)
    rows = MarketStaff.objects.filter(market_id__in=set(market_ids), user__is_active=True)
    for market_id, user_id in rows.order_by("user_id").values_list("market_id", "user_id"):
        staff[market_id].append(user_id)
    return {market_id: tuple(users) for market_id, users in staff.items()}
