"""API throttles whose rates are read from settings when a request is checked.

REST framework's own classes copy DEFAULT_THROTTLE_RATES once, at import; reading them per
request lets a deployment (and a test) change them through settings alone.
"""

from django.core.exceptions import ImproperlyConfigured
from rest_framework import throttling
from rest_framework.settings import api_settings


class RateFromSettingsMixin:
    scope: str

    def get_rate(self) -> str | None:
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError as exc:
            raise ImproperlyConfigured(f"No throttle rate set for scope {self.scope!r}") from exc


class AnonymousRateThrottle(RateFromSettingsMixin, throttling.AnonRateThrottle):
    """Requests without a user, counted per IP address. A logger's batch carries its own
    credentials (request.auth) and is not counted: a gateway posts for many loggers."""

    def allow_request(self, request, view) -> bool:
        if request.auth is not None:
            return True
        return super().allow_request(request, view)


class UserRateThrottle(RateFromSettingsMixin, throttling.UserRateThrottle):
    """Requests per signed-in user (per IP address for anyone else)."""
