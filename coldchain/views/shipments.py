"""Cold-chain pages: shipments. (Being written.)"""

urlpatterns: list = []
