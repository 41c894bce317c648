"""WebSocket route of the risk warnings' live panel."""

from django.urls import path

from .consumers import RiskWarningsConsumer

websocket_urlpatterns = [
    path("ws/tower/warnings/", RiskWarningsConsumer.as_asgi()),
]
