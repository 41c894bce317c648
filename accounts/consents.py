"""Whether a person has agreed to the privacy policy in force, and the light check that asks
her once after a new version (ConsentMiddleware)."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from .models import Consent, User
from .privacy import POLICY_VERSION


def needs_consent(user: User) -> bool:
    return not Consent.objects.filter(user=user, policy_version=POLICY_VERSION).exists()


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
        )
        return path in open_paths or path.startswith(open_prefixes)
