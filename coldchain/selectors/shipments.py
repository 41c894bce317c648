"""Reads about shipments: a shipment with everything its page and the API show, whether a
handover is due, what has left for a site."""

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Prefetch, QuerySet

from accounts.models import User
from farms.models import HarvestLot
from farms.selectors import everywhere_hold_reason, held_everywhere

from ..choices import HANDOVER_OUTCOMES, SHIPMENT_MOVES, ShipmentStatus
from ..models import Alert, Handover, Shipment, ShipmentEvent, ShipmentLot
from .alerts import is_open
from .visibility import shipments_visible_to


def shipments_with_details(user: User) -> QuerySet[Shipment]:
    """The shipments the user sees, each with its lots (product, farm, remaining shelf life
    and `held_reason` when the lot is held everywhere), its recalled lots on board, its
    handovers, its status history (who moved it) and its alerts, newest first: what the
    shipment page and the API's shipment detail show, in a fixed number of queries."""
    return with_recalled_lots(shipments_visible_to(user)).prefetch_related(
        Prefetch(
            "lots",
            queryset=ShipmentLot.objects.select_related(
                "lot__product", "lot__farm", "lot__condition"
            )
            .annotate(held_reason=everywhere_hold_reason())
            .order_by("id"),
        ),
        Prefetch(
            "handovers",
            queryset=Handover.objects.select_related("recorded_by").order_by("recorded_at"),
        ),
        Prefetch("events", queryset=ShipmentEvent.objects.select_related("actor")),
        Prefetch(
            "alerts",
            queryset=Alert.objects.select_related("excursion").order_by("-raised_at", "-id"),
        ),
    )


def with_recalled_lots(shipments: QuerySet[Shipment]) -> QuerySet[Shipment]:
    """Annotate `recalled_lot_codes`: the codes of the lots on board that are held everywhere
    (a recall), by code, [] when none. Derived from farms' holds, so the flag goes up when a
    hold is placed and down when it is released, whatever the shipment's state."""
    on_board = (
        ShipmentLot.objects.filter(shipment=OuterRef("pk"))
        .filter(held_everywhere())
        .values("lot__lot_code")
        .distinct()
        .order_by("lot__lot_code")
    )
    return shipments.annotate(recalled_lot_codes=ArraySubquery(on_board))


def open_alerts_of(shipment: Shipment) -> list[Alert]:
    """Its alerts not yet both resolved and acknowledged (from the prefetch of
    shipments_with_details)."""
    return [alert for alert in shipment.alerts.all() if is_open(alert)]


def handover_due(shipment: Shipment, kind: str) -> bool:
    """Loading or unloading may be recorded now: the table (SHIPMENT_MOVES) allows the moves
    of its decisions from the shipment's status, and it has not been recorded yet. The one
    answer the service, the pages and the API share (handovers are read from a prefetch when
    there is one)."""
    outcomes = HANDOVER_OUTCOMES.get(kind)
    if not outcomes:
        return False
    if not all(SHIPMENT_MOVES.allows(shipment.status, status) for status in outcomes.values()):
        return False
    return all(handover.kind != kind for handover in shipment.handovers.all())


def lots_shipped_to(site) -> QuerySet[HarvestLot]:
    """Lots on shipments to `site` that have left (in transit or delivered): what may arrive
    there. Front warehouses receive such lots."""
    arrived = (ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED)
    return HarvestLot.objects.filter(
        pk__in=ShipmentLot.objects.filter(
            shipment__destination=site, shipment__status__in=arrived
        ).values("lot")
    )
