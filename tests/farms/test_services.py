import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.gis.geos import Point, Polygon
from django.db import connection

from accounts.models import User
from common.dates import business_today
from common.exceptions import InvalidBoundary
from farms.choices import Certification, Grade, PesticideTestResult
from farms.exceptions import (
    BoundaryOrLocationRequired,
    FarmerNotMember,
    FarmNameTaken,
    FarmNotAvailable,
    FarmsError,
    GradeNotInScale,
    HarvestDateInFuture,
    InvalidCertification,
    InvalidLotCode,
    InvalidQuantity,
    InvalidTestDate,
    LotCodeTaken,
    ProductNotAvailable,
)
from farms.models import Cooperative, Farm, HarvestLot, Membership, MembershipInvitation
from farms.services.cooperatives import register_cooperative
from farms.services.farms import create_farm, update_farm
from farms.services.invitations import invite_member
from farms.services.lots import record_harvest_lot
from tests.farms.factories import (
    FarmFactory,
    HarvestLotFactory,
    MembershipFactory,
    ProductFactory,
    square,
)

BOW_TIE = Polygon(
    ((118.79, 36.86), (118.80, 36.87), (118.80, 36.86), (118.79, 36.87), (118.79, 36.86)),
    srid=4326,
)


def lot_arguments(**overrides) -> dict:
    return {
        "harvest_date": business_today(),
        "quantity_kg": Decimal("250.5"),
        "grade": Grade.FIRST,
        **overrides,
    }


# Co-operatives and members


@pytest.mark.django_db
def test_register_cooperative_makes_its_first_manager(cooperative_manager):
    cooperative = register_cooperative(
        name="寿光市鲜丰蔬菜专业合作社",
        province="山东省",
        location=Point(118.79, 36.86, srid=4326),
        manager=cooperative_manager,
    )

    membership = Membership.objects.get(user=cooperative_manager)
    assert membership.cooperative == cooperative
    assert membership.is_manager


@pytest.mark.django_db
def test_register_cooperative_refuses_a_taken_name(cooperative):
    with pytest.raises(FarmsError) as refusal:
        register_cooperative(name=cooperative.name, province="山东省")

    assert refusal.value.field == "name"
    assert Cooperative.objects.count() == 1


# Farms


def test_farmer_adds_her_farm_and_its_location_lies_inside(member, cooperative):
    boundary = square(118.79, 36.86)

    farm = create_farm(created_by=member, farmer=member, name=" 东地大棚 ", boundary=boundary)

    assert farm.name == "东地大棚"
    assert farm.cooperative == cooperative
    assert boundary.contains(farm.location)
    assert farm.location.srid == 4326
    assert farm.area_hectares == pytest.approx(Decimal("0.99"), abs=Decimal("0.01"))


def test_farm_with_only_a_location_has_no_area(member):
    farm = create_farm(
        created_by=member, farmer=member, name="河西", location=Point(118.79, 36.86, srid=4326)
    )

    assert farm.boundary is None
    assert farm.area_hectares is None


def test_manager_adds_a_farm_for_a_member(manager, member):
    farm = create_farm(created_by=manager, farmer=member, name="北洼", boundary=square(118.8, 36.8))

    assert farm.farmer == member


def test_manager_cannot_add_a_farm_for_another_cooperatives_farmer(manager, other_cooperative):
    outsider = MembershipFactory(cooperative=other_cooperative).user

    with pytest.raises(FarmerNotMember):
        create_farm(created_by=manager, farmer=outsider, name="x", boundary=square(118.8, 36.8))

    assert not Farm.objects.exists()


def test_farmer_cannot_add_a_farm_for_another_farmer(member, cooperative):
    neighbour = MembershipFactory(cooperative=cooperative).user

    with pytest.raises(FarmerNotMember):
        create_farm(created_by=member, farmer=neighbour, name="x", boundary=square(118.8, 36.8))

    assert not Farm.objects.exists()


