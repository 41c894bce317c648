"""The tower's pages, under /tower/: the screen and its digest (views.py), the risk warnings
(risk/views.py)."""

from django.urls import path

from .risk import views as risk_views
from .views import urlpatterns as screen_urlpatterns

app_name = "controltower"

urlpatterns: list = [
    *screen_urlpatterns,
    path("warnings/", risk_views.warnings_page, name="warnings"),
    path("warnings/panel/", risk_views.warnings_panel, name="warnings_panel"),
    path("warnings/<int:pk>/acknowledge/", risk_views.acknowledge, name="warning_acknowledge"),
]
