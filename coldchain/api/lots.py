"""Cold-chain API: a lot's remaining shelf life. (Being written.)"""

urlpatterns: list = []


def register(router) -> None:
    """Register this area's viewsets on the cold chain's router."""
