"""The tracking screen's snapshot API and the alerts API: what each role sees, the states the
colours come from, and acknowledging an alert."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from coldchain.choices import AlertKind, ExcursionKind, Severity, ShipmentStatus, SiteKind
from coldchain.models import Alert, Excursion, Reading
from coldchain.services.registry import assign_logger, register_logger
from tests.coldchain.factories import ColdStoreFactory, ShipmentFactory, SiteFactory

SCREEN = "/api/coldchain/screen/"
ALERTS = "/api/coldchain/alerts/"


def watch(subject, device_id: str, *, since_minutes: int = 180):
    """A new logger watching `subject` since `since_minutes` ago; returns the assignment."""
    logger, _secret = register_logger(device_id=device_id)
    return assign_logger(
        logger=logger,
        subject=subject,
        starts_at=timezone.now() - timedelta(minutes=since_minutes),
    )


def read(logger, *, minutes_ago: float, temperature_c: float) -> Reading:
    return Reading.objects.create(
        logger=logger,
        recorded_at=timezone.now() - timedelta(minutes=minutes_ago),
        temperature_c=temperature_c,
    )


def raise_alert(
    assignment,
    *,
    kind=AlertKind.EXCURSION,
    resolved=False,
    acknowledged_by=None,
    severity=Severity.MAJOR,
    minutes_ago: int = 20,
) -> Alert:
    """An alert about the assignment's subject, as monitoring raises it."""
    now = timezone.now()
    subject = {"shipment": assignment.shipment, "store": assignment.store}
    excursion = None
    if kind == AlertKind.EXCURSION:
        excursion = Excursion.objects.create(
            assignment=assignment,
            **subject,
            kind=ExcursionKind.TOO_WARM,
            limit_c=4.0,
            started_at=now - timedelta(minutes=minutes_ago + 15),
            confirmed_at=now - timedelta(minutes=minutes_ago),
            ended_at=now if resolved else None,
            peak_c=9.4,
            degree_minutes=123.44,
            severity=severity,
        )
    return Alert.objects.create(
        kind=kind,
        severity=severity,
        assignment=assignment,
        **subject,
        excursion=excursion,
        raised_at=now - timedelta(minutes=minutes_ago),
        resolved_at=now if resolved else None,
        acknowledged_at=now if acknowledged_by else None,
        acknowledged_by=acknowledged_by,
        acknowledgement_note="Door closed, driver told." if acknowledged_by else "",
    )


def by_code(items: list[dict]) -> dict[str, dict]:
    return {item["code"]: item for item in items}


@pytest.fixture
def other_cooperative_shipment(other_cooperative):
    """From another co-operative's packhouse to a site of nobody's."""
    site = SiteFactory(kind=SiteKind.COOPERATIVE, cooperative=other_cooperative)
    return ShipmentFactory(origin=site)


# --- the snapshot ---


def test_controller_sees_every_leg_under_way_with_its_position_range_and_latest_reading(
    api_as, coldchain_controller, shipment, shipment_logger, other_shipment
):
    shipment.vehicle.last_position = Point(116.512345678, 39.951, srid=4326)
    shipment.vehicle.last_position_at = timezone.now() - timedelta(minutes=5)
    shipment.vehicle.save()
    read(shipment_logger, minutes_ago=30, temperature_c=3.1)
    read(shipment_logger, minutes_ago=10, temperature_c=3.456)

    response = api_as(coldchain_controller).get(SCREEN)

    assert response.status_code == 200
    shipments = by_code(response.json()["shipments"])
    assert set(shipments) == {shipment.code, other_shipment.code}
    shown = shipments[shipment.code]
    assert shown["id"] == shipment.pk
    assert shown["status"] == ShipmentStatus.IN_TRANSIT
    assert shown["status_label"]
    assert shown["is_active"] is True
    assert shown["state"] == "ok"
    assert shown["origin"] == {
        "id": shipment.origin.pk,
        "name": "合作社冷库",
        "location": [116.4, 39.9],
    }
    assert shown["destination"]["name"] == "新发地市场"
    assert shown["vehicle"]["plate"] == shipment.vehicle.plate
    assert shown["vehicle"]["position"] == [116.512346, 39.951]
    assert shown["min_temperature_c"] == 0.0
    assert shown["max_temperature_c"] == 4.0
    assert shown["latest_reading"]["temperature_c"] == 3.46
    assert shown["readings_url"] == f"/api/coldchain/shipments/{shipment.pk}/readings/"
    assert shipments[other_shipment.code]["latest_reading"] is None


