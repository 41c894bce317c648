"""The large-text switch (适老化) in every page's top bar: a POST, then back to the page."""

from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .display import LARGE_TEXT_COOKIE, LARGE_TEXT_COOKIE_SECONDS
from .services.display import set_large_text

CHOICES = {"1": True, "0": False}


@require_POST
def large_text(request):
    """large_text=1 turns it on, 0 off: on the account when signed in, and in a cookie (the
    pages before sign-in and after sign-out follow it too)."""
    choice = request.POST.get("large_text", "")
    if choice not in CHOICES:
        return HttpResponseBadRequest(_("Choose large text on (1) or off (0)."))
    if request.user.is_authenticated:
        set_large_text(user=request.user, enabled=CHOICES[choice])
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    response.set_cookie(
        LARGE_TEXT_COOKIE,
        choice,
        max_age=LARGE_TEXT_COOKIE_SECONDS,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response
