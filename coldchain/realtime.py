"""Live pushes to the tracking screens, sent after commit.

Groups are named by the server: every controller's screen joins `coldchain.all`; a
co-operative manager's joins `coldchain.cooperative.<id>`, a market operator's
`coldchain.market.<id>`. An event about a shipment goes to the groups of its origin and
destination; one about a store to its site's.

A push is best effort (common/realtime.py): the event is in the database already, and a
screen that reconnects reloads its state from the API. So a push that fails (Redis down) is
logged, never raised: ingest keeps storing readings and raising alerts while the channel
layer is away.
"""

from common.realtime import push_after_commit, send_to_groups

from .models import Alert, ColdStore, Shipment, Site
from .selectors.alerts import alert_payload

ALL_GROUP = "coldchain.all"


def cooperative_group(cooperative_id: int) -> str:
    return f"coldchain.cooperative.{cooperative_id}"


def market_group(market_id: int) -> str:
    return f"coldchain.market.{market_id}"


def _site_groups(site: Site) -> set[str]:
    groups = set()
    if site.cooperative_id:
        groups.add(cooperative_group(site.cooperative_id))
    if site.market_id:
        groups.add(market_group(site.market_id))
    return groups


def groups_for_shipment(shipment: Shipment) -> list[str]:
    return sorted({ALL_GROUP} | _site_groups(shipment.origin) | _site_groups(shipment.destination))


def groups_for_store(store: ColdStore) -> list[str]:
    return sorted({ALL_GROUP} | _site_groups(store.site))


def groups_for_subject(subject: Shipment | ColdStore) -> list[str]:
    if isinstance(subject, Shipment):
        return groups_for_shipment(subject)
    return groups_for_store(subject)


def screen_event(event: str, payload: dict) -> dict:
    """The channel-layer message a screen's consumer forwards (coldchain.consumers)."""
    return {"type": "coldchain.event", "event": event, "payload": payload}


def send_now(groups: list[str], event: str, payload: dict) -> bool:
    """Send one event to the groups at once; False (logged) when the push failed."""
    return send_to_groups(groups, screen_event(event, payload))


def broadcast_on_commit(groups: list[str], event: str, payload: dict) -> None:
    push_after_commit(groups, screen_event(event, payload))


def push_alert(alert: Alert, *, event: str = "alert") -> None:
    """`alert` for a new alert, `alert.updated` when it grows, resolves or is acknowledged."""
    broadcast_on_commit(groups_for_subject(alert.subject), event, alert_payload(alert))


def shipment_payload(shipment: Shipment) -> dict:
    """The `shipment` event the screens receive when a shipment changes status."""
    return {
        "id": shipment.pk,
        "code": shipment.code,
        "status": shipment.status,
        "status_label": str(shipment.get_status_display()),
    }


def push_shipment(shipment: Shipment) -> None:
    """`shipment` to the screens of its origin and destination, once the move commits."""
    broadcast_on_commit(groups_for_shipment(shipment), "shipment", shipment_payload(shipment))
