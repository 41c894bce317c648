"""A harvest lot at the wholesale markets: the counter trades that sold it."""

from django.db.models import QuerySet

from ..models import Trade


def trades_of_lot(lot_id: int) -> QuerySet[Trade]:
    """The lot's counter trades (reversed ones too: they are part of its history), oldest
    first, with market, seller and buyer."""
    return (
        Trade.objects.filter(lot_id=lot_id)
        .select_related("market", "seller", "buyer", "product")
        .order_by("recorded_at", "pk")
    )


def markets_that_traded(lot_id: int) -> QuerySet:
    """Ids of the markets whose counter sold the lot."""
    return Trade.objects.filter(lot_id=lot_id).values("market_id")


def lots_traded_at(market_ids) -> QuerySet:
    """Ids of the lots the given markets' counters sold."""
    return Trade.objects.filter(market_id__in=market_ids, lot__isnull=False).values("lot_id")
