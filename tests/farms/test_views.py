import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from common.dates import business_today
from common.units import WeightUnit
from farms.models import Farm, HarvestLot
from tests.accounts.factories import UserFactory
from tests.farms.factories import FarmFactory, HarvestLotFactory

FIELD = {
    "type": "Polygon",
    "coordinates": [
        [[118.79, 36.86], [118.791, 36.86], [118.791, 36.861], [118.79, 36.861], [118.79, 36.86]]
    ],
}


def lot_form(farm, **overrides) -> dict:
    return {
        "product": "VEG-CUCUMBER",
        "farm": farm.pk,
        "harvest_date": business_today().isoformat(),
        "quantity": "100",
        "grade": "first",
        "certifications": ["green_food", "pollution_free"],
        "pesticide_test_result": "passed",
        "tested_on": business_today().isoformat(),
        **overrides,
    }


# Catalogue


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    response = client.get(reverse("farms:product_list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:sign_in"))


def test_buyer_browses_and_searches_the_catalogue(english, buyer, catalogue):
    english.force_login(buyer)

    everything = english.get(reverse("farms:product_list"))
    citrus = english.get(reverse("farms:product_list"), {"category": "citrus", "q": "柠檬"})

    assert everything.status_code == 200
    assert everything.context["page"].paginator.count == len(catalogue)
    assert [p.code for p in citrus.context["page"]] == ["FRT-LEMON"]
    assert "chilling-sensitive" in citrus.content.decode()


def test_product_page_shows_the_storage_profile_and_its_sources(english, buyer, catalogue):
    english.force_login(buyer)

    response = english.get(reverse("farms:product_detail", args=["FRT-BANANA"]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "香蕉" in page
    assert "Chilling-sensitive: keep above 11.5 °C." in page
    assert "USDA AH-66 Table 20.5 (chilling injury): banana 11.5–13 °C" in page
    assert english.get(reverse("farms:product_detail", args=["NOPE-X"])).status_code == 404


# Recording a harvest


def test_record_form_preselects_her_only_farm_and_today(english, member, farm, catalogue):
    english.force_login(member)

    response = english.get(reverse("farms:lot_create"))

    form = response.context["form"]
    assert list(form.fields["farm"].queryset) == [farm]
    assert form.fields["farm"].initial == farm.pk
    page = response.content.decode()
    assert form["harvest_date"].value() == business_today()
    assert f'type="date" name="harvest_date" value="{business_today().isoformat()}"' in page
    assert "Quantity (kg)" in page


def test_farmer_records_lot_and_sees_it_in_her_list(english, member, farm, catalogue):
    english.force_login(member)

    response = english.post(reverse("farms:lot_create"), lot_form(farm), follow=True)

    lot = HarvestLot.objects.get()
    assert response.redirect_chain == [(reverse("farms:lot_list"), 302)]
    assert f"Harvest lot {lot.lot_code} recorded." in response.content.decode()
    assert lot.quantity_kg == Decimal("100.000")
    assert lot.certifications == ["green_food", "pollution_free"]
    assert [listed.pk for listed in response.context["page"]] == [lot.pk]


def test_farmer_weighing_in_jin_records_kilograms(english, member, farm, catalogue):
    member.weight_unit = WeightUnit.JIN
    member.save()
    english.force_login(member)

    form_page = english.get(reverse("farms:lot_create"))
    english.post(reverse("farms:lot_create"), lot_form(farm, quantity="100.5"))

    assert "Quantity (jin (斤))" in form_page.content.decode()
    assert HarvestLot.objects.get().quantity_kg == Decimal("50.250")
    lots_page = english.get(reverse("farms:lot_list")).content.decode()
    assert "100.5 jin (斤)" in lots_page


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "1000001"}, "quantity"),
        ({"grade": "third"}, "grade"),
        ({"harvest_date": (business_today() + timedelta(days=1)).isoformat()}, "harvest_date"),
        ({"pesticide_test_result": "not_tested"}, "tested_on"),
        ({"product": "NOT-THERE"}, "product"),
    ],
)
def test_bad_harvest_input_shows_the_error_on_its_field(
    english, member, farm, catalogue, overrides, field
):
    member.weight_unit = WeightUnit.JIN  # 1 000 001 斤 is over the 500 000 kg limit
    member.save()
    english.force_login(member)

    response = english.post(reverse("farms:lot_create"), lot_form(farm, **overrides))

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert 'class="errorlist' in response.content.decode()
    assert not HarvestLot.objects.exists()


