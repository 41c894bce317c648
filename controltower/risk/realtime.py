"""Live pushes of risk warnings to the control tower's panels, after commit.

The admins' and the whole country's regulators' panels join `tower.warnings`, a regulator
limited to an area joins that area's group (controltower.risk.consumers); a warning goes to
the first and to the groups of the areas it lies in (selectors.risk_scope). A message is {"type": "tower.warning", "event": …, "payload": the warning's JSON},
the event being `warning` (raised), `warning.updated` (acknowledged) or `warning.resolved`.
Best effort like every push (common.realtime): the warning is saved first, and a panel that
reconnects reloads the list.
"""

from common.realtime import push_after_commit

from ..models import RiskWarning
from ..selectors.risk import warning_payload
from ..selectors.risk_scope import groups_of

RAISED = "warning"
UPDATED = "warning.updated"
RESOLVED = "warning.resolved"


def tower_event(event: str, payload: dict) -> dict:
    return {"type": "tower.warning", "event": event, "payload": payload}


def push_warning(warning: RiskWarning, *, event: str) -> None:
    push_after_commit(groups_of(warning), tower_event(event, warning_payload(warning)))
