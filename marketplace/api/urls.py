from common.api.routers import ApiRouter

from ..markets.api import approvals, cards, counter, days, prices, reconciliation, trader
from . import wallet
from .listings import ListingViewSet
from .orders import OrderViewSet

router = ApiRouter()
router.register("listings", ListingViewSet, basename="listing")
# Listings and search register here (marketplace/api/listings.py), orders below them
# (marketplace/api/orders.py).
router.register("orders", OrderViewSet, basename="order")
wallet.register(router)
# Wholesale markets, under market/: each area registers its own viewsets.
for area in (counter, approvals, cards, days, reconciliation, trader, prices):
    area.register(router)

urlpatterns = [*router.urls]
