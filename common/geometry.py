"""Boundaries and locations as they enter (a farm's field, a listing's pickup point):
GeoJSON, or "longitude,latitude" text.

Coordinates are WGS 84 (SRID 4326), longitude first. A map showing GCJ-02 (the offset
datum of Chinese map services) must convert before its points are sent here.

GeoJSON is read here in plain Python and never handed to GDAL, and a "crs" member is
refused: RFC 7946 dropped it, and GDAL would follow it to files or URLs. The settings
silence check gis.W001 on that promise.
"""

import json
import math
from typing import Any

from django.contrib.gis.geos import LinearRing, Point, Polygon
from django.utils.translation import gettext as _

from common.exceptions import InvalidBoundary, InvalidLocation

# Mainland China, Hainan and Taiwan: west, south, east, north (degrees).
CHINA_BOUNDS = (73.5, 18.1, 135.1, 53.6)
MAX_GEOJSON_CHARACTERS = 500_000
MAX_BOUNDARY_VERTICES = 10_000


def is_in_china(longitude: float, latitude: float) -> bool:
    west, south, east, north = CHINA_BOUNDS
    return west <= longitude <= east and south <= latitude <= north


def _outside_china_message() -> str:
    west, south, east, north = CHINA_BOUNDS
    return _(
        "Every point must lie in China (longitude %(west)s to %(east)s, latitude %(south)s "
        "to %(north)s); GeoJSON puts longitude first."
    ) % {"west": west, "east": east, "south": south, "north": north}


def _load_json(value: str | dict, error: type[Exception]) -> Any:
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise error(_("Enter GeoJSON text or a GeoJSON object."))
    if len(value) > MAX_GEOJSON_CHARACTERS:
        raise error(_("The GeoJSON is too large."))
    try:
        return json.loads(value)
    except ValueError as exc:
        raise error(_("This is not valid JSON.")) from exc


def _refuse_crs(geojson_object: dict, error: type[Exception]) -> None:
    if "crs" in geojson_object:
        raise error(
            _(
                'Remove the "crs" member: coordinates must be WGS 84 longitude and latitude '
                "(RFC 7946)."
            )
        )


def _single_geometry(document: Any, error: type[Exception], expected: str) -> dict:
    """The one geometry of a geometry, a Feature or a FeatureCollection of one Feature."""
    if not isinstance(document, dict):
        raise error(_("Enter a GeoJSON object."))
    _refuse_crs(document, error)
    kind = document.get("type")
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list) or len(features) != 1:
            raise error(_("Send exactly one feature, a %(type)s.") % {"type": expected})
        document = features[0]
        if not isinstance(document, dict):
            raise error(_("Enter a GeoJSON object."))
        _refuse_crs(document, error)
        kind = document.get("type")
    if kind == "Feature":
        geometry = document.get("geometry")
        if not isinstance(geometry, dict):
            raise error(_("The feature has no geometry."))
        _refuse_crs(geometry, error)
        document = geometry
        kind = document.get("type")
    if kind != expected:
        raise error(
            _("Expected a %(expected)s, not a %(found)s.")
            % {"expected": expected, "found": kind if isinstance(kind, str) else "?"}
        )
    return document


def _position(value: Any, error: type[Exception]) -> tuple[float, float]:
    """(longitude, latitude) from a GeoJSON position; an altitude is ignored."""
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise error(_("A position is [longitude, latitude]."))
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in value):
        raise error(_("Coordinates must be numbers."))
    longitude, latitude = float(value[0]), float(value[1])
    if not (math.isfinite(longitude) and math.isfinite(latitude)):
        raise error(_("Coordinates must be numbers."))
    return longitude, latitude


def _ring(value: Any) -> LinearRing:
    if not isinstance(value, list) or len(value) < 4:
        raise InvalidBoundary(_("A polygon ring needs at least four positions."))
    positions = [_position(item, InvalidBoundary) for item in value]
    if positions[0] != positions[-1]:
        raise InvalidBoundary(_("A polygon ring must end where it starts."))
    return LinearRing(positions, srid=4326)


def parse_boundary(value: str | dict) -> Polygon:
    """A valid polygon in China from GeoJSON text or object; InvalidBoundary otherwise.

    Takes a Polygon geometry, a Feature with one, or a FeatureCollection of one such Feature.
    """
    geometry = _single_geometry(_load_json(value, InvalidBoundary), InvalidBoundary, "Polygon")
    rings = geometry.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise InvalidBoundary(_("The polygon has no coordinates."))
    if sum(len(ring) for ring in rings if isinstance(ring, list)) > MAX_BOUNDARY_VERTICES:
        raise InvalidBoundary(
            _("The boundary has more than %(limit)s points.") % {"limit": MAX_BOUNDARY_VERTICES}
        )
    polygon = Polygon(*[_ring(ring) for ring in rings], srid=4326)
    return validate_boundary(polygon)


def validate_boundary(polygon: Polygon) -> Polygon:
    """The polygon itself, if it is a valid polygon with every vertex in China."""
    if not isinstance(polygon, Polygon) or polygon.empty:
        raise InvalidBoundary(_("The boundary must be a polygon."))
    if polygon.srid not in (None, 4326):
        raise InvalidBoundary(_("The boundary must be in WGS 84 longitude and latitude."))
    for ring in polygon:
        if not all(is_in_china(longitude, latitude) for longitude, latitude, *_z in ring.coords):
            raise InvalidBoundary(_outside_china_message())
    if not polygon.valid:
        raise InvalidBoundary(
            _(
                "The boundary is not a valid polygon: its edges must not cross or touch "
                "each other (%(reason)s)."
            )
            % {"reason": polygon.valid_reason}
        )
    if polygon.srid is None:
        polygon.srid = 4326
    return polygon


def parse_location(value: str | dict) -> Point:
    """A point in China from "longitude,latitude" text or a GeoJSON Point."""
    if isinstance(value, str) and not value.lstrip().startswith("{"):
        parts = [part.strip() for part in value.replace("，", ",").split(",")]
        try:
            longitude, latitude = (float(part) for part in parts)
        except ValueError as exc:
            raise InvalidLocation(_("Enter longitude,latitude, e.g. 118.79,36.86.")) from exc
        if not (math.isfinite(longitude) and math.isfinite(latitude)):
            raise InvalidLocation(_("Enter longitude,latitude, e.g. 118.79,36.86."))
    else:
        geometry = _single_geometry(_load_json(value, InvalidLocation), InvalidLocation, "Point")
        longitude, latitude = _position(geometry.get("coordinates"), InvalidLocation)
    return validate_location(Point(longitude, latitude, srid=4326))


def validate_location(point: Point) -> Point:
    if not isinstance(point, Point) or point.empty:
        raise InvalidLocation(_("The location must be a point."))
    if point.srid not in (None, 4326):
        raise InvalidLocation(_("The location must be in WGS 84 longitude and latitude."))
    if not is_in_china(point.x, point.y):
        raise InvalidLocation(_outside_china_message())
    if point.srid is None:
        point.srid = 4326
    return point
