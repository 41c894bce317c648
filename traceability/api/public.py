"""API: public. (Filled in by the public work.)"""

urlpatterns: list = []


def register(router) -> None:
    """Add this area's viewsets to the traceability API router."""
