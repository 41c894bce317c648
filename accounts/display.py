"""Large text (适老化): read from the account when signed in, from a cookie otherwise, so a
visitor's choice holds before she signs in (and after she signs out)."""

from django.http import HttpRequest

LARGE_TEXT_COOKIE = "large_text"
LARGE_TEXT_COOKIE_SECONDS = 365 * 24 * 3600


def wants_large_text(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bool(user.large_text)
    return request.COOKIES.get(LARGE_TEXT_COOKIE) == "1"
