"""The control tower's risk API, under /api/tower/ (controltower.api.risk)."""

from .risk import urlpatterns

__all__ = ["urlpatterns"]
