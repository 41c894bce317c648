"""A shipment's state machine: one transition table, every move recorded (who, when, from, to,
why), every other move refused without changing anything, and the history shown on the
shipment page and in the API to those who may see the shipment, and to nobody else."""

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.choices import Role
from coldchain.choices import SHIPMENT_MOVES, HandoverKind, ShipmentStatus
from coldchain.exceptions import InvalidShipmentTransition
from coldchain.models import Handover, Shipment, ShipmentEvent
from coldchain.selectors.shipments import handover_due
from coldchain.services.handovers import record_handover
from coldchain.services.shipments import cancel_shipment, lock_shipment, move_shipment
from common.exceptions import InvalidTransition, RefusalKind
from tests.accounts.factories import UserFactory
from tests.farms.factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "in_english")]

LOADING, UNLOADING = HandoverKind.LOADING, HandoverKind.UNLOADING
PLANNED, IN_TRANSIT = ShipmentStatus.PLANNED, ShipmentStatus.IN_TRANSIT


def hand_over(shipment, kind, by, decision="accepted", note=""):
    return record_handover(
        shipment=shipment,
        kind=kind,
        decision=decision,
        probe_temperature_c=Decimal("1.5"),
        note=note,
        by=by,
    )


def moves_of(shipment) -> list[tuple[str, str, str | None]]:
    return [
        (event.from_status, event.to_status, event.actor.username if event.actor else None)
        for event in ShipmentEvent.objects.filter(shipment=shipment).select_related("actor")
    ]


def snapshot(shipment) -> tuple:
    """What a refused move must leave as it was."""
    shipment = Shipment.objects.get(pk=shipment.pk)
    return (
        shipment.status,
        shipment.departed_at,
        shipment.arrived_at,
        ShipmentEvent.objects.filter(shipment=shipment).count(),
        Handover.objects.filter(shipment=shipment).count(),
    )


# --- Every allowed move records an event ------------------------------------------------------


def test_planning_records_who_planned_the_shipment(planned, coldchain_controller):
    event = ShipmentEvent.objects.get(shipment=planned)

    assert (event.from_status, event.to_status) == ("", PLANNED)
    assert event.actor == coldchain_controller
    assert event.at <= timezone.now()


def test_loading_and_unloading_accepted_record_each_move(planned, coldchain_controller):
    hand_over(planned, LOADING, coldchain_controller)
    hand_over(planned, UNLOADING, coldchain_controller)

    who = coldchain_controller.username
    assert moves_of(planned) == [
        ("", PLANNED, who),
        (PLANNED, IN_TRANSIT, who),
        (IN_TRANSIT, ShipmentStatus.DELIVERED, who),
    ]
    events = list(ShipmentEvent.objects.filter(shipment=planned))
    assert events[1].reason == "Loading: Accepted"
    assert events[2].reason == "Unloading: Accepted"


def test_a_rejection_records_the_move_and_why(planned, coldchain_controller):
    hand_over(planned, LOADING, coldchain_controller)
    hand_over(planned, UNLOADING, coldchain_controller, decision="rejected", note="Wilted.")

    last = ShipmentEvent.objects.filter(shipment=planned).last()
    assert (last.from_status, last.to_status) == (IN_TRANSIT, ShipmentStatus.REJECTED)
    assert last.reason == "Unloading: Rejected — Wilted."


def test_a_rejected_loading_cancels_with_an_event(planned, manager):
    hand_over(planned, LOADING, manager, decision="rejected", note="Too warm at the dock.")

    assert moves_of(planned)[-1] == (PLANNED, ShipmentStatus.CANCELLED, manager.username)


def test_cancelling_records_an_event(planned, manager):
    cancel_shipment(shipment=planned, by=manager)

    assert moves_of(planned)[-1] == (PLANNED, ShipmentStatus.CANCELLED, manager.username)


def test_every_move_of_the_table_is_recorded(plan, lot_of, coldchain_controller):
    for current, allowed in SHIPMENT_MOVES.table.items():
        for target in allowed:
            shipment = plan(coldchain_controller, [(lot_of("VEG-LETTUCE", kg="10"), "5")])
            Shipment.objects.filter(pk=shipment.pk).update(status=current)
            shipment.refresh_from_db()

            move_shipment(shipment=shipment, to=target, by=coldchain_controller, reason="test")

            shipment.refresh_from_db()
            assert shipment.status == target
            assert moves_of(shipment)[-1] == (current, target, coldchain_controller.username)


