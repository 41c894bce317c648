"""Per-user live channels: group names and the pushes to one person.

Any app's service pushes to one person with `push_to_user_after_commit(…)` (best effort,
see common/realtime.py). Every socket of a user also joins `user_sockets_group_name`, through
which the server closes them all when she signs out or is deactivated.
"""

from common.realtime import push_after_commit, send_to_groups


def user_group_name(user_id: int) -> str:
    return f"user.{user_id}"


def user_sockets_group_name(user_id: int) -> str:
    """Every WebSocket of the user, whatever screen it feeds (accounts.consumers)."""
    return f"user.{user_id}.sockets"


def user_event(event: str, payload: dict) -> dict:
    """The channel-layer message that brings `event` to a user's screens."""
    return {"type": "user.event", "event": event, "payload": payload}


def push_to_user(user_id: int, event: str, payload: dict) -> bool:
    """Send one event to every open screen of a user now; False when the push failed."""
    return send_to_groups([user_group_name(user_id)], user_event(event, payload))


def push_to_user_after_commit(user_id: int, event: str, payload: dict) -> None:
    """The same once the caller's transaction commits; a screen that missed it reloads it."""
    push_after_commit([user_group_name(user_id)], user_event(event, payload))


def close_user_sockets(
    user_id: int, *, session_key: str | None = None, every: bool = False
) -> None:
    """After commit, close the user's sockets: those of `session_key` (a sign-out), or with
    none given, every socket whose sign-in no longer holds (deactivation, an API sign-out).
    `every=True` closes them all, signed in or not (a role change: each socket joined the
    groups of the old role, so it reconnects and is authorised again for the new one)."""
    push_after_commit(
        [user_sockets_group_name(user_id)],
        {"type": "user.sockets.close", "session_key": session_key, "every": every},
    )
