"""Shipments through the API: list, plan, read, cancel, hand over, the attached records and the
reading series the charts draw; every role's limits on every endpoint."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role
from coldchain.choices import AlertKind
from coldchain.models import Alert, Handover, LoggerAssignment, LotCondition, Shipment
from coldchain.services.handovers import record_handover
from coldchain.services.registry import assign_logger, register_logger
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ShipmentFactory, SiteFactory
from tests.coldchain.shipment_factories import SHIPMENTS, add_readings, plan_body

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("media_root", "in_english", "english_answers"),
]

OUTSIDERS = [Role.FARMER, Role.COURIER, Role.CONSUMER, Role.BUYER, Role.WAREHOUSE_MANAGER]


def one(shipment) -> str:
    return f"{SHIPMENTS}{shipment.pk}/"


def handover_body(kind="loading", decision="accepted", probe="1.5", note="") -> dict:
    return {"kind": kind, "decision": decision, "probe_temperature_c": probe, "note": note}


# --- Every role's limits ----------------------------------------------------------------------


@pytest.mark.parametrize("role", OUTSIDERS)
def test_other_roles_get_403_everywhere(api_as, role, shipment, store):
    client = api_as(UserFactory(role=role))

    answers = [
        client.get(SHIPMENTS),
        client.post(SHIPMENTS, {}, format="json"),
        client.get(one(shipment)),
        client.post(f"{one(shipment)}cancel/"),
        client.get(f"{one(shipment)}handovers/"),
        client.post(f"{one(shipment)}handovers/", handover_body(), format="json"),
        client.get(f"{one(shipment)}handovers/loading/record/"),
        client.get(f"{one(shipment)}readings/"),
        client.get(f"/api/coldchain/stores/{store.pk}/readings/"),
    ]

    assert [answer.status_code for answer in answers] == [403] * len(answers)


def test_anonymous_callers_are_asked_to_sign_in(api_client, shipment):
    assert api_client.get(one(shipment)).status_code == 401


def test_a_controller_sees_every_shipment(api_as, coldchain_controller, shipment, other_shipment):
    answer = api_as(coldchain_controller).get(SHIPMENTS)

    assert answer.status_code == 200
    assert {row["code"] for row in answer.json()["results"]} == {
        shipment.code,
        other_shipment.code,
    }


@pytest.mark.parametrize("who", ["manager", "market_staff"])
def test_each_end_sees_its_own_shipments_only(api_as, request, who, shipment, other_shipment):
    client = api_as(request.getfixturevalue(who))

    listed = client.get(SHIPMENTS).json()["results"]
    answers = [
        client.get(one(other_shipment)),
        client.post(f"{one(other_shipment)}cancel/"),
        client.get(f"{one(other_shipment)}handovers/"),
        client.post(f"{one(other_shipment)}handovers/", handover_body(), format="json"),
        client.get(f"{one(other_shipment)}handovers/loading/record/"),
        client.get(f"{one(other_shipment)}readings/"),
    ]

    assert [row["code"] for row in listed] == [shipment.code]
    assert client.get(one(shipment)).status_code == 200
    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert not Handover.objects.exists()


def test_a_manager_of_no_cooperative_sees_nothing(api_as, cooperative_manager, shipment):
    client = api_as(cooperative_manager)

    assert client.get(SHIPMENTS).json()["results"] == []
    assert client.get(one(shipment)).status_code == 404


def test_the_list_is_filtered_by_status(api_as, coldchain_controller, shipment, planned):
    client = api_as(coldchain_controller)

    in_transit = client.get(SHIPMENTS, {"status": "in_transit"}).json()["results"]
    waiting = client.get(SHIPMENTS, {"status": "planned"}).json()["results"]
    nonsense = client.get(SHIPMENTS, {"status": "lost"})

    assert [row["code"] for row in in_transit] == [shipment.code]
    assert [row["code"] for row in waiting] == [planned.code]
    assert nonsense.status_code == 400
    assert "status" in nonsense.json()


def test_the_list_costs_a_fixed_number_of_queries(
    api_as, coldchain_controller, django_assert_max_num_queries
):
    ShipmentFactory.create_batch(5)
    client = api_as(coldchain_controller)

    with django_assert_max_num_queries(3):
        answer = client.get(SHIPMENTS)

    assert answer.json()["count"] == 5


# --- Planning ---------------------------------------------------------------------------------


def test_a_controller_plans_a_shipment(
    api_as, coldchain_controller, packhouse, market_site, lot_of
):
    lettuce = lot_of("VEG-LETTUCE")

    answer = api_as(coldchain_controller).post(
        SHIPMENTS, plan_body(packhouse, market_site, [(lettuce, "120.5")]), format="json"
    )

    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "planned"
    assert body["status_label"] == "Planned"
    assert body["code"].startswith("SH-")
    assert body["origin"]["name"] == packhouse.name
    assert body["destination"]["id"] == market_site.pk
    assert body["range"]["min_temperature_c"] == "0.0"
    assert body["range"]["max_temperature_c"] == "2.0"
    assert body["range"]["excursion_delay_minutes"] == 15
    assert body["compatibility_warnings"] == []
    assert body["lots"] == [
        {
            "lot": lettuce.pk,
            "lot_code": lettuce.lot_code,
            "product": "VEG-LETTUCE",
            "product_name": "生菜",
            "quantity_kg": "120.500",
            "order": None,
            "trade": None,
            "condition": None,
            "held_reason": None,
        }
    ]
    assert body["handovers"] == []
    assert body["open_alerts"] == []
    assert Shipment.objects.get().planned_by == coldchain_controller


def test_products_that_cannot_travel_together_are_400_on_lots(
    api_as, coldchain_controller, packhouse, market_site, lot_of
):
    body = plan_body(
        packhouse, market_site, [(lot_of("FRT-BANANA"), "10"), (lot_of("VEG-LETTUCE"), "10")]
    )

    answer = api_as(coldchain_controller).post(SHIPMENTS, body, format="json")

    assert answer.status_code == 400
    assert answer.json() == {
        "lots": [
            "These products cannot travel together: Banana (13–14 °C) and Lettuce (crisphead) "
            "(0–2 °C)."
        ]
    }
    assert not Shipment.objects.exists()


def test_an_awkward_mix_is_planned_only_once_confirmed(
    api_as, coldchain_controller, packhouse, market_site, lot_of
):
    client = api_as(coldchain_controller)
    body = plan_body(
        packhouse, market_site, [(lot_of("FRT-MANGO"), "10"), (lot_of("VEG-TOMATO"), "10")]
    )

    asked = client.post(SHIPMENTS, body, format="json")
    confirmed = client.post(SHIPMENTS, {**body, "accept_warnings": True}, format="json")

    assert asked.status_code == 400
    assert list(asked.json()) == ["accept_warnings", "warnings"]
    assert len(asked.json()["warnings"]) == 1
    assert "12.8–13 °C" in asked.json()["warnings"][0]
    assert confirmed.status_code == 201
    assert confirmed.json()["compatibility_warnings"] == asked.json()["warnings"]
    assert confirmed.json()["range"]["min_temperature_c"] == "12.8"


def test_bad_input_is_400_by_field(api_as, coldchain_controller, packhouse, lot_of):
    body = plan_body(packhouse, packhouse, [(lot_of("VEG-LETTUCE"), "10")])
    body["lots"].append({"lot": 999_999, "quantity_kg": "1"})
    body["planned_departure_at"] = "tomorrow"

    answer = api_as(coldchain_controller).post(SHIPMENTS, body, format="json")

    assert answer.status_code == 400
    assert set(answer.json()) == {"lots", "planned_departure_at"}


def test_a_refused_quantity_is_400_on_lots(
    api_as, coldchain_controller, packhouse, market_site, lot_of
):
    lot = lot_of("VEG-LETTUCE", kg="100")

    answer = api_as(coldchain_controller).post(
        SHIPMENTS, plan_body(packhouse, market_site, [(lot, "100.5")]), format="json"
    )

    assert answer.status_code == 400
    assert answer.json() == {"lots": [f"Lot {lot.lot_code} holds only 100 kg, not 100.5 kg."]}


def test_a_manager_plans_from_her_site_but_not_between_others(
    api_as, manager, packhouse, market_site, lot_of
):
    client = api_as(manager)
    lot = lot_of("VEG-LETTUCE")

    own = client.post(SHIPMENTS, plan_body(packhouse, market_site, [(lot, "5")]), format="json")
    theirs = client.post(
        SHIPMENTS, plan_body(SiteFactory(), SiteFactory(), [(lot, "5")]), format="json"
    )

    assert own.status_code == 201
    assert theirs.status_code == 403
    assert Shipment.objects.count() == 1


# --- Reading one ------------------------------------------------------------------------------


def test_a_shipment_shows_its_lots_condition_handovers_and_open_alerts(
    api_as, coldchain_controller, planned, data_logger
):
    now = timezone.now()
    line = planned.lots.get()
    LotCondition.objects.create(
        lot=line.lot,
        evaluated_at=now,
        consumed_fraction=0.25,
        remaining_days=9.5,
        expected_expiry_at=now + timedelta(days=9.5),
    )
    assignment = assign_logger(
        logger=data_logger, subject=planned, starts_at=now - timedelta(hours=1)
    )
    alert = Alert.objects.create(
        kind=AlertKind.SIGNAL_LOST, assignment=assignment, shipment=planned
    )
    Alert.objects.create(
        kind=AlertKind.SIGNAL_LOST,
        assignment=assignment,
        shipment=planned,
        resolved_at=now,
        acknowledged_at=now,
        acknowledged_by=coldchain_controller,
    )
    record_handover(
        shipment=planned,
        kind="loading",
        decision="accepted",
        probe_temperature_c="1.2",
        by=coldchain_controller,
    )

    body = api_as(coldchain_controller).get(one(planned)).json()

    assert body["status"] == "in_transit"
    assert body["lots"][0]["condition"]["remaining_days"] == 9.5
    assert body["lots"][0]["condition"]["consumed_fraction"] == 0.25
    [handover] = body["handovers"]
    assert handover["kind"] == "loading"
    assert handover["decision"] == "accepted"
    assert handover["probe_temperature_c"] == "1.2"
    assert handover["record_url"] == f"{one(planned)}handovers/loading/record/"
    assert handover["record_summary"]["readings"] == 0
    assert [row["id"] for row in body["open_alerts"]] == [alert.pk]
    assert body["open_alerts"][0]["kind"] == "signal_lost"


# --- Moving it --------------------------------------------------------------------------------


def test_a_planned_shipment_is_cancelled_once(api_as, coldchain_controller, planned):
    client = api_as(coldchain_controller)

    first = client.post(f"{one(planned)}cancel/")
    again = client.post(f"{one(planned)}cancel/")

    assert first.status_code == 200
    assert first.json()["status"] == "cancelled"
    assert again.status_code == 409
    assert "detail" in again.json()


def test_handovers_move_the_shipment_and_a_second_loading_is_409(
    api_as, manager, market_staff, planned
):
    loading = api_as(manager).post(f"{one(planned)}handovers/", handover_body(), format="json")
    again = api_as(manager).post(f"{one(planned)}handovers/", handover_body(), format="json")
    unloading = api_as(market_staff).post(
        f"{one(planned)}handovers/", handover_body("unloading", probe="2.1"), format="json"
    )

    assert loading.status_code == 201
    assert loading.json()["shipment"]["status"] == "in_transit"
    assert loading.json()["record_summary"]["readings"] == 0
    assert again.status_code == 409
    assert unloading.status_code == 201
    assert unloading.json()["shipment"] == {
        "id": planned.pk,
        "code": planned.code,
        "status": "delivered",
        "status_label": "Delivered",
    }
    listed = api_as(manager).get(f"{one(planned)}handovers/").json()
    assert [row["kind"] for row in listed] == ["loading", "unloading"]


def test_the_wrong_end_gets_403_and_bad_input_400(api_as, market_staff, manager, planned):
    wrong_end = api_as(market_staff).post(
        f"{one(planned)}handovers/", handover_body(), format="json"
    )
    client = api_as(manager)
    too_hot = client.post(f"{one(planned)}handovers/", handover_body(probe="60"), format="json")
    no_reason = client.post(
        f"{one(planned)}handovers/", handover_body(decision="rejected"), format="json"
    )
    nonsense = client.post(
        f"{one(planned)}handovers/", handover_body(kind="halfway", probe="x"), format="json"
    )

    assert wrong_end.status_code == 403
    assert (too_hot.status_code, list(too_hot.json())) == (400, ["probe_temperature_c"])
    assert no_reason.json() == {"note": ["Say why the goods are rejected."]}
    assert set(nonsense.json()) == {"kind", "probe_temperature_c"}
    assert not Handover.objects.exists()


def test_the_record_of_a_handover_is_a_csv_download(
    api_as, coldchain_controller, planned, data_logger
):
    start = timezone.now() - timedelta(minutes=10)
    assign_logger(logger=data_logger, subject=planned, starts_at=start)
    add_readings(data_logger, start, [1.1, 1.3])
    client = api_as(coldchain_controller)
    client.post(f"{one(planned)}handovers/", handover_body(), format="json")

    answer = client.get(f"{one(planned)}handovers/loading/record/")
    missing = client.get(f"{one(planned)}handovers/unloading/record/")

    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{planned.code}-loading.csv"' in answer["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert [row["temperature_c"] for row in rows] == ["1.1", "1.3"]
    assert missing.status_code == 404


# --- Reading series ---------------------------------------------------------------------------


def test_the_series_is_the_range_and_time_ordered_points(
    api_as, coldchain_controller, shipment, shipment_logger
):
    start = LoggerAssignment.objects.get(logger=shipment_logger).starts_at.replace(microsecond=0)
    start += timedelta(seconds=1)
    add_readings(shipment_logger, start, [2.0, 2.25, 3.125], humidity=90.0)

    body = api_as(coldchain_controller).get(f"{one(shipment)}readings/").json()

    assert body == {
        "min_temperature_c": 0.0,
        "max_temperature_c": 4.0,
        "points": [
            [int(start.timestamp()), 2.0, 90.0, False],
            [int(start.timestamp()) + 60, 2.25, 90.0, False],
            [int(start.timestamp()) + 120, 3.12, 90.0, False],
        ],
        "late_readings": 0,
    }


def test_the_series_starts_where_asked(api_as, coldchain_controller, shipment, shipment_logger):
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=30)
    add_readings(shipment_logger, start, [1.0, 2.0, 3.0, 4.0])
    since = (start + timedelta(minutes=2)).isoformat()

    answer = api_as(coldchain_controller).get(f"{one(shipment)}readings/", {"since": since})
    bad = api_as(coldchain_controller).get(f"{one(shipment)}readings/", {"since": "yesterday"})

    assert [point[1] for point in answer.json()["points"]] == [3.0, 4.0]
    assert bad.status_code == 400
    assert "since" in bad.json()


def test_a_long_series_is_averaged_into_at_most_720_buckets(
    api_as, coldchain_controller, shipment, shipment_logger
):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=2, minutes=50)
    # 1,000 readings ten seconds apart: the first half at 2 °C, the second at 4 °C.
    add_readings(shipment_logger, start, [2.0] * 500 + [4.0] * 500, step=timedelta(seconds=10))

    points = api_as(coldchain_controller).get(f"{one(shipment)}readings/").json()["points"]

    assert 600 < len(points) <= 720
    times = [point[0] for point in points]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert times[0] == int(start.timestamp())
    assert times[-1] <= int((start + timedelta(seconds=9990)).timestamp())
    assert points[0][1:] == [2.0, 90.0, False]
    assert points[-1][1:] == [4.0, 90.0, False]
    assert all(2.0 <= point[1] <= 4.0 for point in points)
    assert sum(point[1] for point in points) / len(points) == pytest.approx(3.0, abs=0.05)


def test_a_store_series_defaults_to_the_last_24_hours(api_as, manager, store):
    now = timezone.now().replace(microsecond=0)
    logger, _secret = register_logger(device_id="LOG-STORE-9")
    assign_logger(logger=logger, subject=store, starts_at=now - timedelta(days=3))
    add_readings(logger, now - timedelta(hours=23), [3.0])
    add_readings(logger, now - timedelta(hours=25), [9.0])

    body = api_as(manager).get(f"/api/coldchain/stores/{store.pk}/readings/").json()

    assert body["min_temperature_c"] == 0.0
    assert [point[1] for point in body["points"]] == [3.0]


def test_a_store_elsewhere_is_not_found(api_as, market_staff, store):
    answer = api_as(market_staff).get(f"/api/coldchain/stores/{store.pk}/readings/")

    assert answer.status_code == 404
