"""Where a listing is picked up, as each viewer may see it.

A pickup point is often a smallholder's home. Only the seller's side (the farmer, a
manager of her co-operative, a platform admin) and the buyer of an accepted (or later)
order of the listing see it exactly; everyone else sees it snapped to a grid of 0.01°
(about 1 km), and a distance measured from the snapped point, rounded to 0.5 km, so that
distances from many places cannot pin the exact point down. Searching by distance still
uses the exact point, on the server.
"""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.gis.db.models import GeometryField, PointField
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.db.models import Func, Value
from django.db.models.functions import Cast

from accounts.models import User
from accounts.permissions import is_admin
from farms.selectors import farms_visible_to
from marketplace.choices import OrderStatus
from marketplace.models import Listing, OrderLine

GRID_DEGREES = 0.01
DISTANCE_STEP_KM = Decimal("0.5")
# From acceptance on, the buyer is expected at the pickup point.
ORDERS_SHOWING_EXACT_POINT = (
    OrderStatus.ACCEPTED,
    OrderStatus.READY,
    OrderStatus.AWAITING_BUYER,
    OrderStatus.HANDED_OVER,
    OrderStatus.COMPLETED,
)


def approximate_lon_lat(longitude: float, latitude: float) -> tuple[float, float]:
    """A point snapped to the 0.01° grid, as PostGIS's ST_SnapToGrid does in SQL."""
    return round(longitude, 2), round(latitude, 2)


def approximate_point(point: Point) -> Point:
    return Point(*approximate_lon_lat(point.x, point.y), srid=4326)


def approximate_distance_to(point: Point) -> Distance:
    """SQL: the geodesic distance from `point` to each listing's snapped pickup point."""
    snapped = Func(
        Cast("pickup_point", GeometryField(srid=4326)),
        Value(GRID_DEGREES),
        function="ST_SnapToGrid",
        output_field=GeometryField(srid=4326),
    )
    return Distance(Cast(snapped, PointField(geography=True, srid=4326)), point)


def listings_with_exact_pickup_for(user: User, listings: Iterable[Listing]) -> set[int]:
    """Ids of those listings whose exact pickup point this user may see."""
    ids = [listing.pk for listing in listings]
    if not ids or not (user and user.is_authenticated and user.is_active):
        return set()
    sees_all, own = exact_pickup_beyond_orders(user, ids)
    if sees_all:
        return set(ids)
    ordered = OrderLine.objects.filter(
        listing_id__in=ids, order__buyer=user, order__status__in=ORDERS_SHOWING_EXACT_POINT
    ).values_list("listing_id", flat=True)
    return own | set(ordered)


def exact_pickup_beyond_orders(user: User, ids: list[int]) -> tuple[bool, set[int]]:
    """Whether this user sees every exact pickup point (an admin), and else which of these
    listings are her side's (her farms', her co-operative's); what she bought is the other
    half of the rule (`listings_with_exact_pickup_for`). No query for a buyer."""
    if not (user and user.is_authenticated and user.is_active):
        return False, set()
    if is_admin(user):
        return True, set()
    farms = farms_visible_to(user)
    if farms.query.is_empty():
        return False, set()
    own = Listing.objects.filter(pk__in=ids, lot__farm__in=farms.values("pk"))
    return False, set(own.values_list("pk", flat=True))


def pickup_point_shown(listing: Listing, *, exact: bool) -> Point:
    return listing.pickup_point if exact else approximate_point(listing.pickup_point)


def distance_shown_km(listing: Listing, *, exact: bool) -> Decimal | None:
    """The distance a search result shows, in km to the nearest 0.5; None without `near`."""
    distance = getattr(listing, "distance" if exact else "approximate_distance", None)
    return None if distance is None else km_shown(distance.m)


def km_shown(metres: float) -> Decimal:
    """A distance as results show it: in km, to the nearest 0.5."""
    steps = (Decimal(metres / 1000) / DISTANCE_STEP_KM).quantize(Decimal(1), ROUND_HALF_UP)
    return (steps * DISTANCE_STEP_KM).quantize(Decimal("0.1"))
