"""ASGI entry point: HTTP goes to Django behind the request body cap (common/request_limits.py),
WebSockets through session auth to the apps' routes."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

# Imported after Django is set up: routing modules import models.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from accounts.routing import websocket_urlpatterns as accounts_ws  # noqa: E402
from coldchain.routing import websocket_urlpatterns as coldchain_ws  # noqa: E402
from common.request_limits import RequestBodyLimit  # noqa: E402
from controltower.risk.routing import websocket_urlpatterns as risk_ws  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([*accounts_ws, *coldchain_ws, *risk_ws]))
        ),
    }
)
