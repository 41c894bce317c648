"""The tower's pages, under /tower/."""

from .views import urlpatterns

app_name = "controltower"

__all__ = ["app_name", "urlpatterns"]
