"""common.geo: the house's one distance (the Earth's mean radius) and one travel time."""

import pytest

from common import geo

BEIJING = (116.40, 39.90)


def test_a_degree_of_latitude_on_the_mean_sphere():
    assert geo.metres_between((116.0, 39.0), (116.0, 40.0)) == pytest.approx(111_195, abs=1)
    assert geo.metres_between(BEIJING, BEIJING) == 0


def test_point_at_goes_the_distance_and_the_bearing_asked_for():
    for bearing in (0, 45, 90, 200, 315):
        there = geo.point_at(BEIJING, metres=3_000, bearing=bearing)
        assert geo.metres_between(BEIJING, there) == pytest.approx(3_000, abs=0.01)
        assert geo.angle_between(geo.bearing_degrees(BEIJING, there), bearing) < 1e-6


def test_travel_time_rides_the_detour_at_the_speed_and_metres_covered_inverts_it():
    # 1 km in a straight line, 1.3 km of streets at 15 km/h (250 m a minute): 5.2 minutes.
    minutes = geo.travel_minutes(1_000, speed_kmh=15, detour_factor=1.3)
    assert minutes == pytest.approx(5.2)
    assert geo.metres_covered(minutes * 60, speed_kmh=15, detour_factor=1.3) == pytest.approx(1_000)


def test_angles_between_bearings_take_the_short_way_round():
    assert geo.angle_between(350, 10) == 20
    assert geo.angle_between(90, 270) == 180