def test_farmer_cannot_pick_another_cooperatives_farm(english, member, farm, other_farm, catalogue):
    english.force_login(member)

    response = english.post(reverse("farms:lot_create"), lot_form(other_farm))

    assert "farm" in response.context["form"].errors
    assert not HarvestLot.objects.exists()


def test_farmer_without_a_farm_is_asked_to_add_one(english, member, catalogue):
    english.force_login(member)

    response = english.get(reverse("farms:lot_create"))

    assert "Add your farm first" in response.content.decode()


def test_lot_list_shows_newest_first(english, member, farm):
    older = HarvestLotFactory(farm=farm, harvest_date=business_today() - timedelta(days=3))
    newer = HarvestLotFactory(farm=farm, harvest_date=business_today())
    english.force_login(member)

    response = english.get(reverse("farms:lot_list"))

    assert [lot.pk for lot in response.context["page"]] == [newer.pk, older.pk]


def test_farmer_gets_404_for_another_cooperatives_farm_and_lot(english, member, farm, other_farm):
    other_lot = HarvestLotFactory(farm=other_farm)
    english.force_login(member)

    assert english.get(reverse("farms:lot_detail", args=[other_lot.pk])).status_code == 404
    assert english.get(reverse("farms:farm_detail", args=[other_farm.pk])).status_code == 404
    assert english.get(reverse("farms:farm_update", args=[other_farm.pk])).status_code == 404
    assert (
        english.post(
            reverse("farms:farm_update", args=[other_farm.pk]), {"name": "mine"}
        ).status_code
        == 404
    )


def test_manager_sees_a_members_lot(english, manager, farm):
    lot = HarvestLotFactory(farm=farm)
    english.force_login(manager)

    response = english.get(reverse("farms:lot_detail", args=[lot.pk]))

    assert response.status_code == 200
    assert lot.lot_code in response.content.decode()


@pytest.mark.parametrize(
    "url_name", ["farm_list", "farm_create", "lot_list", "lot_create", "member_list"]
)
def test_buyer_is_refused_the_farm_pages(client, buyer, url_name):
    client.force_login(buyer)

    assert client.get(reverse(f"farms:{url_name}")).status_code == 403


# Farms and the map


def test_farm_map_page_works_without_tiles(english, member, settings):
    settings.MAP_TILES_URL = ""
    english.force_login(member)

    page = english.get(reverse("farms:farm_create")).content.decode()

    assert 'data-farm-map data-tiles-url=""' in page
    assert 'data-boundary-input="id_boundary"' in page
    for asset in (
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet-geoman/leaflet-geoman.min.js",
        "js/farm_map.js",
    ):
        assert f"/static/{asset}" in page
        assert finders.find(asset), asset
    assert "cdn" not in page.lower()


def test_farm_map_uses_the_configured_tiles(english, member, farm, settings):
    settings.MAP_TILES_URL = "https://tiles.example.cn/{z}/{x}/{y}.png"
    settings.MAP_TILES_ATTRIBUTION = "© 示例地图"
    english.force_login(member)

    page = english.get(reverse("farms:farm_detail", args=[farm.pk])).content.decode()

    assert 'data-tiles-url="https://tiles.example.cn/{z}/{x}/{y}.png"' in page
    assert "© 示例地图" in page


def test_farm_list_carries_the_farms_as_geojson(english, member, farm, other_farm):
    english.force_login(member)

    response = english.get(reverse("farms:farm_list"))

    features = response.context["features"]["features"]
    assert [f["properties"]["name"] for f in features] == [farm.name]
    assert features[0]["geometry"]["type"] == "Polygon"
    assert 'id="farm-features"' in response.content.decode()


