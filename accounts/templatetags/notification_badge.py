from django import template

from accounts.notifications import unread_count

register = template.Library()


@register.simple_tag
def unread_notifications(user) -> int:
    """The top bar's badge: how many of the user's notifications are unread."""
    if not (user and user.is_authenticated):
        return 0
    return unread_count(user)
