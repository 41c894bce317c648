from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.models import User
from common.dates import business_today
from farms.models import Farm, HarvestLot, MembershipInvitation
from tests.farms.factories import FarmFactory, HarvestLotFactory, MembershipFactory

FIELD = {
    "type": "Polygon",
    "coordinates": [
        [[118.79, 36.86], [118.791, 36.86], [118.791, 36.861], [118.79, 36.861], [118.79, 36.86]]
    ],
}
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [[118.79, 36.86], [118.80, 36.87], [118.80, 36.86], [118.79, 36.87], [118.79, 36.86]]
    ],
}


def lot_payload(farm, **overrides) -> dict:
    return {
        "product": "VEG-CUCUMBER",
        "farm": farm.pk,
        "harvest_date": business_today().isoformat(),
        "quantity_kg": "120.500",
        "grade": "first",
        "certifications": ["green_food"],
        "pesticide_test_result": "passed",
        "tested_on": business_today().isoformat(),
        **overrides,
    }


# Products


def test_anonymous_api_client_is_asked_to_sign_in(api_client):
    assert api_client.get("/api/products/").status_code == 401


def test_buyer_lists_the_catalogue_with_storage_profiles(api_as, buyer, catalogue):
    response = api_as(buyer).get("/api/products/", {"page_size": 5})

    assert response.status_code == 200
    assert response.data["count"] == len(catalogue)
    assert len(response.data["results"]) == 5
    profile = response.data["results"][0]["storage_profile"]
    assert {"min_temperature_c", "max_temperature_c", "q10"} <= set(profile)
    assert "sources" not in profile  # citations are on the detail only


def test_product_detail_cites_a_source_for_every_storage_value(api_as, buyer, catalogue):
    response = api_as(buyer).get("/api/products/VEG-CUCUMBER/")

    sources = response.data["storage_profile"]["sources"]
    assert sources["lowest_safe_temperature_c"].startswith("USDA AH-66 Table 20.5")
    assert all(sources[field] for field in ("min_temperature_c", "max_temperature_c"))


def test_product_detail_by_code(api_as, buyer, catalogue):
    response = api_as(buyer).get("/api/products/FRT-BANANA/")

    assert response.status_code == 200
    assert response.data["name_zh"] == "香蕉"
    assert response.data["storage_profile"]["is_chilling_sensitive"] is True
    assert response.data["storage_profile"]["lowest_safe_temperature_c"] == "11.5"
    assert api_as(buyer).get("/api/products/NOT-THERE/").status_code == 404


@pytest.mark.parametrize(
    ("params", "expected", "absent"),
    [
        ({"search": "黄瓜"}, "VEG-CUCUMBER", "VEG-TOMATO"),
        ({"search": "cucumber"}, "VEG-CUCUMBER", "VEG-TOMATO"),
        ({"code": "veg-tomato"}, "VEG-TOMATO", "VEG-CUCUMBER"),
        ({"category": "citrus"}, "FRT-LEMON", "FRT-APPLE"),
        ({"chilling_sensitive": "true"}, "FRT-BANANA", "VEG-SPINACH"),
        ({"chilling_sensitive": "false"}, "VEG-SPINACH", "FRT-BANANA"),
    ],
)
def test_product_filters(api_as, buyer, catalogue, params, expected, absent):
    response = api_as(buyer).get("/api/products/", {**params, "page_size": 200})

    codes = {product["code"] for product in response.data["results"]}
    assert expected in codes
    assert absent not in codes


def test_product_list_takes_two_queries(api_as, buyer, catalogue, django_assert_num_queries):
    client = api_as(buyer)

    with django_assert_num_queries(2):
        client.get("/api/products/", {"page_size": 200})


def test_unknown_category_is_a_400(api_as, buyer, catalogue):
    response = api_as(buyer).get("/api/products/", {"category": "spaceship"})

    assert response.status_code == 400
    assert "category" in response.data


# Farms