def test_farmer_adds_a_farm_by_pasting_geojson(english, member):
    english.force_login(member)

    response = english.post(
        reverse("farms:farm_create"), {"name": "东地大棚", "boundary": json.dumps(FIELD)}
    )

    farm = Farm.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("farms:farm_detail", args=[farm.pk])
    assert farm.farmer == member
    assert farm.boundary.num_coords == 5


def test_bow_tie_boundary_is_shown_as_a_boundary_error(english, member):
    english.force_login(member)
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[118.79, 36.86], [118.8, 36.87], [118.8, 36.86], [118.79, 36.87], [118.79, 36.86]]
        ],
    }

    response = english.post(
        reverse("farms:farm_create"), {"name": "东地", "boundary": json.dumps(bow_tie)}
    )

    assert list(response.context["form"].errors) == ["boundary"]
    assert "not a valid polygon" in response.content.decode()
    assert not Farm.objects.exists()


def test_farm_with_neither_boundary_nor_location_is_refused_on_the_page(english, member):
    english.force_login(member)

    response = english.post(reverse("farms:farm_create"), {"name": "东地"})

    assert list(response.context["form"].errors) == ["boundary"]


def test_manager_adds_a_farm_for_a_member_on_the_page(english, manager, member):
    english.force_login(manager)

    response = english.post(
        reverse("farms:farm_create"),
        {"name": "北洼", "farmer": member.pk, "location": "118.79,36.86"},
    )

    assert response.status_code == 302
    assert Farm.objects.get().farmer == member


def test_farmer_edits_her_farm(english, member, farm):
    english.force_login(member)
    edit_page = english.get(reverse("farms:farm_update", args=[farm.pk]))

    response = english.post(
        reverse("farms:farm_update", args=[farm.pk]),
        {"name": "东地二号", "boundary": json.dumps(FIELD), "location": ""},
    )

    farm.refresh_from_db()
    assert json.loads(edit_page.context["form"]["boundary"].value())["type"] == "Polygon"
    assert response.status_code == 302
    assert farm.name == "东地二号"
    assert farm.boundary.contains(farm.location)


# Members


def test_manager_invites_a_farmer_by_phone(english, manager, member, sms_outbox):
    english.force_login(manager)

    response = english.post(reverse("farms:member_list"), {"phone": "137 0013 7000"}, follow=True)

    page = response.content.decode()
    assert "An invitation was sent to +8613700137000 by SMS" in page
    assert [i.phone for i in response.context["invitations"]] == ["+8613700137000"]
    assert {m.user for m in response.context["members"]} == {manager, member}


def test_bad_member_phone_is_shown_on_the_phone_field(english, manager):
    english.force_login(manager)

    response = english.post(reverse("farms:member_list"), {"phone": "12345"})

    assert list(response.context["form"].errors) == ["phone"]


def test_farmer_cannot_open_the_members_page(client, member):
    client.force_login(member)

    assert client.get(reverse("farms:member_list")).status_code == 403


def test_admin_sees_members_of_every_cooperative(english, admin_user, member, other_farm):
    english.force_login(admin_user)

    response = english.get(reverse("farms:member_list"))

    assert {m.user for m in response.context["members"]} == {member, other_farm.farmer}
    assert response.context["form"] is None


# Admin


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model", ["cooperative", "membership", "farm", "product", "storageprofile", "harvestlot"]
)
def test_admin_pages_open(staff_client, farm, catalogue, model):
    HarvestLotFactory(farm=farm)

    assert staff_client.get(reverse(f"admin:farms_{model}_changelist")).status_code == 200
    assert staff_client.get(reverse(f"admin:farms_{model}_add")).status_code == 200


def test_admin_farm_page_opens(staff_client, farm):
    assert staff_client.get(reverse("admin:farms_farm_change", args=[farm.pk])).status_code == 200


def test_mobile_layout_meta_is_present(english, member):
    english.force_login(member)

    page = english.get(reverse("farms:lot_create")).content.decode()

    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page


def test_farm_factory_farms_sit_in_their_cooperative(db):
    farm = FarmFactory()

    assert farm.farmer.membership.cooperative == farm.cooperative
