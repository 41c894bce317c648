"""A shipment's life through its handovers: loading and unloading with the probe, accept or
reject, the logger record of the leg attached as CSV with its summary; cancellation; who may."""

import csv
import io
import math
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.choices import Role
from coldchain.choices import ExcursionKind, HandoverKind, ShipmentStatus
from coldchain.exceptions import ColdChainError, InvalidShipmentTransition
from coldchain.models import Excursion, Handover, LoggerAssignment, Shipment
from coldchain.realtime import ALL_GROUP, cooperative_group, market_group
from coldchain.services.handovers import record_handover
from coldchain.services.registry import assign_logger, register_logger
from coldchain.services.shipments import cancel_shipment
from common.exceptions import RefusalKind
from tests.accounts.factories import UserFactory
from tests.coldchain.shipment_factories import add_readings, received_events

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "in_english")]

LOADING, UNLOADING = HandoverKind.LOADING, HandoverKind.UNLOADING
SHANGHAI = ZoneInfo("Asia/Shanghai")


def hand_over(shipment, kind, by, decision="accepted", probe="1.5", note=""):
    return record_handover(
        shipment=shipment,
        kind=kind,
        decision=decision,
        probe_temperature_c=Decimal(probe),
        note=note,
        by=by,
    )


def record_rows(handover) -> list[dict]:
    with handover.record_file.open("rb") as record:
        return list(csv.DictReader(io.StringIO(record.read().decode())))


@pytest.fixture
def watched(planned, data_logger):
    """`planned`, watched by LOG-0001 since 40 minutes ago (pre-cooling at the packhouse)."""
    start = timezone.now() - timedelta(minutes=40)
    assign_logger(logger=data_logger, subject=planned, starts_at=start)
    return planned, start


# --- The lifecycle ----------------------------------------------------------------------------


def test_accepted_loading_sets_the_shipment_on_its_way(planned, coldchain_controller):
    before = timezone.now()

    handover = hand_over(planned, LOADING, coldchain_controller, probe="1.4")

    planned.refresh_from_db()
    assert planned.status == ShipmentStatus.IN_TRANSIT
    assert before <= planned.departed_at <= timezone.now()
    assert planned.arrived_at is None
    stored = Handover.objects.get()
    assert (stored.kind, stored.decision, stored.probe_temperature_c) == (
        "loading",
        "accepted",
        Decimal("1.4"),
    )
    assert stored.recorded_by == coldchain_controller
    assert stored.record_file.name.endswith(".csv")
    assert handover.pk == stored.pk


def test_rejected_loading_cancels_the_shipment_and_frees_its_logger(
    watched, coldchain_controller, data_logger
):
    shipment, _start = watched

    hand_over(shipment, LOADING, coldchain_controller, decision="rejected", note="车厢 9 °C")

    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.CANCELLED
    assert shipment.departed_at is None
    assert LoggerAssignment.objects.get(logger=data_logger).ends_at is not None


def test_accepted_unloading_delivers_and_ends_the_loggers_watch(
    watched, coldchain_controller, data_logger
):
    shipment, _start = watched
    hand_over(shipment, LOADING, coldchain_controller)

    hand_over(shipment, UNLOADING, coldchain_controller, probe="2.0")

    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert shipment.arrived_at >= shipment.departed_at
    assignment = LoggerAssignment.objects.get(logger=data_logger)
    assert assignment.ends_at == shipment.arrived_at
    assert list(shipment.handovers.order_by("kind").values_list("kind", flat=True)) == [
        "loading",
        "unloading",
    ]


def test_rejected_unloading_rejects_the_shipment(watched, coldchain_controller, data_logger):
    shipment, _start = watched
    hand_over(shipment, LOADING, coldchain_controller)

    hand_over(shipment, UNLOADING, coldchain_controller, decision="rejected", note="温度超标")

    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.REJECTED
    assert shipment.arrived_at is not None
    assert LoggerAssignment.objects.get(logger=data_logger).ends_at == shipment.arrived_at


def test_a_period_planned_past_arrival_is_cut_and_one_not_begun_is_dropped(
    planned, coldchain_controller, data_logger
):
    other, _secret = register_logger(device_id="LOG-0002")
    now = timezone.now()
    assign_logger(
        logger=data_logger,
        subject=planned,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=2),
    )
    assign_logger(logger=other, subject=planned, starts_at=now + timedelta(days=1))
    hand_over(planned, LOADING, coldchain_controller)

    hand_over(planned, UNLOADING, coldchain_controller)

    planned.refresh_from_db()
    assert LoggerAssignment.objects.get(logger=data_logger).ends_at == planned.arrived_at
    assert not LoggerAssignment.objects.filter(logger=other).exists()


