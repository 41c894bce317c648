from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse


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
        open_prefixes = ("/api/", "/i18n/", "/healthz", settings.STATIC_URL, settings.MEDIA_URL)
        return path in open_paths or path.startswith(open_prefixes)
