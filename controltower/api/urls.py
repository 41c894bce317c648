"""The tower's API, under /api/tower/."""

from .views import urlpatterns

__all__ = ["urlpatterns"]