def test_a_second_loading_is_a_conflict(planned, coldchain_controller):
    hand_over(planned, LOADING, coldchain_controller)

    with pytest.raises(InvalidShipmentTransition) as conflict:
        hand_over(planned, LOADING, coldchain_controller)

    assert conflict.value.kind == RefusalKind.CONFLICT
    assert Handover.objects.count() == 1


def test_unloading_before_loading_is_a_conflict(planned, coldchain_controller):
    with pytest.raises(InvalidShipmentTransition):
        hand_over(planned, UNLOADING, coldchain_controller)

    planned.refresh_from_db()
    assert planned.status == ShipmentStatus.PLANNED
    assert not Handover.objects.exists()


def test_a_finished_shipment_takes_no_more_handovers(planned, coldchain_controller):
    hand_over(planned, LOADING, coldchain_controller)
    hand_over(planned, UNLOADING, coldchain_controller)

    with pytest.raises(InvalidShipmentTransition):
        hand_over(planned, UNLOADING, coldchain_controller)


# --- Input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("probe", ["-30.1", "50.1", "120"])
def test_an_implausible_probe_temperature_is_refused(planned, coldchain_controller, probe):
    with pytest.raises(ColdChainError) as refusal:
        hand_over(planned, LOADING, coldchain_controller, probe=probe)

    assert refusal.value.field == "probe_temperature_c"
    assert not Handover.objects.exists()


@pytest.mark.parametrize("probe", ["-30", "50"])
def test_the_probe_limits_are_plausible(planned, coldchain_controller, probe):
    assert hand_over(planned, LOADING, coldchain_controller, probe=probe).pk


def test_a_rejection_says_why(planned, coldchain_controller):
    with pytest.raises(ColdChainError) as refusal:
        hand_over(planned, LOADING, coldchain_controller, decision="rejected", note="   ")

    assert refusal.value.field == "note"
    planned.refresh_from_db()
    assert planned.status == ShipmentStatus.PLANNED


def test_unknown_kinds_and_decisions_are_refused(planned, coldchain_controller):
    with pytest.raises(ColdChainError) as bad_kind:
        hand_over(planned, "halfway", coldchain_controller)
    with pytest.raises(ColdChainError) as bad_decision:
        hand_over(planned, LOADING, coldchain_controller, decision="maybe")

    assert (bad_kind.value.field, bad_decision.value.field) == ("kind", "decision")


# --- The logger record ------------------------------------------------------------------------


def test_the_record_holds_every_reading_of_the_leg_in_beijing_time(
    watched, coldchain_controller, data_logger
):
    shipment, start = watched
    add_readings(data_logger, start, [1.0, 1.5, 2.0, 2.5], humidity=91.5)
    # Before the assignment: another subject's history, not this leg's.
    add_readings(data_logger, start - timedelta(hours=2), [9.0])

    handover = hand_over(shipment, LOADING, coldchain_controller)

    rows = record_rows(handover)
    assert list(rows[0]) == [
        "recorded_at_asia_shanghai",
        "temperature_c",
        "humidity_pct",
        "latitude",
        "longitude",
        "logger",
    ]
    assert [row["temperature_c"] for row in rows] == ["1.0", "1.5", "2.0", "2.5"]
    first = rows[0]
    assert first["recorded_at_asia_shanghai"] == start.astimezone(SHANGHAI).isoformat(
        timespec="seconds"
    )
    assert first["recorded_at_asia_shanghai"].endswith("+08:00")
    assert (first["humidity_pct"], first["latitude"], first["longitude"]) == (
        "91.5",
        "39.9",
        "116.4",
    )
    assert {row["logger"] for row in rows} == {"LOG-0001"}


def test_the_summary_counts_and_characterises_the_readings(
    watched, coldchain_controller, data_logger
):
    shipment, start = watched
    temperatures = [1.0] * 10 + [3.0] * 10
    add_readings(data_logger, timezone.now() - timedelta(minutes=20), temperatures)
    Excursion.objects.create(
        assignment=LoggerAssignment.objects.get(logger=data_logger),
        shipment=shipment,
        kind=ExcursionKind.TOO_WARM,
        limit_c=2.0,
        started_at=start + timedelta(minutes=30),
        confirmed_at=start + timedelta(minutes=45),
        peak_c=3.04,
    )

    handover = hand_over(shipment, LOADING, coldchain_controller)

    summary = handover.record_summary
    assert summary["readings"] == 20
    assert (summary["min_c"], summary["max_c"]) == (1.0, 3.0)
    assert summary["mean_c"] == pytest.approx(2.0, abs=0.06)
    # Mean kinetic temperature, ΔH/R = 10,000 K: half the time at 1 °C, half at 3 °C.
    kelvins = [274.15, 276.15]
    mkt = 10_000 / -math.log(sum(math.exp(-10_000 / k) for k in kelvins) / 2) - 273.15
    assert summary["mkt_c"] == pytest.approx(mkt, abs=0.06)
    assert summary["mkt_c"] > summary["mean_c"]
    assert (summary["min_temperature_c"], summary["max_temperature_c"]) == (0.0, 2.0)
    assert summary["excursions"] == [
        {
            "kind": "too_warm",
            "started_at": (start + timedelta(minutes=30)).isoformat(),
            "ended_at": None,
            "peak_c": 3.04,
        }
    ]


