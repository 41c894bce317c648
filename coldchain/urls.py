"""Pages of the cold chain, under /coldchain/. Each views module lists its own routes."""

from .views import screen, shipments

app_name = "coldchain"

urlpatterns = [
    *screen.urlpatterns,  # the controllers' wall screen
    *shipments.urlpatterns,  # shipments, their handovers, stores and loggers
]