def test_farmer_outside_any_cooperative_cannot_add_a_farm(farmer):
    with pytest.raises(FarmerNotMember) as refusal:
        create_farm(created_by=farmer, farmer=farmer, name="x", boundary=square(118.8, 36.8))

    assert refusal.value.field == "farmer"


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({}, BoundaryOrLocationRequired),
        ({"boundary": BOW_TIE}, InvalidBoundary),
        ({"boundary": square(139.69, 35.68)}, InvalidBoundary),
        ({"name": "  "}, FarmsError),
    ],
    ids=["neither boundary nor location", "bow-tie", "outside China", "blank name"],
)
def test_bad_farm_input_is_refused_and_nothing_is_saved(member, arguments, error):
    with pytest.raises(error):
        create_farm(created_by=member, farmer=member, **{"name": "东地", **arguments})

    assert not Farm.objects.exists()


def test_farmer_cannot_have_two_farms_with_one_name(farm, member):
    with pytest.raises(FarmNameTaken) as refusal:
        create_farm(created_by=member, farmer=member, name=farm.name, boundary=square(118.8, 36.8))

    assert refusal.value.field == "name"
    assert Farm.objects.count() == 1


def test_farmer_redraws_her_boundary_and_the_area_and_location_follow(farm, member):
    larger = square(118.70, 36.80, size=0.002)

    updated = update_farm(updated_by=member, farm_id=farm.pk, boundary=larger)

    updated.refresh_from_db()
    assert updated.boundary.equals(larger)
    assert larger.contains(updated.location)
    assert updated.area_hectares == pytest.approx(Decimal("3.97"), abs=Decimal("0.03"))


def test_location_inside_the_new_boundary_is_kept(farm, member):
    gate = Point(118.7901, 36.8601, srid=4326)
    update_farm(updated_by=member, farm_id=farm.pk, location=gate)

    updated = update_farm(
        updated_by=member, farm_id=farm.pk, boundary=square(118.79, 36.86, size=0.0005)
    )

    assert updated.location.equals_exact(gate, tolerance=1e-9)


def test_manager_renames_a_members_farm(farm, manager):
    update_farm(updated_by=manager, farm_id=farm.pk, name="东地二号棚")

    farm.refresh_from_db()
    assert farm.name == "东地二号棚"


@pytest.mark.parametrize("actor", ["buyer", "other_member", "other_manager"])
def test_outsiders_cannot_change_a_farm(request, farm, other_cooperative, actor):
    outsider = {
        "buyer": lambda: request.getfixturevalue("buyer"),
        "other_member": lambda: MembershipFactory(cooperative=other_cooperative).user,
        "other_manager": lambda: (
            MembershipFactory(cooperative=other_cooperative, manager=True).user
        ),
    }[actor]()

    with pytest.raises(FarmNotAvailable):
        update_farm(updated_by=outsider, farm_id=farm.pk, name="taken over")

    farm.refresh_from_db()
    assert farm.name == "东地大棚"


def test_clearing_the_boundary_of_a_farm_keeps_its_location(farm, member):
    location = farm.location

    updated = update_farm(updated_by=member, farm_id=farm.pk, boundary=None)

    updated.refresh_from_db()
    assert updated.boundary is None
    assert updated.area_hectares is None
    assert updated.location.equals_exact(location, tolerance=1e-9)


# Harvest lots


def test_farmer_records_a_lot_with_a_readable_generated_code(farm, member, catalogue):
    lot = record_harvest_lot(
        recorded_by=member,
        farm=farm,
        product=catalogue["VEG-CUCUMBER"],
        certifications=[Certification.GREEN_FOOD, Certification.GREEN_FOOD],
        pesticide_test_result=PesticideTestResult.PASSED,
        tested_on=business_today(),
        **lot_arguments(),
    )

    lot.refresh_from_db()
    assert lot.lot_code == f"{farm.pk}-{business_today():%Y%m%d}-01"
    assert lot.quantity_kg == Decimal("250.500")
    assert lot.certifications == [Certification.GREEN_FOOD]
    assert lot.recorded_by == member


