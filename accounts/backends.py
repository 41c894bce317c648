from django.contrib.auth.backends import ModelBackend

from .models import User, username_matches
from .phone import normalize_phone


def account_signing_in(typed: str) -> User | None:
    """The account a sign-in names: by mobile number in any spelling, else by username in
    any case (unique regardless of case, so at most one)."""
    phone = normalize_phone(typed)
    if phone:
        return User._default_manager.filter(phone=phone).first()
    return User._default_manager.filter(username_matches(typed.strip())).first()


class PhoneOrUsernameBackend(ModelBackend):
    """Sign in with a mainland mobile number (any common spelling) or a username."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = account_signing_in(username)
        if user is None:
            # Same work as a real check, so timing does not reveal which accounts exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
