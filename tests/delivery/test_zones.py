"""A home is served by the front warehouse whose delivery zone holds it (PostGIS)."""

from datetime import time

import pytest
from django.contrib.gis.geos import Point, Polygon

from coldchain.choices import SiteKind
from delivery.models import FrontWarehouse
from delivery.selectors import warehouse_serving
from tests.coldchain.factories import SiteFactory

pytestmark = pytest.mark.django_db


def _warehouse(code: str, longitude: float, latitude: float, *, half_side: float, **extra):
    site = SiteFactory(
        name=f"{code} 前置仓",
        kind=SiteKind.FRONT_WAREHOUSE,
        location=Point(longitude, latitude, srid=4326),
    )
    zone = Polygon.from_bbox(
        (longitude - half_side, latitude - half_side, longitude + half_side, latitude + half_side)
    )
    zone.srid = 4326
    return FrontWarehouse.objects.create(
        code=code,
        name=f"{code} 前置仓",
        site=site,
        delivery_zone=zone,
        opens_at=time(7),
        closes_at=time(23),
        **extra,
    )


@pytest.fixture
def chaoyang():
    return _warehouse("chaoyang", 116.48, 39.92, half_side=0.03)


@pytest.fixture
def sanlitun():
    """A smaller zone inside Chaoyang's, centred 2 km to the west."""
    return _warehouse("sanlitun", 116.455, 39.93, half_side=0.01)


def test_a_home_inside_one_zone_is_served_by_its_warehouse(chaoyang, sanlitun):
    assert warehouse_serving(longitude=116.50, latitude=39.90) == chaoyang


def test_where_zones_overlap_the_nearest_warehouse_serves(chaoyang, sanlitun):
    assert warehouse_serving(longitude=116.452, latitude=39.932) == sanlitun


def test_outside_every_zone_nobody_serves(chaoyang, sanlitun):
    assert warehouse_serving(longitude=116.30, latitude=39.99) is None


def test_a_closed_down_warehouse_serves_nobody(chaoyang):
    chaoyang.is_active = False
    chaoyang.save()
    assert warehouse_serving(longitude=116.50, latitude=39.90) is None


@pytest.mark.parametrize(
    ("opens", "closes", "moment", "is_open"),
    [
        (time(7), time(23), time(6, 59), False),
        (time(7), time(23), time(7), True),
        (time(7), time(23), time(23), False),
        (time(7), time(1), time(0, 30), True),  # open past midnight
        (time(7), time(1), time(3), False),
    ],
)
def test_opening_hours_may_run_past_midnight(opens, closes, moment, is_open):
    warehouse = FrontWarehouse(opens_at=opens, closes_at=closes)
    assert warehouse.is_open_at(moment) is is_open
