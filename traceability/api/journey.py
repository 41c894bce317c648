"""API: journey. (Filled in by the journey work.)"""

urlpatterns: list = []


def register(router) -> None:
    """Add this area's viewsets to the traceability API router."""