# --- A forbidden move is refused and changes nothing ------------------------------------------


def test_a_second_loading_is_refused_and_changes_nothing(planned, coldchain_controller):
    hand_over(planned, LOADING, coldchain_controller)
    before = snapshot(planned)

    with pytest.raises(InvalidShipmentTransition) as refusal:
        hand_over(planned, LOADING, coldchain_controller)

    assert refusal.value.kind == RefusalKind.CONFLICT
    assert snapshot(planned) == before


def test_an_unloading_before_loading_is_refused_and_changes_nothing(planned, coldchain_controller):
    before = snapshot(planned)

    with pytest.raises(InvalidShipmentTransition):
        hand_over(planned, UNLOADING, coldchain_controller)

    assert snapshot(planned) == before


def test_a_shipment_on_its_way_cannot_be_cancelled(planned, coldchain_controller):
    hand_over(planned, LOADING, coldchain_controller)
    before = snapshot(planned)

    with pytest.raises(InvalidShipmentTransition):
        cancel_shipment(shipment=planned, by=coldchain_controller)

    assert snapshot(planned) == before


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (PLANNED, ShipmentStatus.DELIVERED),
        (IN_TRANSIT, ShipmentStatus.CANCELLED),
        (ShipmentStatus.DELIVERED, IN_TRANSIT),
        (ShipmentStatus.CANCELLED, PLANNED),
    ],
)
def test_a_move_outside_the_table_is_refused(planned, coldchain_controller, current, target):
    Shipment.objects.filter(pk=planned.pk).update(status=current)
    before = snapshot(planned)

    with pytest.raises(InvalidShipmentTransition) as refusal:
        move_shipment(shipment=lock_shipment(planned), to=target, by=coldchain_controller)

    assert isinstance(refusal.value, InvalidTransition)
    assert refusal.value.details == {"current": current, "requested": target}
    assert snapshot(planned) == before


def test_a_handover_is_due_only_when_the_table_allows_it(planned, coldchain_controller):
    assert handover_due(planned, LOADING)
    assert not handover_due(planned, UNLOADING)

    hand_over(planned, LOADING, coldchain_controller)
    planned.refresh_from_db()

    assert not handover_due(planned, LOADING)
    assert handover_due(planned, UNLOADING)


# --- Who sees the history ---------------------------------------------------------------------


@pytest.fixture
def outsider(other_cooperative):
    """The manager of another co-operative: she sees none of this shipment."""
    user = UserFactory(role=Role.COOPERATIVE_MANAGER)
    MembershipFactory(user=user, cooperative=other_cooperative, is_manager=True)
    return user


@pytest.fixture
def loaded(planned, manager):
    hand_over(planned, LOADING, manager)
    return planned


@pytest.mark.parametrize("who", ["coldchain_controller", "manager", "market_staff"])
def test_the_api_shows_the_history_to_those_who_see_the_shipment(
    api_as, request, loaded, coldchain_controller, manager, who
):
    client = api_as(request.getfixturevalue(who))

    body = client.get(f"/api/coldchain/shipments/{loaded.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()

    assert [(event["from_status"], event["to_status"]) for event in body["history"]] == [
        ("", PLANNED),
        (PLANNED, IN_TRANSIT),
    ]
    planning, loading = body["history"]
    assert planning["actor"] == str(coldchain_controller)
    assert loading["actor"] == str(manager)
    assert loading["from_status_label"] == "Planned"
    assert loading["to_status_label"] == "In transit"
    assert loading["reason"] == "Loading: Accepted"
    assert loading["at"]


def test_the_api_hides_the_history_from_others(api_as, loaded, outsider):
    assert api_as(outsider).get(f"/api/coldchain/shipments/{loaded.pk}/").status_code == 404


def test_the_shipment_page_shows_the_history(loaded, manager, coldchain_controller):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)

    page = client.get(f"/coldchain/shipments/{loaded.pk}/")

    assert page.status_code == 200
    history = page.content.decode().split('data-testid="history"')[1].split("</ol>")[0]
    assert "Planned → In transit" in history
    assert str(manager) in history
    assert str(coldchain_controller) in history
    assert "Loading: Accepted" in history


def test_the_shipment_page_hides_the_history_from_others(loaded, outsider):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(outsider)

    assert client.get(f"/coldchain/shipments/{loaded.pk}/").status_code == 404
