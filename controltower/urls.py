from django.urls import path

from .risk import views as risk_views

app_name = "controltower"

urlpatterns: list = [
    path("warnings/", risk_views.warnings_page, name="warnings"),
    path("warnings/panel/", risk_views.warnings_panel, name="warnings_panel"),
    path("warnings/<int:pk>/acknowledge/", risk_views.acknowledge, name="warning_acknowledge"),
]
