"""Delivery's API, under /api/delivery/. Each area module lists its own routes: shop (the
consumer's catalogue and orders), courier (shift, positions, offers, tasks), warehouse (stock,
packing, promises), replenishment (suggested purchases), onboarding (couriers invited,
activated, deactivated; a courier joining)."""

from . import courier, onboarding, replenishment, shop, warehouse

urlpatterns = [
    *shop.urlpatterns,
    *courier.urlpatterns,
    *warehouse.urlpatterns,
    *replenishment.urlpatterns,
    *onboarding.urlpatterns,
]
