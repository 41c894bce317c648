"""WebSockets of signed-in users: the base every app's consumer builds on, and ws/me/.

Every socket of a user joins her sockets group (accounts.realtime), through which the
server closes it when she signs out or is deactivated; groups are named by the server,
never by the client.
"""

import json

from channels.auth import get_user
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from common.realtime import leave_groups

from .realtime import user_group_name, user_sockets_group_name

SIGNED_OUT = 4401  # static/js/live.js does not reconnect after it
ROLE_CHANGED = 4409  # live.js reconnects, and connect() authorises the new role


class SignedInSocketConsumer(AsyncJsonWebsocketConsumer):
    """A socket of one signed-in user, closed when her sign-in ends."""

    async def join_and_accept(self, user, groups: list[str]) -> None:
        # Recorded before joining: a join that timed out may still have been applied.
        self.joined_groups = [user_sockets_group_name(user.pk), *groups]
        for group in self.joined_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await leave_groups(
            self.channel_layer, getattr(self, "joined_groups", ()), self.channel_name
        )

    async def user_sockets_close(self, event: dict) -> None:
        """The user signed out or was deactivated (accounts.realtime.close_user_sockets).

        An event naming a session closes the sockets of that session; one naming none has
        each socket check its own sign-in (its user still active, its session still hers);
        one with `every` (a role change) closes them all for a reconnect.
        """
        if event.get("every"):
            await self.close(code=ROLE_CHANGED)
            return
        session = self.scope.get("session")
        own_key = session.session_key if session is not None else None
        if event.get("session_key") is not None:
            if event["session_key"] == own_key:
                await self.close(code=SIGNED_OUT)
            return
        user = await get_user(self.scope)
        if not user.is_authenticated:
            await self.close(code=SIGNED_OUT)


class ListeningSocketConsumer(SignedInSocketConsumer):
    """A socket whose client only listens: a ping (which keeps proxies from closing an idle
    socket) is answered, a garbled frame ignored rather than allowed to close it, and
    nothing else is heard."""

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return json.loads(text_data)
        except ValueError:
            return {}

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})


class UserEventsConsumer(SignedInSocketConsumer):
    """The signed-in user's own live events; the group is named by the server, not the client."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=SIGNED_OUT)
            return
        await self.join_and_accept(user, [user_group_name(user.pk)])

    async def receive_json(self, content, **kwargs) -> None:
        # Clients only listen here; a ping keeps proxies from closing an idle socket.
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def user_event(self, event: dict) -> None:
        await self.send_json({"type": event["event"], "payload": event["payload"]})
