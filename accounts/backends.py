from django.contrib.auth.backends import ModelBackend

from .models import User
from .phone import normalize_phone


class PhoneOrUsernameBackend(ModelBackend):
    """Sign in with a mainland mobile number (any common spelling) or a username."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        phone = normalize_phone(username)
        lookup = {"phone": phone} if phone else {"username__iexact": username.strip()}
        try:
            user = User._default_manager.get(**lookup)
        except User.DoesNotExist:
            # Same work as a real check, so timing does not reveal which accounts exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
