import json

import pytest
from django.contrib.gis.geos import Point, Polygon
from django.utils import translation

from common.exceptions import InvalidBoundary, InvalidLocation
from common.geometry import parse_boundary, parse_location, validate_boundary

FIELD = [[118.79, 36.86], [118.80, 36.86], [118.80, 36.87], [118.79, 36.87], [118.79, 36.86]]


def polygon(ring=FIELD) -> dict:
    return {"type": "Polygon", "coordinates": [ring]}


def test_polygon_geojson_text_becomes_a_wgs84_polygon():
    boundary = parse_boundary(json.dumps(polygon()))

    assert isinstance(boundary, Polygon)
    assert boundary.srid == 4326
    assert boundary.exterior_ring.coords[1] == (118.80, 36.86)


def test_feature_and_feature_collection_of_one_polygon_are_accepted():
    feature = {"type": "Feature", "properties": {"name": "东地"}, "geometry": polygon()}
    collection = {"type": "FeatureCollection", "features": [feature]}

    assert parse_boundary(feature).equals(parse_boundary(collection))


def test_polygon_with_a_hole_is_accepted():
    hole = [
        [118.792, 36.862],
        [118.792, 36.864],
        [118.794, 36.864],
        [118.794, 36.862],
        [118.792, 36.862],
    ]

    boundary = parse_boundary({"type": "Polygon", "coordinates": [FIELD, hole]})

    assert len(boundary) == 2


def test_self_intersecting_bow_tie_is_refused_with_the_reason():
    bow_tie = [[118.79, 36.86], [118.80, 36.87], [118.80, 36.86], [118.79, 36.87], [118.79, 36.86]]

    with pytest.raises(InvalidBoundary) as refusal:
        parse_boundary(polygon(bow_tie))

    assert refusal.value.field == "boundary"
    assert "Self-intersection" in str(refusal.value.message)


def test_point_instead_of_polygon_is_refused():
    with pytest.raises(InvalidBoundary) as refusal:
        parse_boundary({"type": "Point", "coordinates": [118.79, 36.86]})

    assert "Point" in str(refusal.value.message)


@pytest.mark.parametrize(
    "document",
    [
        {"type": "MultiPolygon", "coordinates": [[FIELD]]},
        {"type": "FeatureCollection", "features": []},
        {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": polygon()}] * 2},
        {"type": "Feature", "geometry": None},
        {"type": "Polygon", "coordinates": [FIELD[:3]]},
        {"type": "Polygon", "coordinates": [[*FIELD[:-1], [118.791, 36.86]]]},
        {"type": "Polygon", "coordinates": [[["118.79", 36.86], *FIELD[1:]]]},
        {"type": "Polygon", "coordinates": []},
        [1, 2, 3],
        "{not json",
    ],
    ids=[
        "multipolygon",
        "empty collection",
        "two features",
        "feature without geometry",
        "too few positions",
        "ring not closed",
        "coordinate as text",
        "no rings",
        "not an object",
        "not json",
    ],
)
def test_malformed_boundaries_are_refused(document):
    with pytest.raises(InvalidBoundary):
        parse_boundary(document if isinstance(document, str) else json.dumps(document))


def test_vertex_outside_china_is_refused():
    tokyo = [[139.69, 35.68], [139.70, 35.68], [139.70, 35.69], [139.69, 35.69], [139.69, 35.68]]

    with translation.override("en"), pytest.raises(InvalidBoundary) as refusal:
        parse_boundary(polygon(tokyo))

    with translation.override("en"):
        assert "China" in str(refusal.value.message)


def test_latitude_first_coordinates_fall_outside_china_and_are_refused():
    swapped = [[lat, lon] for lon, lat in FIELD]

    with pytest.raises(InvalidBoundary):
        parse_boundary(polygon(swapped))


@pytest.mark.parametrize("level", ["collection", "feature", "geometry"])
def test_geojson_carrying_a_crs_member_is_refused(level):
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    geometry = polygon()
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    collection = {"type": "FeatureCollection", "features": [feature]}
    {"collection": collection, "feature": feature, "geometry": geometry}[level]["crs"] = crs

    with translation.override("en"), pytest.raises(InvalidBoundary) as refusal:
        parse_boundary(collection)

    with translation.override("en"):
        assert '"crs"' in str(refusal.value.message)


def test_validate_boundary_checks_a_polygon_built_in_code():
    outside = Polygon(((100.0, 10.0), (100.1, 10.0), (100.1, 10.1), (100.0, 10.0)), srid=4326)

    with pytest.raises(InvalidBoundary):
        validate_boundary(outside)


def test_location_from_longitude_latitude_text_and_geojson_point():
    from_text = parse_location(" 118.79, 36.86 ")
    from_geojson = parse_location({"type": "Point", "coordinates": [118.79, 36.86]})

    assert from_text.equals(Point(118.79, 36.86, srid=4326))
    assert from_geojson.equals(from_text)
    assert from_text.srid == 4326


@pytest.mark.parametrize(
    "value", ["36.86", "east,north", "139.69,35.68", "nan,36", '{"type": "Polygon"}']
)
def test_bad_locations_are_refused_on_the_location_field(value):
    with pytest.raises(InvalidLocation) as refusal:
        parse_location(value)

    assert refusal.value.field == "location"
