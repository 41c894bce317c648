"""Live pushes over the channel layer, sent after commit and best effort, for every app.

What a push announces is in the database already, and a screen that (re)connects reloads its
state, so a push that fails (Redis down or slow) is logged as one warning line and never
raised: a request whose transaction committed answers its success, a task does not retry
work it finished. The apps' own realtime modules name the groups and build the payloads;
this module only sends.
"""

import logging
from collections.abc import Iterable
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def send_to_groups(groups: Iterable[str], message: dict) -> bool:
    """Send `message` to each group now; False (and one logged warning) when it failed."""
    groups = list(groups)
    try:
        layer = get_channel_layer()
        for group in groups:
            async_to_sync(layer.group_send)(group, message)
    except Exception as error:  # any layer failure: the database has it all, screens refetch
        logger.warning(
            "push %s to %s failed: %s: %s",
            message.get("event", message.get("type")),
            ", ".join(groups),
            type(error).__name__,
            error,
        )
        return False
    return True


def send_many(messages: Iterable[tuple[str, dict]]) -> int:
    """Send each (group, message) now over one event loop and layer connection, in order;
    returns how many were sent. Best effort like send_to_groups: the first failure is logged
    as one warning line and the rest are skipped (the layer is away; screens refetch)."""
    messages = list(messages)
    sent = [0]

    async def send_all() -> None:
        layer = get_channel_layer()
        for group, message in messages:
            await layer.group_send(group, message)
            sent[0] += 1

    try:
        async_to_sync(send_all)()
    except Exception as error:  # any layer failure: the database has it all, screens refetch
        logger.warning(
            "push failed after %s of %s messages: %s: %s",
            sent[0],
            len(messages),
            type(error).__name__,
            error,
        )
    return sent[0]


def push_after_commit(groups: Iterable[str], message: dict) -> None:
    """Send `message` to `groups` once the current transaction commits (at once outside one).

    Nothing is sent for a transaction that rolls back; a failed send is logged, never raised.
    """
    # robust: should anything escape send_to_groups, the other after-commit work still runs.
    transaction.on_commit(partial(send_to_groups, list(groups), message), robust=True)


async def leave_groups(layer, groups: Iterable[str], channel_name: str) -> None:
    """Leave `groups` as a socket closes; a layer that is down or slow is logged, not raised.

    A membership left behind does no harm: channels_redis drops it after its group expiry,
    and a message sent to a closed channel expires unread.
    """
    for group in groups:
        try:
            await layer.group_discard(group, channel_name)
        except Exception as error:
            logger.warning(
                "leaving %s on disconnect failed: %s: %s", group, type(error).__name__, error
            )
            return  # the layer is away: the other groups would fail the same way, slowly
