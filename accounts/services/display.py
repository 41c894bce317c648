"""How pages are shown to a person: large text (适老化), remembered on her account."""

from ..models import User


def set_large_text(*, user: User, enabled: bool) -> User:
    """Turn large text on or off for the signed-in person; saving it again changes nothing."""
    if user.large_text != enabled:
        user.large_text = enabled
        user.save(update_fields=["large_text"])
    return user
