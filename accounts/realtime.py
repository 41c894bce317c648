"""Per-user live channel: group names and the after-commit push helper.

Any app's service pushes to one person with `transaction.on_commit(partial(push_to_user, …))`.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def user_group_name(user_id: int) -> str:
    return f"user.{user_id}"


def push_to_user(user_id: int, event: str, payload: dict) -> None:
    """Send one event to every open screen of a user; a screen that missed it reloads it."""
    async_to_sync(get_channel_layer().group_send)(
        user_group_name(user_id),
        {"type": "user.event", "event": event, "payload": payload},
    )
