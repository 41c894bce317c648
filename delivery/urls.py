"""Pages of delivery. Each views module lists its own routes."""

from .views import courier, onboarding, replenishment, shop, warehouse

app_name = "delivery"

urlpatterns = [
    *shop.urlpatterns,  # /shop/: the consumer's shop and her orders' status
    *courier.urlpatterns,  # /courier/: the courier's one-hand page
    *warehouse.urlpatterns,  # /warehouse/: stock, packing, promises
    *replenishment.urlpatterns,  # /warehouse/replenishment/: suggested purchases
    *onboarding.urlpatterns,  # /warehouse/couriers/ and /courier/join/<secret>/: couriers join
]
