"""Cold-chain API: ingest. (Being written.)"""

urlpatterns: list = []


def register(router) -> None:
    """Register this area's viewsets on the cold chain's router."""
