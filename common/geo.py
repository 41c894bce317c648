"""One model of distance and travel for the whole house: how far apart two points are, which
way one lies from another, the point at a distance and bearing, and how long a courier needs.

Points are (longitude, latitude) pairs in WGS 84 degrees, as GeoDjango's `Point.x`/`.y`.
The Earth is taken as a sphere of its mean radius: over a city the error against the
ellipsoid is a few metres in a kilometre, far below what a travel estimate can tell.

Travel: a courier rides at `speed_kmh` along streets, which are `detour_factor` times longer
than the straight line between two points. Both numbers are settings
(DELIVERY_COURIER_SPEED_KMH, DELIVERY_DETOUR_FACTOR), read by `delivery.rules`.
"""

import math

LonLat = tuple[float, float]

# The mean Earth radius (IUGG), in metres.
EARTH_RADIUS_M = 6_371_008.8


def metres_between(start: LonLat, end: LonLat) -> float:
    """Great-circle distance (haversine) between two points, in metres."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*start, *end))
    hav = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(hav)))


def bearing_degrees(start: LonLat, end: LonLat) -> float:
    """Compass bearing from `start` to `end`: 0 north, 90 east."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*start, *end))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(y, x)) % 360


def angle_between(first: float, second: float) -> float:
    """The smaller angle between two bearings, 0–180 degrees."""
    difference = abs(first - second) % 360
    return min(difference, 360 - difference)


def point_at(start: LonLat, *, metres: float, bearing: float) -> LonLat:
    """The point `metres` from `start` along the great circle leaving it at `bearing`
    (compass degrees)."""
    lon1, lat1 = map(math.radians, start)
    angle = metres / EARTH_RADIUS_M
    heading = math.radians(bearing)
    lat2 = math.asin(
        math.sin(lat1) * math.cos(angle) + math.cos(lat1) * math.sin(angle) * math.cos(heading)
    )
    lon2 = lon1 + math.atan2(
        math.sin(heading) * math.sin(angle) * math.cos(lat1),
        math.cos(angle) - math.sin(lat1) * math.sin(lat2),
    )
    return ((math.degrees(lon2) + 540) % 360 - 180, math.degrees(lat2))


def travel_minutes(metres: float, *, speed_kmh: float, detour_factor: float) -> float:
    """Minutes a courier needs to ride between two points `metres` apart in a straight line."""
    return metres * detour_factor / (speed_kmh * 1000 / 60)


def metres_covered(seconds: float, *, speed_kmh: float, detour_factor: float) -> float:
    """How much nearer, in straight-line metres, a courier riding for `seconds` gets to where
    he is going: the inverse of `travel_minutes`."""
    return seconds * speed_kmh / 3.6 / detour_factor
