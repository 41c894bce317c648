"""Which shipments carried a harvest lot, read as plain rows for traceability's trail."""

from collections.abc import Iterable

from django.db.models import F
from django.db.models.functions import Coalesce

from accounts.choices import Role
from accounts.models import User

from ..models import ShipmentLot, Site


def shipment_lots_of_lot(lot_id: int) -> list[tuple]:
    """(shipment id, departed (else planned) at, kilograms, shipment code, status, destination
    site name, planner's user id, marketplace order id or None, trade id or None) of every
    shipment that carried the lot, oldest first."""
    return list(
        ShipmentLot.objects.filter(lot_id=lot_id)
        .order_by("shipment__planned_departure_at", "shipment_id")
        .values_list(
            "shipment_id",
            Coalesce(F("shipment__departed_at"), F("shipment__planned_departure_at")),
            "quantity_kg",
            "shipment__code",
            "shipment__status",
            "shipment__destination__name",
            "shipment__planned_by_id",
            "order_id",
            "trade_id",
        )
    )


def coldchain_controller_ids() -> tuple[int, ...]:
    """The active cold-chain controllers: they watch every shipment."""
    return tuple(
        User.objects.filter(role=Role.COLDCHAIN_CONTROLLER, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def site_names(site_ids: Iterable[int]) -> dict[int, str]:
    """Each site's name (a shipment's destination), by site id."""
    return dict(Site.objects.filter(pk__in=set(site_ids)).values_list("pk", "name"))