def test_finished_legs_stay_on_the_screen_for_a_day_and_cancelled_ones_leave_it(
    api_as, coldchain_controller
):
    now = timezone.now()
    ShipmentFactory(code="PLANNED", status=ShipmentStatus.PLANNED, departed_at=None)
    ShipmentFactory(
        code="JUST-IN", status=ShipmentStatus.DELIVERED, arrived_at=now - timedelta(hours=2)
    )
    ShipmentFactory(
        code="REFUSED", status=ShipmentStatus.REJECTED, arrived_at=now - timedelta(hours=20)
    )
    ShipmentFactory(
        code="LAST-WEEK", status=ShipmentStatus.DELIVERED, arrived_at=now - timedelta(days=2)
    )
    ShipmentFactory(code="CALLED-OFF", status=ShipmentStatus.CANCELLED)

    shipments = api_as(coldchain_controller).get(SCREEN).json()["shipments"]

    assert {item["code"] for item in shipments} == {"PLANNED", "JUST-IN", "REFUSED"}
    assert by_code(shipments)["JUST-IN"]["is_active"] is False


def test_latest_reading_is_the_subjects_own_not_the_loggers_next_assignment(
    api_as, coldchain_controller, shipment, store, data_logger
):
    """A logger moved from the truck to the cold store: its newer readings are the store's."""
    now = timezone.now()
    assign_logger(logger=data_logger, subject=shipment, starts_at=now - timedelta(hours=3))
    assign_logger(logger=data_logger, subject=store, starts_at=now - timedelta(minutes=30))
    read(data_logger, minutes_ago=60, temperature_c=2.5)
    read(data_logger, minutes_ago=10, temperature_c=1.0)

    snapshot = api_as(coldchain_controller).get(SCREEN).json()

    assert snapshot["shipments"][0]["latest_reading"]["temperature_c"] == 2.5
    [shown_store] = snapshot["stores"]
    assert shown_store["latest_reading"]["temperature_c"] == 1.0
    assert shown_store["site"]["name"] == "合作社冷库"
    assert shown_store["readings_url"] == f"/api/coldchain/stores/{store.pk}/readings/"


def test_state_comes_from_unresolved_alerts_and_the_worst_comes_first(
    api_as, coldchain_controller, shipment, shipment_logger, store, store_logger
):
    fine = ShipmentFactory(code="A-FINE")
    silent = ShipmentFactory(code="B-SILENT")
    recovered = ShipmentFactory(code="C-RECOVERED")
    raise_alert(watch(silent, "LOG-SILENT"), kind=AlertKind.SIGNAL_LOST)
    raise_alert(watch(recovered, "LOG-RECOVERED"), resolved=True)
    shipment_assignment = shipment.logger_assignments.get()
    raise_alert(shipment_assignment, kind=AlertKind.SIGNAL_LOST)
    raise_alert(shipment_assignment)  # an excursion outranks a loss of signal
    raise_alert(store.logger_assignments.get(), kind=AlertKind.SIGNAL_LOST)

    snapshot = api_as(coldchain_controller).get(SCREEN, HTTP_ACCEPT_LANGUAGE="en").json()

    states = [(item["code"], item["state"]) for item in snapshot["shipments"]]
    assert states == [
        (shipment.code, "excursion"),
        ("B-SILENT", "signal_lost"),
        ("A-FINE", "ok"),
        ("C-RECOVERED", "ok"),
    ]
    assert fine.pk  # (created for the list)
    assert by_code(snapshot["shipments"])[shipment.code]["state_label"] == "Temperature excursion"
    assert snapshot["stores"][0]["state"] == "signal_lost"