def test_a_leg_without_loggers_has_an_empty_record(planned, coldchain_controller):
    handover = hand_over(planned, LOADING, coldchain_controller)

    assert record_rows(handover) == []
    assert handover.record_summary["readings"] == 0
    assert handover.record_summary["mkt_c"] is None
    assert handover.record_summary["excursions"] == []


def test_the_unloading_record_covers_the_whole_leg(watched, coldchain_controller, data_logger):
    shipment, start = watched
    add_readings(data_logger, start, [1.0, 1.2])
    hand_over(shipment, LOADING, coldchain_controller)
    add_readings(data_logger, start + timedelta(minutes=10), [1.4, 1.6, 1.8])

    handover = hand_over(shipment, UNLOADING, coldchain_controller)

    assert [row["temperature_c"] for row in record_rows(handover)] == [
        "1.0",
        "1.2",
        "1.4",
        "1.6",
        "1.8",
    ]
    assert handover.record_summary["readings"] == 5


# --- Who may hand over ------------------------------------------------------------------------


def test_the_origins_manager_loads_and_the_destinations_operator_unloads(
    planned, manager, market_staff
):
    hand_over(planned, LOADING, manager)
    hand_over(planned, UNLOADING, market_staff)

    planned.refresh_from_db()
    assert planned.status == ShipmentStatus.DELIVERED


def test_the_destination_does_not_load_and_the_origin_does_not_unload(
    planned, manager, market_staff, coldchain_controller
):
    with pytest.raises(PermissionDenied):
        hand_over(planned, LOADING, market_staff)
    hand_over(planned, LOADING, manager)

    with pytest.raises(PermissionDenied):
        hand_over(planned, UNLOADING, manager)

    planned.refresh_from_db()
    assert planned.status == ShipmentStatus.IN_TRANSIT


@pytest.mark.parametrize("role", [Role.FARMER, Role.COURIER, Role.CONSUMER])
def test_other_roles_do_not_hand_over(planned, role):
    with pytest.raises(PermissionDenied):
        hand_over(planned, LOADING, UserFactory(role=role))

    assert not Handover.objects.exists()


def test_an_admin_hands_over_anywhere(planned, admin_user):
    hand_over(planned, LOADING, admin_user)

    planned.refresh_from_db()
    assert planned.status == ShipmentStatus.IN_TRANSIT


# --- Cancelling -------------------------------------------------------------------------------


def test_a_planned_shipment_is_cancelled_by_either_end(planned, market_staff, data_logger):
    assign_logger(
        logger=data_logger, subject=planned, starts_at=timezone.now() - timedelta(minutes=5)
    )

    cancel_shipment(shipment=planned, by=market_staff)

    planned.refresh_from_db()
    assert planned.status == ShipmentStatus.CANCELLED
    assert LoggerAssignment.objects.get().ends_at is not None


def test_a_shipment_that_left_is_not_cancelled(planned, coldchain_controller):
    hand_over(planned, LOADING, coldchain_controller)

    with pytest.raises(InvalidShipmentTransition):
        cancel_shipment(shipment=planned, by=coldchain_controller)

    assert Shipment.objects.get().status == ShipmentStatus.IN_TRANSIT


def test_strangers_do_not_cancel(planned, farmer):
    with pytest.raises(PermissionDenied):
        cancel_shipment(shipment=planned, by=farmer)


# --- Live -------------------------------------------------------------------------------------


def test_each_status_change_is_pushed_to_both_ends(
    planned, coldchain_controller, cooperative, market, django_capture_on_commit_callbacks
):
    groups = [ALL_GROUP, cooperative_group(cooperative.pk), market_group(market.pk)]

    def action():
        with django_capture_on_commit_callbacks(execute=True):
            hand_over(planned, LOADING, coldchain_controller)

    received = received_events(groups, action)

    for group in groups:
        assert received[group] == {
            "type": "coldchain.event",
            "event": "shipment",
            "payload": {
                "id": planned.pk,
                "code": planned.code,
                "status": "in_transit",
                "status_label": "In transit",
            },
        }
