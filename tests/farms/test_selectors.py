from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point

from farms.selectors import (
    catalogue_products,
    cooperative_managed_by,
    farmers_for_new_farms,
    farms_near,
    farms_visible_to,
    lots_visible_to,
    members_visible_to,
)
from tests.farms.factories import FarmFactory, HarvestLotFactory, MembershipFactory, ProductFactory

# One degree of longitude at 36.86° N is about 89.1 km.
KM_PER_DEGREE_LONGITUDE = 89.1


def east_of(origin: Point, km: float) -> tuple[float, float]:
    return origin.x + km / KM_PER_DEGREE_LONGITUDE, origin.y


@pytest.fixture
def both_cooperatives(farm, other_farm):
    return {
        "farm": farm,
        "other_farm": other_farm,
        "lot": HarvestLotFactory(farm=farm),
        "other_lot": HarvestLotFactory(farm=other_farm),
    }


def test_farmer_sees_only_her_own_farms_and_lots(member, cooperative, both_cooperatives):
    neighbours_farm = FarmFactory(cooperative=cooperative)

    assert list(farms_visible_to(member)) == [both_cooperatives["farm"]]
    assert neighbours_farm not in farms_visible_to(member)
    assert list(lots_visible_to(member)) == [both_cooperatives["lot"]]


def test_manager_sees_her_cooperatives_farms_and_lots(manager, cooperative, both_cooperatives):
    neighbours_farm = FarmFactory(cooperative=cooperative)

    assert set(farms_visible_to(manager)) == {both_cooperatives["farm"], neighbours_farm}
    assert list(lots_visible_to(manager)) == [both_cooperatives["lot"]]


def test_admin_sees_every_farm_and_lot(admin_user, both_cooperatives):
    assert farms_visible_to(admin_user).count() == 2
    assert lots_visible_to(admin_user).count() == 2


@pytest.mark.parametrize("role", ["buyer", "courier", "market_operator", "coldchain_controller"])
def test_other_roles_see_no_farms_or_lots(request, both_cooperatives, role):
    user = request.getfixturevalue(role)

    assert not farms_visible_to(user).exists()
    assert not lots_visible_to(user).exists()


def test_deactivated_farmer_sees_nothing(member, both_cooperatives):
    member.is_active = False
    member.save()

    assert not farms_visible_to(member).exists()


def test_manager_without_manager_flag_manages_nothing(cooperative_manager, cooperative, farm):
    MembershipFactory(user=cooperative_manager, cooperative=cooperative, is_manager=False)

    assert cooperative_managed_by(cooperative_manager) is None
    assert not farms_visible_to(cooperative_manager).exists()
    assert not members_visible_to(cooperative_manager).exists()


def test_members_are_visible_to_their_manager_only(manager, member, cooperative, other_cooperative):
    MembershipFactory(cooperative=other_cooperative)

    assert {m.user for m in members_visible_to(manager)} == {manager, member}
    assert not members_visible_to(member).exists()


def test_farmers_for_new_farms_by_role(manager, member, cooperative, other_cooperative, admin_user):
    other = MembershipFactory(cooperative=other_cooperative).user

    assert list(farmers_for_new_farms(member)) == [member]
    assert list(farmers_for_new_farms(manager)) == [member]
    assert set(farmers_for_new_farms(admin_user)) == {member, other}


@pytest.mark.django_db
def test_farms_within_radius_nearest_first_with_distance():
    centre = Point(118.79, 36.86, srid=4326)
    five_km = FarmFactory(boundary=None, location=Point(*east_of(centre, 5), srid=4326))
    one_km = FarmFactory(boundary=None, location=Point(*east_of(centre, 1), srid=4326))
    FarmFactory(boundary=None, location=Point(*east_of(centre, 20), srid=4326))

    nearby = list(farms_near(centre, 10))

    assert nearby == [one_km, five_km]
    assert nearby[0].distance.km == pytest.approx(1, abs=0.02)
    assert nearby[1].distance.km == pytest.approx(5, abs=0.1)


@pytest.mark.django_db
def test_farms_near_is_geodesic_north_south_too():
    centre = Point(118.79, 36.86, srid=4326)
    # One degree of latitude is about 111 km anywhere.
    FarmFactory(boundary=None, location=Point(118.79, 37.76, srid=4326))

    assert not farms_near(centre, 99).exists()
    assert farms_near(centre, 101).get().distance.km == pytest.approx(99.9, abs=0.5)


def test_farms_near_keeps_to_the_farms_a_user_may_see(member, farm, other_farm):
    centre = Point(118.75, 36.89, srid=4326)

    assert set(farms_near(centre, 50)) == {farm, other_farm}
    assert list(farms_near(centre, 50, among=farms_visible_to(member))) == [farm]


@pytest.mark.django_db
def test_catalogue_lists_active_products_only():
    active = ProductFactory()
    ProductFactory(is_active=False)

    assert list(catalogue_products()) == [active]
    assert catalogue_products()[0].storage_profile.q10 == Decimal("3.00")
