"""Reactions to Django's own auth signals (connected in AccountsConfig.ready).

Sign-out is a signal because Django's LogoutView and the API's token sign-out both send it:
one door for every way out.
"""

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from .realtime import close_user_sockets


@receiver(user_logged_out, dispatch_uid="accounts.close_sockets_on_sign_out")
def close_sockets_on_sign_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    session = getattr(request, "session", None)
    # A page sign-out ends one browser's session: only its sockets close. A token sign-out
    # names no session, and each socket checks its own sign-in.
    close_user_sockets(user.pk, session_key=session.session_key if session is not None else None)
