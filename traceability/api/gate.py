"""API: gate. (Filled in by the gate work.)"""

urlpatterns: list = []


def register(router) -> None:
    """Add this area's viewsets to the traceability API router."""