def test_open_alerts_are_those_not_acknowledged_or_not_resolved_newest_first(
    api_as, coldchain_controller, shipment, shipment_logger
):
    assignment = shipment.logger_assignments.get()
    old = raise_alert(assignment, resolved=True, minutes_ago=90)  # resolved, not acknowledged
    handled = raise_alert(
        assignment, kind=AlertKind.SIGNAL_LOST, acknowledged_by=coldchain_controller, minutes_ago=60
    )  # acknowledged, still going on
    raise_alert(
        watch(ShipmentFactory(), "LOG-DONE"),
        resolved=True,
        acknowledged_by=coldchain_controller,
        minutes_ago=30,
    )  # both: closed
    newest = raise_alert(assignment, minutes_ago=5)

    alerts = api_as(coldchain_controller).get(SCREEN).json()["alerts"]

    assert [alert["id"] for alert in alerts] == [newest.pk, handled.pk, old.pk]
    newest_shown = alerts[0]
    assert newest_shown["subject"] == "shipment"
    assert newest_shown["subject_code"] == shipment.code
    assert newest_shown["kind"] == AlertKind.EXCURSION
    assert newest_shown["severity"] == Severity.MAJOR
    assert newest_shown["excursion"]["degree_minutes"] == 123.4
    assert alerts[1]["acknowledgement_note"] == "Door closed, driver told."


def test_cooperative_manager_sees_only_her_cooperatives_legs_stores_and_alerts(
    api_as, manager, shipment, shipment_logger, store, other_shipment, other_cooperative_shipment
):
    raise_alert(shipment.logger_assignments.get())
    raise_alert(watch(other_cooperative_shipment, "LOG-OTHER"))
    ColdStoreFactory()  # somebody else's store

    snapshot = api_as(manager).get(SCREEN).json()

    assert [item["code"] for item in snapshot["shipments"]] == [shipment.code]
    assert snapshot["shipments"][0]["state"] == "excursion"
    assert [item["code"] for item in snapshot["stores"]] == [store.code]
    assert [alert["subject_code"] for alert in snapshot["alerts"]] == [shipment.code]


def test_market_operator_sees_the_legs_coming_to_her_market(
    api_as, market_staff, shipment, other_shipment, store
):
    snapshot = api_as(market_staff).get(SCREEN).json()

    assert [item["code"] for item in snapshot["shipments"]] == [shipment.code]
    assert snapshot["stores"] == []  # the store is the co-operative's


@pytest.mark.parametrize("role", ["farmer", "buyer", "courier", "consumer", "warehouse_manager"])
def test_other_roles_have_no_screen(api_as, request, role):
    assert api_as(request.getfixturevalue(role)).get(SCREEN).status_code == 403


def test_the_snapshot_needs_a_signed_in_user(api_client, db):
    assert api_client.get(SCREEN).status_code == 401


def _busy_screen(site, *, legs: int, prefix: str) -> None:
    """`legs` shipments and as many stores at `site`, each with a logger, a reading and an
    alert."""
    for number in range(legs):
        assignment = watch(ShipmentFactory(origin=site), f"{prefix}-{number}")
        read(assignment.logger, minutes_ago=5, temperature_c=3.0)
        raise_alert(assignment, kind=AlertKind.SIGNAL_LOST)
        store_assignment = watch(ColdStoreFactory(site=site), f"{prefix}-STORE-{number}")
        read(store_assignment.logger, minutes_ago=5, temperature_c=2.0)
        raise_alert(store_assignment)


@pytest.mark.parametrize("who", ["coldchain_controller", "manager"])
def test_the_snapshot_takes_the_same_few_queries_however_much_is_on_screen(
    api_as, request, packhouse, who, django_assert_max_num_queries
):
    client = api_as(request.getfixturevalue(who))
    _busy_screen(packhouse, legs=1, prefix="LOG-ONE")
    with django_assert_max_num_queries(10) as one_leg:
        assert len(client.get(SCREEN).json()["shipments"]) == 1

    _busy_screen(packhouse, legs=8, prefix="LOG-MORE")
    with django_assert_max_num_queries(len(one_leg.captured_queries)):
        snapshot = client.get(SCREEN).json()

    assert len(snapshot["shipments"]) == 9
    assert len(snapshot["stores"]) == 9
    assert len(snapshot["alerts"]) == 18
    assert all(item["latest_reading"] for item in snapshot["shipments"] + snapshot["stores"])


# --- the alerts ---


