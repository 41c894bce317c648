"""Loggers sign in with `Authorization: Device <device_id>:<secret>`.

A signed-in logger is not a user: `request.user` stays anonymous and `request.auth` is the
DataLogger, so a logger's credentials open the ingest endpoint and nothing else (every other
endpoint authenticates users only). Device ids may contain colons; secrets (URL-safe tokens)
do not, so the header is split at its last colon.
"""

import hmac

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from ..models import DataLogger
from ..services.registry import hash_logger_secret, logger_secret_matches

KEYWORD = "Device"
HEADER_FORMAT = "Authorization: Device <device_id>:<secret>"


# Compared against when the device id is unknown, so an unknown logger costs the same hash
# and comparison as a known one with a wrong secret.
_DUMMY_SECRET_HASH = hash_logger_secret("no logger has this secret")


class DeviceAuthentication(BaseAuthentication):
    """An unknown logger and a wrong secret get the same 401 (same body, same work), so device
    ids cannot be probed; a switched-off logger, whose secret was right, is told so."""

    def authenticate(self, request):
        header = get_authorization_header(request)
        keyword, _space, credentials = header.partition(b" ")
        if keyword.lower() != KEYWORD.lower().encode():
            return None  # not a logger's header; the view says what it expects
        try:
            device_id, colon, secret = credentials.decode().strip().rpartition(":")
        except UnicodeDecodeError:
            colon = ""
        if not colon or not device_id or not secret:
            raise AuthenticationFailed(
                _("Malformed logger credentials; send %(format)s.") % {"format": HEADER_FORMAT}
            )
        logger = (
            DataLogger.objects.filter(device_id=device_id)
            .only("pk", "device_id", "secret_hash", "is_active")
            .first()
        )
        if logger is None:
            hmac.compare_digest(_DUMMY_SECRET_HASH, hash_logger_secret(secret))
            raise AuthenticationFailed(_("Unknown logger or wrong secret."))
        if not logger_secret_matches(logger, secret):
            raise AuthenticationFailed(_("Unknown logger or wrong secret."))
        if not logger.is_active:
            raise AuthenticationFailed(
                _("Logger “%(device_id)s” is switched off; a controller can switch it on again.")
                % {"device_id": device_id}
            )
        return AnonymousUser(), logger

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="loggers"'


class IsDataLogger(BasePermission):
    """Only a logger signed in with DeviceAuthentication (a user's session or token is not)."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, DataLogger)


class DeviceAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes the logger's header."""

    target_class = DeviceAuthentication
    name = "deviceAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _("Loggers: %(format)s") % {"format": HEADER_FORMAT},
        }
