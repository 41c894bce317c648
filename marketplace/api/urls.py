from rest_framework.routers import SimpleRouter

from .listings import ListingViewSet
from .orders import OrderViewSet

router = SimpleRouter()
router.register("listings", ListingViewSet, basename="listing")
# Listings and search register here (marketplace/api/listings.py), orders below them
# (marketplace/api/orders.py).
router.register("orders", OrderViewSet, basename="order")

urlpatterns = [*router.urls]