def test_farmer_creates_a_farm_from_geojson(api_as, member):
    response = api_as(member).post(
        "/api/farms/", {"name": "东地大棚", "boundary": FIELD}, format="json"
    )

    assert response.status_code == 201, response.data
    assert response.data["boundary"]["type"] == "Polygon"
    assert response.data["location"]["type"] == "Point"
    assert Decimal(response.data["area_hectares"]) == pytest.approx(
        Decimal("0.99"), abs=Decimal("0.01")
    )
    assert Farm.objects.get().farmer == member


@pytest.mark.parametrize(
    "boundary",
    [
        BOW_TIE,
        {"type": "Point", "coordinates": [118.79, 36.86]},
        {**FIELD, "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}},
        {
            "type": "Polygon",
            "coordinates": [[[139.69, 35.68], [139.7, 35.68], [139.7, 35.69], [139.69, 35.68]]],
        },
        "POLYGON((118.79 36.86, 118.8 36.86, 118.8 36.87, 118.79 36.86))",
    ],
    ids=["bow-tie", "point", "crs member", "outside China", "WKT"],
)
def test_bad_boundary_is_a_400_on_the_boundary_field(api_as, member, boundary):
    response = api_as(member).post(
        "/api/farms/", {"name": "东地", "boundary": boundary}, format="json"
    )

    assert response.status_code == 400
    assert list(response.data) == ["boundary"]
    assert not Farm.objects.exists()


def test_farm_without_boundary_or_location_is_a_400(api_as, member):
    response = api_as(member).post("/api/farms/", {"name": "东地"}, format="json")

    assert response.status_code == 400
    assert "boundary" in response.data


def test_manager_creates_a_farm_for_a_member_but_not_for_an_outsider(
    api_as, manager, member, other_cooperative
):
    outsider = MembershipFactory(cooperative=other_cooperative).user
    client = api_as(manager)

    created = client.post(
        "/api/farms/", {"name": "北洼", "farmer": member.pk, "boundary": FIELD}, format="json"
    )
    refused = client.post(
        "/api/farms/", {"name": "北洼", "farmer": outsider.pk, "boundary": FIELD}, format="json"
    )

    assert created.status_code == 201
    assert created.data["farmer"] == member.pk
    assert refused.status_code == 400
    assert "farmer" in refused.data
    assert Farm.objects.count() == 1


def test_farmer_redraws_her_farm_with_patch(api_as, member, farm):
    larger = {
        "type": "Polygon",
        "coordinates": [
            [
                [118.79, 36.86],
                [118.792, 36.86],
                [118.792, 36.862],
                [118.79, 36.862],
                [118.79, 36.86],
            ]
        ],
    }

    response = api_as(member).patch(f"/api/farms/{farm.pk}/", {"boundary": larger}, format="json")

    assert response.status_code == 200, response.data
    assert response.data["name"] == farm.name
    assert Decimal(response.data["area_hectares"]) == pytest.approx(
        Decimal("3.97"), abs=Decimal("0.03")
    )


def test_farmer_cannot_see_or_change_another_cooperatives_farm(api_as, member, farm, other_farm):
    client = api_as(member)

    assert client.get(f"/api/farms/{other_farm.pk}/").status_code == 404
    assert (
        client.patch(f"/api/farms/{other_farm.pk}/", {"name": "mine"}, format="json").status_code
        == 404
    )
    assert [f["id"] for f in client.get("/api/farms/").data["results"]] == [farm.pk]
    other_farm.refresh_from_db()
    assert other_farm.name != "mine"


def test_buyer_sees_no_farms_and_cannot_create_one(api_as, buyer, farm):
    client = api_as(buyer)

    assert client.get("/api/farms/").data["count"] == 0
    assert client.get(f"/api/farms/{farm.pk}/").status_code == 404
    assert (
        client.post("/api/farms/", {"name": "x", "boundary": FIELD}, format="json").status_code
        == 403
    )


def test_admin_sees_every_farm(api_as, admin_user, farm, other_farm):
    response = api_as(admin_user).get("/api/farms/")

    assert {f["id"] for f in response.data["results"]} == {farm.pk, other_farm.pk}


def test_farms_near_a_point_nearest_first_within_the_radius(api_as, admin_user, db):
    far = FarmFactory(longitude=118.89, latitude=36.86)  # about 9 km east
    near = FarmFactory(longitude=118.80, latitude=36.86)  # about 1 km east
    FarmFactory(longitude=119.20, latitude=36.86)  # about 37 km east

    response = api_as(admin_user).get("/api/farms/", {"near": "118.79,36.86", "radius_km": "12"})

    assert response.status_code == 200
    results = response.data["results"]
    assert [f["id"] for f in results] == [near.pk, far.pk]
    assert results[0]["distance_km"] < results[1]["distance_km"] < 12


def test_farms_near_defaults_to_10_km(api_as, admin_user, db):
    FarmFactory(longitude=118.89, latitude=36.86)
    FarmFactory(longitude=118.92, latitude=36.86)  # about 12 km

    response = api_as(admin_user).get("/api/farms/", {"near": "118.79,36.86"})

    assert response.data["count"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"near": "north"}, "near"),
        ({"near": "139.69,35.68"}, "near"),
        ({"near": "118.79,36.86", "radius_km": "5000"}, "radius_km"),
    ],
)
def test_bad_near_filter_is_a_400(api_as, admin_user, params, field):
    response = api_as(admin_user).get("/api/farms/", params)

    assert response.status_code == 400
    assert field in response.data


