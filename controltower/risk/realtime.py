"""Live pushes of risk warnings to the control tower's panels, after commit.

Every admin's and regulator's panel joins one group, `tower.warnings` (controltower.risk.
consumers). A message is {"type": "tower.warning", "event": …, "payload": the warning's JSON},
the event being `warning` (raised), `warning.updated` (acknowledged) or `warning.resolved`.
Best effort like every push (common.realtime): the warning is saved first, and a panel that
reconnects reloads the list.
"""

from common.realtime import push_after_commit

from ..models import RiskWarning
from ..selectors.risk import warning_payload

WARNINGS_GROUP = "tower.warnings"
RAISED = "warning"
UPDATED = "warning.updated"
RESOLVED = "warning.resolved"


def tower_event(event: str, payload: dict) -> dict:
    return {"type": "tower.warning", "event": event, "payload": payload}


def push_warning(warning: RiskWarning, *, event: str) -> None:
    push_after_commit([WARNINGS_GROUP], tower_event(event, warning_payload(warning)))
