"""Cold-chain pages: screen. (Being written.)"""

urlpatterns: list = []
