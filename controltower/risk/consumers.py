"""The risk warnings' live channel, ws/tower/warnings/: admins and regulators only.

The socket signs in with its session (config/asgi.py); the server puts it in the group of
its scope (the whole country's, or its area's: controltower.risk.realtime); the client only listens. Events arrive as group
messages of type "tower.warning" and go to the browser as {"type": event, "payload": …}.
A panel reloads GET /api/tower/warnings/ whenever it (re)connects.
"""

from channels.db import database_sync_to_async

from accounts.consumers import SIGNED_OUT, ListeningSocketConsumer

from ..selectors.risk import watches_tower
from ..selectors.risk_scope import WARNINGS_GROUP, area_group
from ..selectors.scope import scope_of

NOT_ALLOWED = 4403


class RiskWarningsConsumer(ListeningSocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=SIGNED_OUT)
            return
        if not await database_sync_to_async(watches_tower)(user):
            await self.close(code=NOT_ALLOWED)
            return
        scope = await database_sync_to_async(scope_of)(user)
        group = WARNINGS_GROUP if scope.area_id is None else area_group(scope.area_id)
        await self.join_and_accept(user, [group])

    async def tower_warning(self, event: dict) -> None:
        await self.send_json({"type": event["event"], "payload": event["payload"]})
