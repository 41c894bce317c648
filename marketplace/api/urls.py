from rest_framework.routers import SimpleRouter

router = SimpleRouter()
# Listings and search register here (marketplace/api/listings.py), orders below them
# (marketplace/api/orders.py).

urlpatterns = [*router.urls]
