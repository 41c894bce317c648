"""What a planner may put on a shipment: lots, the orders and trades that sold them, vehicles.

Ids in a plan's body are looked up here only, so another co-operative's lot, order or trade is
"not found" exactly as a missing one is.
"""

from django.db.models import Q, QuerySet

from accounts.choices import Role
from accounts.models import User
from farms.models import HarvestLot
from farms.selectors import cooperative_managed_by, lots_visible_to
from marketplace.markets.models import MarketStaff, Trade
from marketplace.markets.selectors.counter import trades_visible_to
from marketplace.models import Order
from marketplace.selectors.orders import orders_visible_to

from ..models import Vehicle
from .visibility import active, sees_everything


def vehicles_for_planning(user: User) -> QuerySet[Vehicle]:
    """Vehicles the user may put on a shipment: every one for a controller; otherwise hired
    carriers' (no co-operative) and her own co-operative's."""
    vehicles = Vehicle.objects.order_by("plate")
    if sees_everything(user):
        return vehicles
    own = Q(cooperative__isnull=True)
    cooperative = cooperative_managed_by(user)
    if cooperative is not None:
        own |= Q(cooperative=cooperative)
    return vehicles.filter(own)


def lots_shippable_by(user: User) -> QuerySet[HarvestLot]:
    """Lots the user may put on a shipment: every lot for a controller; her co-operative's
    lots for a co-operative manager; the lots traded at her market for a market operator."""
    lots = HarvestLot.objects.select_related("product__storage_profile")
    if sees_everything(user):
        return lots
    if not active(user):
        return lots.none()
    if user.role == Role.COOPERATIVE_MANAGER:
        return lots.filter(pk__in=lots_visible_to(user).values("pk"))
    if user.role == Role.MARKET_OPERATOR:
        markets = MarketStaff.objects.filter(user=user).values("market")
        return lots.filter(
            pk__in=Trade.objects.filter(market__in=markets, lot__isnull=False).values("lot")
        )
    return lots.none()


def orders_for_shipping(user: User) -> QuerySet[Order]:
    """Marketplace orders a shipment line may name: every one for a controller, otherwise
    those the user may see (marketplace.selectors)."""
    if sees_everything(user):
        return Order.objects.all()
    return orders_visible_to(user)


def trades_for_shipping(user: User) -> QuerySet[Trade]:
    """Market trades a shipment line may name: every one for a controller, otherwise those
    the user may see (her market's, or her own as a trader)."""
    if sees_everything(user):
        return Trade.objects.all()
    return trades_visible_to(user)
