from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .realtime import user_group_name


class UserEventsConsumer(AsyncJsonWebsocketConsumer):
    """The signed-in user's own live events; the group is named by the server, not the client."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group_name = user_group_name(user.pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        # Clients only listen here; a ping keeps proxies from closing an idle socket.
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def user_event(self, event: dict) -> None:
        await self.send_json({"type": event["event"], "payload": event["payload"]})