def test_second_lot_of_the_day_gets_the_next_sequence(farm, member, catalogue):
    first = record_harvest_lot(
        recorded_by=member, farm=farm, product=catalogue["VEG-TOMATO"], **lot_arguments()
    )
    second = record_harvest_lot(
        recorded_by=member, farm=farm, product=catalogue["VEG-TOMATO"], **lot_arguments()
    )

    assert first.lot_code.endswith("-01")
    assert second.lot_code.endswith("-02")


def test_generated_code_skips_a_code_already_taken(farm, member, catalogue):
    today = business_today()
    HarvestLotFactory(lot_code=f"{farm.pk}-{today:%Y%m%d}-01", harvest_date=today - timedelta(1))

    lot = record_harvest_lot(
        recorded_by=member, farm=farm, product=catalogue["VEG-TOMATO"], **lot_arguments()
    )

    assert lot.lot_code == f"{farm.pk}-{today:%Y%m%d}-02"


def test_manager_records_a_lot_for_a_members_farm(farm, manager, catalogue):
    lot = record_harvest_lot(
        recorded_by=manager, farm=farm, product=catalogue["VEG-TOMATO"], **lot_arguments()
    )

    assert lot.farm == farm
    assert lot.recorded_by == manager


@pytest.mark.parametrize("actor", ["buyer", "other_member", "other_manager"])
def test_outsiders_cannot_record_a_lot_on_a_farm(
    request, farm, other_cooperative, catalogue, actor
):
    outsider = {
        "buyer": lambda: request.getfixturevalue("buyer"),
        "other_member": lambda: MembershipFactory(cooperative=other_cooperative).user,
        "other_manager": lambda: (
            MembershipFactory(cooperative=other_cooperative, manager=True).user
        ),
    }[actor]()

    with pytest.raises(FarmNotAvailable) as refusal:
        record_harvest_lot(
            recorded_by=outsider, farm=farm, product=catalogue["VEG-TOMATO"], **lot_arguments()
        )

    assert refusal.value.field == "farm"
    assert not HarvestLot.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "error", "field"),
    [
        ({"quantity_kg": Decimal("0")}, InvalidQuantity, "quantity_kg"),
        ({"quantity_kg": Decimal("-5")}, InvalidQuantity, "quantity_kg"),
        ({"quantity_kg": Decimal("500000.001")}, InvalidQuantity, "quantity_kg"),
        ({"quantity_kg": "plenty"}, InvalidQuantity, "quantity_kg"),
        ({"quantity_kg": 12.5}, InvalidQuantity, "quantity_kg"),
        ({"grade": "premium"}, GradeNotInScale, "grade"),
        (
            {"harvest_date": business_today() + timedelta(days=1)},
            HarvestDateInFuture,
            "harvest_date",
        ),
        ({"certifications": ["organic", "bio"]}, InvalidCertification, "certifications"),
        ({"tested_on": business_today()}, InvalidTestDate, "tested_on"),
        (
            {"pesticide_test_result": "passed", "tested_on": business_today() + timedelta(days=1)},
            InvalidTestDate,
            "tested_on",
        ),
        ({"pesticide_test_result": "maybe"}, FarmsError, "pesticide_test_result"),
        ({"lot_code": "a b"}, InvalidLotCode, "lot_code"),
    ],
)
def test_bad_lot_input_is_refused_on_its_field_and_nothing_is_saved(
    farm, member, catalogue, overrides, error, field
):
    with pytest.raises(error) as refusal:
        record_harvest_lot(
            recorded_by=member,
            farm=farm,
            product=catalogue["VEG-TOMATO"],
            **lot_arguments(**overrides),
        )

    assert refusal.value.field == field
    assert not HarvestLot.objects.exists()


