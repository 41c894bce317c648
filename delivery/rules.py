"""The numbers dispatch works with (offer time, search radius, travel model, batching limits),
read from settings at each call (tests change them); the couriers' speed, for a warehouse and
a moment, learned from its deliveries (`selectors.travel`)."""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings

from common import geo

if TYPE_CHECKING:
    from .models import FrontWarehouse


@dataclass(frozen=True)
class DispatchRules:
    """Travel times come from the house's one model (`common.geo.travel_minutes`):
    straight-line distance times `detour_factor` at `speed_kmh` (an e-bike in city traffic),
    plus `handling_minutes` at each stop (loading at the warehouse, handing over at a door).
    """

    offer_seconds: int
    candidates: int
    search_radius_m: float
    speed_kmh: float = 15.0
    detour_factor: float = 1.3
    handling_minutes: float = 2.0
    # How long a courier not yet known is reckoned to need to reach the warehouse.
    pickup_minutes: float = 5.0
    batch_max_orders: int = 3
    batch_max_angle_degrees: float = 45.0
    # A courier is not offered a task again for this long after his last offer of it ended
    # (declined, expired or withdrawn).
    reoffer_after_minutes: float = 5.0

    def travel_minutes(self, metres: float) -> float:
        """Minutes to ride between two points `metres` apart in a straight line."""
        return geo.travel_minutes(
            metres, speed_kmh=self.speed_kmh, detour_factor=self.detour_factor
        )


def current_rules(
    *, warehouse: "FrontWarehouse | None" = None, at: datetime | None = None
) -> DispatchRules:
    """The rules for dispatching from `warehouse` at `at`: its couriers' speed at that hour
    as learned from its deliveries (`selectors.travel.learned_line_speed`; the settings' model when
    the history is thin, learning is off, or no warehouse is named). Every estimate of a
    warehouse's promises (dispatch, its page's late risk, the consumer's expected arrival)
    takes its rules from here with the same warehouse, so they agree."""
    # Imported here: this module stays pure (importable before Django's apps are ready).
    from .selectors.travel import learned_line_speed

    detour = settings.DELIVERY_DETOUR_FACTOR
    speed_kmh = settings.DELIVERY_COURIER_SPEED_KMH
    if (learned := learned_line_speed(warehouse, at)) is not None:
        # The learned straight-line speed as a street speed over the settings' detour: the
        # same minutes for every distance (only their ratio enters `travel_minutes`).
        speed_kmh = learned * detour * 60 / 1000
    return DispatchRules(
        offer_seconds=settings.DELIVERY_OFFER_SECONDS,
        candidates=settings.DELIVERY_CANDIDATES,
        search_radius_m=settings.DELIVERY_SEARCH_RADIUS_M,
        speed_kmh=speed_kmh,
        detour_factor=detour,
        handling_minutes=settings.DELIVERY_HANDLING_MINUTES,
        pickup_minutes=settings.DELIVERY_PICKUP_MINUTES,
        batch_max_orders=settings.DELIVERY_BATCH_MAX_ORDERS,
        batch_max_angle_degrees=settings.DELIVERY_BATCH_MAX_ANGLE_DEGREES,
        reoffer_after_minutes=settings.DELIVERY_REOFFER_AFTER_MINUTES,
    )
