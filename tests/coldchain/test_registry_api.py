"""The registry through the API: sites, cold stores and vehicles (read by the screen roles,
written by controllers) and data loggers (a controller's business only: register with the secret
shown once, assign to a shipment or a store)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role
from coldchain.models import ColdStore, DataLogger, LoggerAssignment, Site, Vehicle
from coldchain.services.registry import logger_secret_matches
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ColdStoreFactory, VehicleFactory

pytestmark = pytest.mark.django_db

API = "/api/coldchain/"
OUTSIDERS = [Role.FARMER, Role.COURIER, Role.CONSUMER, Role.BUYER]


@pytest.fixture(autouse=True)
def english_answers(api_client):
    api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def site_body() -> dict:
    return {"name": "寿光一号冷库", "kind": "cooperative", "longitude": 118.79, "latitude": 36.86}


# --- Every role's limits ----------------------------------------------------------------------


@pytest.mark.parametrize("role", OUTSIDERS)
def test_other_roles_get_403_on_the_registry(api_as, role, store, data_logger):
    client = api_as(UserFactory(role=role))

    answers = [
        client.get(f"{API}sites/"),
        client.post(f"{API}sites/", site_body(), format="json"),
        client.get(f"{API}stores/"),
        client.get(f"{API}stores/{store.pk}/"),
        client.post(f"{API}stores/", {}, format="json"),
        client.get(f"{API}vehicles/"),
        client.post(f"{API}vehicles/", {"plate": "京A1"}, format="json"),
        client.get(f"{API}loggers/"),
        client.post(f"{API}loggers/", {"device_id": "LOG-9"}, format="json"),
        client.post(f"{API}loggers/{data_logger.pk}/assign/", {}, format="json"),
    ]

    assert [answer.status_code for answer in answers] == [403] * len(answers)


@pytest.mark.parametrize("who", ["manager", "market_staff"])
def test_the_ends_read_but_do_not_write_the_registry(api_as, request, who, data_logger):
    client = api_as(request.getfixturevalue(who))

    reads = [client.get(f"{API}sites/"), client.get(f"{API}stores/"), client.get(f"{API}vehicles/")]
    writes = [
        client.post(f"{API}sites/", site_body(), format="json"),
        client.post(f"{API}vehicles/", {"plate": "京A1"}, format="json"),
        client.get(f"{API}loggers/"),
        client.post(f"{API}loggers/", {"device_id": "LOG-9"}, format="json"),
        client.post(f"{API}loggers/{data_logger.pk}/assign/", {}, format="json"),
    ]

    assert [answer.status_code for answer in reads] == [200, 200, 200]
    assert [answer.status_code for answer in writes] == [403] * len(writes)
    assert not Vehicle.objects.exists()
    assert DataLogger.objects.count() == 1


# --- Sites, stores, vehicles ------------------------------------------------------------------


def test_a_controller_adds_a_site_and_every_screen_role_lists_it(
    api_as, coldchain_controller, cooperative, manager
):
    created = api_as(coldchain_controller).post(
        f"{API}sites/", {**site_body(), "cooperative": cooperative.pk}, format="json"
    )
    listed = api_as(manager).get(f"{API}sites/").json()["results"]

    assert created.status_code == 201
    assert created.json() == {
        "id": Site.objects.get().pk,
        "name": "寿光一号冷库",
        "kind": "cooperative",
        "kind_label": "Co-operative",
        "longitude": 118.79,
        "latitude": 36.86,
        "cooperative": cooperative.pk,
        "market": None,
    }
    assert [row["name"] for row in listed] == ["寿光一号冷库"]


def test_a_site_name_is_taken_once(api_as, coldchain_controller):
    client = api_as(coldchain_controller)
    client.post(f"{API}sites/", site_body(), format="json")

    again = client.post(f"{API}sites/", site_body(), format="json")
    off_the_map = client.post(f"{API}sites/", {**site_body(), "latitude": 95}, format="json")

    assert again.status_code == 400
    assert again.json() == {"name": ["A site with this name exists already."]}
    assert off_the_map.status_code == 400
    assert "latitude" in off_the_map.json()


def test_a_controller_adds_a_cold_store(api_as, coldchain_controller, packhouse):
    answer = api_as(coldchain_controller).post(
        f"{API}stores/",
        {
            "code": "packhouse-2",
            "name": "二号冷库",
            "site": packhouse.pk,
            "min_temperature_c": "0.0",
            "max_temperature_c": "2.0",
            "capacity_kg": "20000",
            "excursion_delay_minutes": 20,
        },
        format="json",
    )

    assert answer.status_code == 201
    body = answer.json()
    assert body["site"]["name"] == packhouse.name
    assert body["range"] == {
        "min_temperature_c": "0.0",
        "max_temperature_c": "2.0",
        "excursion_delay_minutes": 20,
        "recovery_minutes": 10,
        "recovery_margin_c": "0.5",
        "signal_timeout_minutes": 15,
    }
    assert ColdStore.objects.get().capacity_kg == 20000


def test_stores_are_seen_by_their_sites_people_only(
    api_as, manager, market_staff, coldchain_controller, store
):
    elsewhere = ColdStoreFactory()

    mine = api_as(manager).get(f"{API}stores/").json()["results"]
    theirs = api_as(market_staff).get(f"{API}stores/{store.pk}/")
    everything = api_as(coldchain_controller).get(f"{API}stores/").json()["results"]

    assert [row["code"] for row in mine] == [store.code]
    assert theirs.status_code == 404
    assert {row["code"] for row in everything} == {store.code, elsewhere.code}


def test_vehicles_are_seen_on_ones_own_shipments(
    api_as, manager, coldchain_controller, shipment, other_shipment
):
    idle = VehicleFactory()

    mine = api_as(manager).get(f"{API}vehicles/").json()["results"]
    everything = api_as(coldchain_controller).get(f"{API}vehicles/").json()["results"]

    assert [row["plate"] for row in mine] == [shipment.vehicle.plate]
    assert api_as(manager).get(f"{API}vehicles/{idle.pk}/").status_code == 404
    assert {row["plate"] for row in everything} == {
        shipment.vehicle.plate,
        other_shipment.vehicle.plate,
        idle.plate,
    }


def test_a_controller_adds_a_vehicle(api_as, coldchain_controller, cooperative):
    client = api_as(coldchain_controller)

    answer = client.post(
        f"{API}vehicles/",
        {"plate": "鲁g88888", "carrier": "寿光冷链", "cooperative": cooperative.pk},
        format="json",
    )
    again = client.post(f"{API}vehicles/", {"plate": "鲁G88888"}, format="json")

    assert answer.status_code == 201
    assert answer.json()["plate"] == "鲁G88888"
    assert again.status_code == 400
    assert list(again.json()) == ["plate"]


# --- Loggers ----------------------------------------------------------------------------------


def test_a_registered_loggers_secret_is_shown_once(api_as, coldchain_controller):
    client = api_as(coldchain_controller)

    answer = client.post(
        f"{API}loggers/", {"device_id": "LOG-0100", "label": "车载"}, format="json"
    )
    listed = client.get(f"{API}loggers/").json()["results"]
    one = client.get(f"{API}loggers/{answer.json()['id']}/").json()

    assert answer.status_code == 201
    secret = answer.json()["secret"]
    assert len(secret) >= 24
    assert logger_secret_matches(DataLogger.objects.get(device_id="LOG-0100"), secret)
    assert answer.json()["assignment"] is None
    assert "secret" not in listed[0]
    assert "secret" not in one
    assert secret not in str(listed)


def test_a_device_id_is_registered_once_and_well_formed(api_as, coldchain_controller, data_logger):
    client = api_as(coldchain_controller)

    taken = client.post(f"{API}loggers/", {"device_id": "LOG-0001"}, format="json")
    malformed = client.post(f"{API}loggers/", {"device_id": "a b"}, format="json")

    assert taken.status_code == 400
    assert list(taken.json()) == ["device_id"]
    assert malformed.status_code == 400
    assert list(malformed.json()) == ["device_id"]
    assert DataLogger.objects.count() == 1


def test_a_logger_is_assigned_to_a_shipment_then_a_store(
    api_as, coldchain_controller, data_logger, shipment, store
):
    client = api_as(coldchain_controller)
    start = timezone.now() - timedelta(hours=1)

    on_truck = client.post(
        f"{API}loggers/{data_logger.pk}/assign/",
        {"shipment": shipment.pk, "starts_at": start.isoformat()},
        format="json",
    )
    in_store = client.post(
        f"{API}loggers/{data_logger.pk}/assign/", {"store": store.pk}, format="json"
    )
    listed = client.get(f"{API}loggers/").json()["results"]

    assert on_truck.status_code == 201
    assert on_truck.json()["shipment"] == shipment.pk
    assert on_truck.json()["logger"] == "LOG-0001"
    assert in_store.status_code == 201
    periods = LoggerAssignment.objects.filter(logger=data_logger).order_by("starts_at")
    assert [(period.shipment_id, period.store_id) for period in periods] == [
        (shipment.pk, None),
        (None, store.pk),
    ]
    assert periods[0].ends_at == periods[1].starts_at
    assert listed[0]["assignment"]["store"] == store.pk


def test_an_assignment_names_one_subject_and_does_not_overlap(
    api_as, coldchain_controller, data_logger, shipment, store
):
    client = api_as(coldchain_controller)
    now = timezone.now()
    client.post(
        f"{API}loggers/{data_logger.pk}/assign/",
        {
            "store": store.pk,
            "starts_at": (now - timedelta(hours=5)).isoformat(),
            "ends_at": (now - timedelta(hours=1)).isoformat(),
        },
        format="json",
    )

    both = client.post(
        f"{API}loggers/{data_logger.pk}/assign/",
        {"store": store.pk, "shipment": shipment.pk},
        format="json",
    )
    overlapping = client.post(
        f"{API}loggers/{data_logger.pk}/assign/",
        {"shipment": shipment.pk, "starts_at": (now - timedelta(hours=3)).isoformat()},
        format="json",
    )

    assert both.status_code == 400
    assert overlapping.status_code == 409
    assert LoggerAssignment.objects.count() == 1


def test_a_platform_admin_keeps_the_loggers_too(api_as, admin_user, data_logger):
    client = api_as(admin_user)

    listed = client.get(f"{API}loggers/")
    registered = client.post(f"{API}loggers/", {"device_id": "LOG-ADMIN"}, format="json")

    assert [row["device_id"] for row in listed.json()["results"]] == ["LOG-0001"]
    assert registered.status_code == 201