def test_alerts_list_open_ones_on_request_for_the_subjects_the_user_sees(
    api_as, manager, coldchain_controller, shipment, shipment_logger, other_cooperative_shipment
):
    assignment = shipment.logger_assignments.get()
    open_alert = raise_alert(assignment)
    closed = raise_alert(
        assignment, resolved=True, acknowledged_by=coldchain_controller, minutes_ago=60
    )
    raise_alert(watch(other_cooperative_shipment, "LOG-OTHER"))

    every = api_as(manager).get(ALERTS).json()["results"]
    still_open = api_as(manager).get(ALERTS, {"open": "1"}).json()["results"]
    about_shipment = api_as(coldchain_controller).get(ALERTS, {"shipment": shipment.pk}).json()

    assert [alert["id"] for alert in every] == [open_alert.pk, closed.pk]
    assert [alert["id"] for alert in still_open] == [open_alert.pk]
    assert about_shipment["count"] == 2


def test_an_alert_about_another_cooperative_is_not_found(
    api_as, manager, other_cooperative_shipment
):
    alert = raise_alert(watch(other_cooperative_shipment, "LOG-OTHER"))

    assert api_as(manager).get(f"{ALERTS}{alert.pk}/").status_code == 404


def test_controller_acknowledges_an_alert_with_a_note(
    api_as, coldchain_controller, shipment, shipment_logger
):
    alert = raise_alert(shipment.logger_assignments.get())

    response = api_as(coldchain_controller).post(
        f"{ALERTS}{alert.pk}/acknowledge/",
        {"note": "  Driver is re-icing the load.  "},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["acknowledged_at"] is not None
    assert response.json()["acknowledgement_note"] == "Driver is re-icing the load."
    alert.refresh_from_db()
    assert alert.acknowledged_by == coldchain_controller
    assert alert.acknowledgement_note == "Driver is re-icing the load."
    # Still open (not resolved): it stays on the screen, marked as acknowledged.
    assert [item["id"] for item in api_as(coldchain_controller).get(SCREEN).json()["alerts"]] == [
        alert.pk
    ]


@pytest.mark.parametrize("body", [{}, {"note": ""}, {"note": "   "}])
def test_acknowledging_needs_a_note(api_as, coldchain_controller, shipment, shipment_logger, body):
    alert = raise_alert(shipment.logger_assignments.get())

    response = api_as(coldchain_controller).post(
        f"{ALERTS}{alert.pk}/acknowledge/", body, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["note"]
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_an_alert_is_acknowledged_once(
    api_as, coldchain_controller, admin_user, shipment, shipment_logger
):
    alert = raise_alert(shipment.logger_assignments.get())
    url = f"{ALERTS}{alert.pk}/acknowledge/"
    assert (
        api_as(coldchain_controller).post(url, {"note": "On it."}, format="json").status_code == 200
    )

    again = api_as(admin_user).post(url, {"note": "Me too."}, format="json")

    assert again.status_code == 409
    assert "detail" in again.json()
    alert.refresh_from_db()
    assert alert.acknowledged_by == coldchain_controller
    assert alert.acknowledgement_note == "On it."


def test_a_cooperative_sees_its_alert_but_does_not_acknowledge_it(
    api_as, manager, market_staff, shipment, shipment_logger
):
    alert = raise_alert(shipment.logger_assignments.get())
    url = f"{ALERTS}{alert.pk}/acknowledge/"

    assert api_as(manager).get(f"{ALERTS}{alert.pk}/").status_code == 200
    assert api_as(manager).post(url, {"note": "Seen."}, format="json").status_code == 403
    assert api_as(market_staff).post(url, {"note": "Seen."}, format="json").status_code == 403
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_acknowledging_an_alert_not_seen_is_not_found(
    api_as, manager, coldchain_controller, other_cooperative_shipment
):
    alert = raise_alert(watch(other_cooperative_shipment, "LOG-OTHER"))

    assert (
        api_as(manager)
        .post(f"{ALERTS}{alert.pk}/acknowledge/", {"note": "x"}, format="json")
        .status_code
        == 404
    )
    assert (
        api_as(coldchain_controller)
        .post(f"{ALERTS}{alert.pk + 1000}/acknowledge/", {"note": "x"}, format="json")
        .status_code
        == 404
    )


def test_other_roles_see_no_alerts(api_as, farmer):
    assert api_as(farmer).get(ALERTS).status_code == 403
