"""WebSocket routes of the cold chain's live screens."""

from django.urls import path

from .consumers import ColdChainScreenConsumer

websocket_urlpatterns = [
    path("ws/coldchain/", ColdChainScreenConsumer.as_asgi()),
]
