from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from .consents import needs_consent
from .privacy import POLICY_VERSION

# What a browser fetches by itself for the page it shows: never a redirect to a form.
INSTALL_PATHS = ("/favicon.ico", "/manifest.webmanifest")


class FirstPasswordChangeMiddleware:
    """Someone signed in with a password another person set sees only the page that
    replaces it (and may sign out). The API refuses such a user in its authentication
    (accounts/api/authentication.py), so /api/ passes through here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self._is_open_path(request.path_info):
            user = request.user
            if user.is_authenticated and user.must_change_password:
                return redirect("accounts:password_change")
        return self.get_response(request)

    @staticmethod
    def _is_open_path(path: str) -> bool:
        open_paths = (reverse("accounts:password_change"), reverse("accounts:sign_out"))
        open_prefixes = (
            "/api/",
            "/i18n/",
            "/healthz",
            settings.STATIC_URL,
            settings.MEDIA_URL,
            *INSTALL_PATHS,
        )
        return path in open_paths or path.startswith(open_prefixes)


class ConsentMiddleware:
    """A signed-in person who has not agreed to POLICY_VERSION is shown the consent page
    instead of the page she opens (a GET: a form she is posting is never lost), until she
    agrees; once she has, her session remembers it and the check costs nothing. The API,
    sign-out, the policy itself, the admin and static files pass; an API client's consent is
    asked on the site."""

    SESSION_KEY = "consented_policy_version"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            request.method in ("GET", "HEAD")
            and user.is_authenticated
            and request.session.get(self.SESSION_KEY) != POLICY_VERSION
            and not self._is_open_path(request.path_info)
        ):
            if needs_consent(user):
                target = reverse("accounts:consent")
                return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
            request.session[self.SESSION_KEY] = POLICY_VERSION
        return self.get_response(request)

    @staticmethod
    def _is_open_path(path: str) -> bool:
        open_paths = (
            reverse("accounts:consent"),
            reverse("accounts:privacy_policy"),
            reverse("accounts:sign_out"),
            reverse("accounts:password_change"),
        )
        open_prefixes = (
            "/api/",
            "/i18n/",
            "/healthz",
            "/admin/",
            settings.STATIC_URL,
            settings.MEDIA_URL,
            *INSTALL_PATHS,
        )
        return path in open_paths or path.startswith(open_prefixes)
