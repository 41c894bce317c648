"""The tracking screens' live channel, ws/coldchain/.

A screen signs in with its session (AuthMiddlewareStack in config/asgi.py). The server picks
its groups from who the user is (coldchain/realtime.py names them): every controller's and
admin's screen joins the group of everything, a co-operative manager's that of her
co-operative, a market operator's that of her market. Events arrive as group messages of
type "coldchain.event" and go to the browser as {"type": event, "payload": payload}.

Pushes are best effort: a screen reloads GET /api/coldchain/screen/ whenever it (re)connects.
"""

from channels.db import database_sync_to_async

from accounts.choices import Role
from accounts.consumers import SIGNED_OUT, ListeningSocketConsumer
from accounts.permissions import user_has_role
from farms.selectors import cooperative_managed_by
from marketplace.markets.selectors.days import staff_post_of

from . import realtime
from .selectors.visibility import SCREEN_ROLES, sees_everything

NOT_SIGNED_IN = SIGNED_OUT
NOT_ALLOWED = 4403


def screen_groups_for(user) -> list[str] | None:
    """The groups a user's screen listens to; None for a user who has no screen.

    A co-operative manager without a co-operative (or an operator without a market) has a
    screen with nothing on it, like the API's empty lists."""
    if not user_has_role(user, *SCREEN_ROLES):
        return None
    if sees_everything(user):
        return [realtime.ALL_GROUP]
    groups = []
    cooperative = cooperative_managed_by(user)
    if cooperative is not None:
        groups.append(realtime.cooperative_group(cooperative.pk))
    post = staff_post_of(user) if user.role == Role.MARKET_OPERATOR else None
    if post is not None:
        groups.append(realtime.market_group(post.market_id))
    return groups


class ColdChainScreenConsumer(ListeningSocketConsumer):
    """Forwards the cold chain's live events to a screen; the client only listens. Closed
    when its user signs out or is deactivated (accounts.consumers)."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=NOT_SIGNED_IN)
            return
        groups = await database_sync_to_async(screen_groups_for)(user)
        if groups is None:
            await self.close(code=NOT_ALLOWED)
            return
        # Not `self.groups`: Channels joins those by itself, before this method runs.
        await self.join_and_accept(user, groups)

    async def coldchain_event(self, event: dict) -> None:
        await self.send_json({"type": event["event"], "payload": event["payload"]})
