"""WebSocket routes of the cold chain's live screens. (Being written.)"""

websocket_urlpatterns: list = []