def test_farm_list_query_count_does_not_grow_with_farms(
    api_as, manager, cooperative, django_assert_max_num_queries
):
    FarmFactory.create_batch(5, cooperative=cooperative)
    client = api_as(manager)

    with django_assert_max_num_queries(3):
        response = client.get("/api/farms/")

    assert response.data["count"] == 5


# Harvest lots


def test_farmer_records_a_lot_and_sees_it_in_her_list(api_as, member, farm, catalogue):
    client = api_as(member)

    created = client.post("/api/lots/", lot_payload(farm), format="json")
    listed = client.get("/api/lots/")

    assert created.status_code == 201, created.data
    assert created.data["lot_code"] == f"{farm.pk}-{business_today():%Y%m%d}-01"
    assert created.data["quantity_kg"] == "120.500"
    assert [lot["lot_code"] for lot in listed.data["results"]] == [created.data["lot_code"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity_kg": "0"}, "quantity_kg"),
        ({"quantity_kg": "500001"}, "quantity_kg"),
        ({"harvest_date": (business_today() + timedelta(days=1)).isoformat()}, "harvest_date"),
        ({"grade": "third"}, "grade"),
        ({"product": "NOT-THERE"}, "product"),
        ({"certifications": ["bio"]}, "certifications"),
        ({"pesticide_test_result": "not_tested"}, "tested_on"),
    ],
)
def test_bad_lot_input_is_a_400_on_its_field(api_as, member, farm, catalogue, overrides, field):
    response = api_as(member).post("/api/lots/", lot_payload(farm, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.data
    assert not HarvestLot.objects.exists()


def test_reused_lot_code_is_a_400_on_lot_code(api_as, member, farm, catalogue):
    client = api_as(member)
    client.post("/api/lots/", lot_payload(farm, lot_code="SG-001"), format="json")

    response = client.post("/api/lots/", lot_payload(farm, lot_code="SG-001"), format="json")

    assert response.status_code == 400
    assert list(response.data) == ["lot_code"]
    assert HarvestLot.objects.count() == 1


def test_farmer_cannot_record_a_lot_on_another_cooperatives_farm(
    api_as, member, other_farm, catalogue
):
    response = api_as(member).post("/api/lots/", lot_payload(other_farm), format="json")

    assert response.status_code == 400
    assert "farm" in response.data
    assert not HarvestLot.objects.exists()


def test_farmer_cannot_see_another_cooperatives_lot(api_as, member, farm, other_farm):
    other_lot = HarvestLotFactory(farm=other_farm)
    own_lot = HarvestLotFactory(farm=farm)
    client = api_as(member)

    assert client.get(f"/api/lots/{other_lot.pk}/").status_code == 404
    assert client.get(f"/api/lots/{own_lot.pk}/").status_code == 200
    assert [lot["id"] for lot in client.get("/api/lots/").data["results"]] == [own_lot.pk]


def test_buyer_sees_no_lots_and_cannot_record_one(api_as, buyer, farm, catalogue):
    HarvestLotFactory(farm=farm)
    client = api_as(buyer)

    assert client.get("/api/lots/").data["count"] == 0
    assert client.post("/api/lots/", lot_payload(farm), format="json").status_code == 403


def test_lot_filters(api_as, manager, farm, cooperative, catalogue):
    second_farm = FarmFactory(cooperative=cooperative)
    today = business_today()
    old = HarvestLotFactory(
        farm=farm, product=catalogue["VEG-TOMATO"], harvest_date=today - timedelta(days=30)
    )
    fresh = HarvestLotFactory(
        farm=second_farm, product=catalogue["VEG-CUCUMBER"], harvest_date=today, grade="special"
    )
    client = api_as(manager)

    def codes(**params):
        return [lot["lot_code"] for lot in client.get("/api/lots/", params).data["results"]]

    assert codes() == [fresh.lot_code, old.lot_code]
    assert codes(product="VEG-TOMATO") == [old.lot_code]
    assert codes(farm=second_farm.pk) == [fresh.lot_code]
    assert codes(harvested_since=(today - timedelta(days=7)).isoformat()) == [fresh.lot_code]
    assert codes(grade="special") == [fresh.lot_code]


def test_lot_list_query_count_does_not_grow_with_lots(
    api_as, member, farm, django_assert_max_num_queries
):
    HarvestLotFactory.create_batch(5, farm=farm)
    client = api_as(member)

    with django_assert_max_num_queries(2):
        response = client.get("/api/lots/")

    assert response.data["count"] == 5


# Members


def test_manager_lists_members_and_invites_a_number(api_as, manager, member, other_cooperative):
    MembershipFactory(cooperative=other_cooperative)
    client = api_as(manager)

    listed = client.get("/api/cooperatives/members/")
    invited = client.post("/api/cooperatives/members/", {"phone": "13700137000"})

    assert {m["user_id"] for m in listed.data["results"]} == {manager.pk, member.pk}
    assert invited.status_code == 202, invited.data
    assert invited.data["phone"] == "+8613700137000"
    assert invited.data["status"] == "pending"
    assert not User.objects.filter(phone="+8613700137000").exists()


def test_bad_member_phone_is_a_400_on_phone(api_as, manager):
    response = api_as(manager).post("/api/cooperatives/members/", {"phone": "123"})

    assert response.status_code == 400
    assert "phone" in response.data


def test_farmers_and_buyers_cannot_use_the_members_api(api_as, member, buyer):
    assert api_as(member).get("/api/cooperatives/members/").status_code == 403
    assert (
        api_as(buyer).post("/api/cooperatives/members/", {"phone": "13700137000"}).status_code
        == 403
    )


def test_admin_invites_to_a_named_cooperative(api_as, admin_user, cooperative):
    client = api_as(admin_user)

    without = client.post("/api/cooperatives/members/", {"phone": "13700137000"})
    with_cooperative = client.post(
        "/api/cooperatives/members/", {"phone": "13700137000", "cooperative": cooperative.pk}
    )

    assert without.status_code == 400
    assert "cooperative" in without.data
    assert with_cooperative.status_code == 202
    assert MembershipInvitation.objects.get(phone="+8613700137000").cooperative == cooperative


def test_errors_come_in_the_requested_language(api_as, member):
    response = api_as(member).post(
        "/api/farms/",
        {"name": "东地", "boundary": BOW_TIE},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.data["boundary"][0].startswith("The boundary is not a valid polygon")