def test_grade_outside_the_products_scale_is_refused(farm, member, catalogue):
    with pytest.raises(GradeNotInScale):
        record_harvest_lot(
            recorded_by=member,
            farm=farm,
            product=catalogue["FLW-ROSE"],
            **lot_arguments(grade=Grade.SPECIAL),
        )

    assert not HarvestLot.objects.exists()


def test_inactive_product_cannot_be_recorded(farm, member):
    retired = ProductFactory(is_active=False)

    with pytest.raises(ProductNotAvailable):
        record_harvest_lot(recorded_by=member, farm=farm, product=retired, **lot_arguments())

    assert not HarvestLot.objects.exists()


def test_reused_lot_code_is_refused_on_lot_code(farm, member, catalogue):
    first = record_harvest_lot(
        recorded_by=member,
        farm=farm,
        product=catalogue["VEG-TOMATO"],
        **lot_arguments(lot_code="SG-2026-001"),
    )

    with pytest.raises(LotCodeTaken) as refusal:
        record_harvest_lot(
            recorded_by=member,
            farm=farm,
            product=catalogue["VEG-CUCUMBER"],
            **lot_arguments(lot_code="SG-2026-001", quantity_kg=Decimal("1")),
        )

    assert refusal.value.field == "lot_code"
    assert list(HarvestLot.objects.values_list("pk", "product__code")) == [(first.pk, "VEG-TOMATO")]


def test_harvest_date_is_the_shanghai_calendar_date(farm, member, catalogue):
    # 17:30 UTC on 14 March is 01:30 on 15 March in Shanghai.
    with time_machine.travel(datetime(2026, 3, 14, 17, 30, tzinfo=UTC), tick=False):
        lot = record_harvest_lot(
            recorded_by=member,
            farm=farm,
            product=catalogue["VEG-TOMATO"],
            **lot_arguments(harvest_date=date(2026, 3, 15)),
        )
        with pytest.raises(HarvestDateInFuture):
            record_harvest_lot(
                recorded_by=member,
                farm=farm,
                product=catalogue["VEG-TOMATO"],
                **lot_arguments(harvest_date=date(2026, 3, 16)),
            )

    assert lot.lot_code == f"{farm.pk}-20260315-01"


def _in_parallel(count: int, work) -> list:
    """Run work(i) in `count` threads started together; each has its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_lots_of_one_farm_and_day_get_distinct_generated_codes():
    farm = FarmFactory()
    product = ProductFactory()

    results = _in_parallel(
        4,
        lambda _: record_harvest_lot(
            recorded_by=farm.farmer, farm=farm, product=product, **lot_arguments()
        ),
    )

    assert all(isinstance(result, HarvestLot) for result in results), results
    codes = sorted(result.lot_code for result in results)
    assert codes == [f"{farm.pk}-{business_today():%Y%m%d}-{n:02d}" for n in range(1, 5)]


@pytest.mark.django_db(transaction=True)
def test_concurrent_lots_with_one_code_record_exactly_one():
    farm = FarmFactory()
    product = ProductFactory()

    results = _in_parallel(
        4,
        lambda _: record_harvest_lot(
            recorded_by=farm.farmer, farm=farm, product=product, **lot_arguments(lot_code="RACE-1")
        ),
    )

    assert sum(isinstance(result, HarvestLot) for result in results) == 1
    assert sum(isinstance(result, LotCodeTaken) for result in results) == 3
    assert HarvestLot.objects.filter(lot_code="RACE-1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_invitations_of_one_number_make_one():
    membership = MembershipFactory(manager=True)

    results = _in_parallel(
        3,
        lambda _: invite_member(
            invited_by=membership.user, cooperative=membership.cooperative, phone="13700137000"
        ),
    )

    assert all(isinstance(result, MembershipInvitation) for result in results)
    assert MembershipInvitation.objects.filter(phone="+8613700137000").count() == 1
    assert not User.objects.filter(phone="+8613700137000").exists()
