"""API authentication: knox tokens (stored hashed, expiring) and the browser session.

Both refuse, with 403 and a message saying what to do, a user who must first replace a
password someone else set, except on the views that let her do it (or sign out).
"""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox import auth as knox_auth
from knox.signals import token_expired
from rest_framework import authentication, exceptions


class PasswordChangeRequired(exceptions.PermissionDenied):
    default_detail = _(
        "Your password was set by someone else: choose your own first (POST /api/auth/password/)."
    )
    default_code = "password_change_required"


class FirstPasswordGateMixin:
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and result[0].must_change_password:
            view = request.parser_context.get("view")
            if not getattr(view, "open_before_password_change", False):
                raise PasswordChangeRequired
        return result


class TokenAuthentication(FirstPasswordGateMixin, knox_auth.TokenAuthentication):
    """`Authorization: Token <key>`, the key from POST /api/auth/token/."""

    def _cleanup_token(self, auth_token) -> bool:
        """Refuse (and delete) the token if it has expired. knox would also read all the
        user's other tokens to delete the expired ones, one more query on every request;
        an expired token is refused by this same check, and `issue_api_token` deletes the
        user's expired tokens when it issues a new one."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class SessionAuthentication(FirstPasswordGateMixin, authentication.SessionAuthentication):
    """The browser's session, for the pages' own calls."""


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = SessionAuthentication
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
