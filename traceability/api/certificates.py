"""API: certificates. (Filled in by the certificates work.)"""

urlpatterns: list = []


def register(router) -> None:
    """Add this area's viewsets to the traceability API router."""
