"""One shape for every status that moves: a transition table, a check that refuses any other
move, and an abstract event row that records each move (who, when, from, to, why).

An app declares its table next to its choices and its event model next to the model:

    ORDER_MOVES = Transitions({PLACED: {PACKED, CANCELLED}, PACKED: {...}, ...})

    class DeliveryOrderEvent(StatusEvent):
        order = models.ForeignKey(DeliveryOrder, related_name="events", ...)

and its services move a row with `ORDER_MOVES.check(order.status, new)` followed by the write
and the event, in one transaction (see `delivery/services/...` and `coldchain/services/...`).
"""

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from common.exceptions import InvalidTransition


class Transitions:
    """A transition table: for each status, the statuses it may move to. Statuses missing
    from the table are final."""

    def __init__(self, table: Mapping[str, Iterable[str]]):
        self.table: dict[str, frozenset[str]] = {
            str(current): frozenset(str(status) for status in allowed)
            for current, allowed in table.items()
        }

    def allows(self, current: str, requested: str) -> bool:
        return str(requested) in self.table.get(str(current), frozenset())

    def check(
        self, current: str, requested: str, *, error: type[InvalidTransition] = InvalidTransition
    ) -> None:
        """Refuse a move the table does not allow, with the app's own refusal class."""
        if not self.allows(current, requested):
            raise error(current=str(current), requested=str(requested))

    def next_statuses(self, current: str) -> frozenset[str]:
        return self.table.get(str(current), frozenset())


class StatusEvent(models.Model):
    """One move of a status (abstract): the concrete model adds the foreign key to what moved
    and narrows the status fields' choices."""

    from_status = models.CharField(_("from"), max_length=24, blank=True)
    to_status = models.CharField(_("to"), max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the platform acted (an expiry, a sweep, dispatch)."),
    )
    reason = models.CharField(_("why"), max_length=300, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]
