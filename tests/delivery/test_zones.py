"""A home is served by the front warehouse whose delivery zone holds it (PostGIS)."""

from datetime import time

import pytest

from delivery.models import FrontWarehouse
from delivery.selectors.zones import warehouse_serving
from tests.delivery.factories import front_warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def chaoyang():
    return front_warehouse("chaoyang", 116.48, 39.92, half_side=0.03)


@pytest.fixture
def sanlitun():
    """A smaller zone inside Chaoyang's, centred 2 km to the west."""
    return front_warehouse("sanlitun", 116.455, 39.93, half_side=0.01)


def test_a_home_inside_one_zone_is_served_by_itsfront_warehouse(chaoyang, sanlitun):
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
        (time(0), time(0), time(23, 59, 59), True),  # round the clock
        (time(0), time(0), time(0), True),
    ],
)
def test_opening_hours_may_run_past_midnight(opens, closes, moment, is_open):
    warehouse = FrontWarehouse(opens_at=opens, closes_at=closes)
    assert warehouse.is_open_at(moment) is is_open
