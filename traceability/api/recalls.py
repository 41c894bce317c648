"""API: recalls. (Filled in by the recalls work.)"""

urlpatterns: list = []


def register(router) -> None:
    """Add this area's viewsets to the traceability API router."""
