"""The numbers dispatch works with (offer time, search radius, speed, batching limits)."""

from dataclasses import dataclass

from django.conf import settings

# Streets are longer than the straight line between two points of a city.
DETOUR_FACTOR = 1.3


@dataclass(frozen=True)
class DispatchRules:
    """The numbers dispatch works with, read from settings at each call (tests change them).

    Travel times come from a simple speed model: straight-line distance times a detour factor
    at `speed_kmh` (an e-bike in city traffic), plus `handling_minutes` at each stop (loading
    at the warehouse, handing over at a door).
    """

    offer_seconds: int
    candidates: int
    search_radius_m: float
    speed_kmh: float = 15.0
    handling_minutes: float = 2.0
    # How long a courier not yet known is reckoned to need to reach the warehouse.
    pickup_minutes: float = 5.0
    batch_max_orders: int = 3
    batch_max_angle_degrees: float = 45.0
    # A courier is not offered a task again for this long after his last offer of it ended
    # (declined, expired or withdrawn).
    reoffer_after_minutes: float = 5.0

    def travel_minutes(self, metres: float) -> float:
        return metres * DETOUR_FACTOR / (self.speed_kmh * 1000 / 60)


def current_rules() -> DispatchRules:
    return DispatchRules(
        offer_seconds=settings.DELIVERY_OFFER_SECONDS,
        candidates=settings.DELIVERY_CANDIDATES,
        search_radius_m=settings.DELIVERY_SEARCH_RADIUS_M,
        speed_kmh=float(getattr(settings, "DELIVERY_COURIER_SPEED_KMH", 15)),
        handling_minutes=float(getattr(settings, "DELIVERY_HANDLING_MINUTES", 2)),
        pickup_minutes=float(getattr(settings, "DELIVERY_PICKUP_MINUTES", 5)),
        batch_max_orders=int(getattr(settings, "DELIVERY_BATCH_MAX_ORDERS", 3)),
        batch_max_angle_degrees=float(getattr(settings, "DELIVERY_BATCH_MAX_ANGLE_DEGREES", 45)),
        reoffer_after_minutes=float(getattr(settings, "DELIVERY_REOFFER_AFTER_MINUTES", 5)),
    )
