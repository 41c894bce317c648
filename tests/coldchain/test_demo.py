"""The demo cold chain: seeded twice it is the same; it gives the screens trucks on the road
to 新发地 with real lots and loggers, and stores with theirs; a later day brings a new set."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from coldchain import demo
from coldchain.choices import HandoverKind, ShipmentStatus, SiteKind
from coldchain.models import (
    ColdStore,
    DataLogger,
    LoggerAssignment,
    Shipment,
    ShipmentLot,
    Site,
    Vehicle,
)
from coldchain.selectors.loggers import assignments_covering
from coldchain.selectors.visibility import shipments_visible_to, stores_visible_to
from coldchain.services.registry import logger_secret_matches
from farms.models import Cooperative
from marketplace.models import Market

pytestmark = pytest.mark.django_db


def _seed() -> None:
    call_command("seed_demo", force=True, stdout=StringIO())


def _own_shipments(shipments=None):
    """The cold-chain demo's own trips (traceability's demo adds a journey's legs)."""
    shipments = Shipment.objects.all() if shipments is None else shipments
    return shipments.filter(code__startswith=demo.SHIPMENT_PREFIX)


def _figures() -> dict:
    models = (Site, ColdStore, Vehicle, Shipment, ShipmentLot, DataLogger, LoggerAssignment)
    figures = {model.__name__: model.objects.count() for model in models}
    figures["shipments"] = sorted(
        Shipment.objects.values_list(
            "code", "status", "departed_at", "planned_arrival_at", "min_temperature_c"
        )
    )
    figures["assignments"] = sorted(
        LoggerAssignment.objects.values_list(
            "logger__device_id", "shipment__code", "store__code", "starts_at", "ends_at"
        )
    )
    figures["secrets"] = sorted(DataLogger.objects.values_list("device_id", "secret_hash"))
    return figures


@pytest.fixture(scope="module")
def seeded_twice(django_db_setup, django_db_blocker, tmp_path_factory):
    """Seed once, note the cold chain's rows, seed again; both snapshots for the tests.
    (The loading handovers' logger records go to temporary media folders.)"""
    media = tmp_path_factory.mktemp("media")
    private = tmp_path_factory.mktemp("private")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media, PRIVATE_MEDIA_ROOT=private),
    ):
        from django.db import transaction

        with transaction.atomic():
            _seed()
            first = _figures()
            _seed()
            second = _figures()
            yield first, second
            transaction.set_rollback(True)


def _user(username: str) -> User:
    return User.objects.get(username=username)


def test_seeding_twice_changes_nothing(seeded_twice):
    first, second = seeded_twice
    assert first == second
    # Only this demo's trips and loggers: traceability's demo adds a finished journey of its own.
    assert _own_shipments().count() == len(demo.SHIPMENTS) == 4
    assert first["ColdStore"] == 3
    own_loggers = DataLogger.objects.filter(
        device_id__in=[x.device_id for x in demo.demo_loggers()]
    )
    assert own_loggers.count() == 7


def test_trucks_are_on_their_way_to_xinfadi_with_real_lots_and_a_logger(seeded_twice):
    now = timezone.now()
    xinfadi = Site.objects.get(market__code="xinfadi")
    assert xinfadi.kind == SiteKind.MARKET
    shipments = (
        _own_shipments()
        .filter(status=ShipmentStatus.IN_TRANSIT)
        .select_related("origin", "vehicle")
    )
    assert shipments.count() == 4
    for shipment in shipments:
        assert shipment.destination_id == xinfadi.pk
        assert shipment.origin.kind == SiteKind.COOPERATIVE
        assert shipment.origin.cooperative is not None
        assert shipment.departed_at < now < shipment.planned_arrival_at
        # Short enough for the simulator's live failure to show within minutes.
        assert shipment.excursion_delay_minutes <= 10
        assert shipment.lots.exists()
        # Loaded and accepted at the packhouse as it left, the (empty) record attached.
        loading = shipment.handovers.get()
        assert (loading.kind, loading.decision) == (HandoverKind.LOADING, "accepted")
        assert loading.recorded_at == shipment.departed_at
        # Private, under a random name; nothing in the public media folder but the demo
        # listings' photos.
        assert Path(loading.record_file.path).is_relative_to(settings.PRIVATE_MEDIA_ROOT)
        assert shipment.code not in loading.record_file.name
        public = Path(settings.MEDIA_ROOT)
        assert {
            path.relative_to(public).parts[0] for path in public.rglob("*") if path.is_file()
        } <= {"listings"}
        (assignment,) = assignments_covering(shipment.logger_assignments.get().logger_id, now, now)
        assert assignment.shipment_id == shipment.pk
        assert assignment.starts_at == shipment.departed_at
        # On the map before the first reading arrives, somewhere on the road.
        vehicle = shipment.vehicle
        assert vehicle.last_position is not None
        assert 109 < vehicle.last_position.x < 119
        assert 35 < vehicle.last_position.y < 40


def test_each_range_comes_from_the_lots_storage_profiles(seeded_twice):
    ranges = {
        tuple(sorted(shipment.lots.values_list("lot__product__code", flat=True))): (
            shipment.min_temperature_c,
            shipment.max_temperature_c,
        )
        for shipment in Shipment.objects.all()
    }
    # Cucumbers (10–12.5) with eggplant (10–12): the intersection, chilling-sensitive.
    assert ranges[("VEG-CUCUMBER", "VEG-EGGPLANT")] == (10, 12)
    assert ranges[("VEG-TOMATO",)] == (Decimal("12.8"), Decimal("15.6"))
    assert ranges[("VEG-SWEET-PEPPER",)] == (7, 10)
    assert ranges[("FRT-APPLE",)] == (-1, 4)
    cucumbers = Shipment.objects.get(lots__lot__product__code="VEG-CUCUMBER")
    assert all(
        leg.lot.product.storage_profile.lowest_safe_temperature_c is not None
        for leg in cucumbers.lots.select_related("lot__product__storage_profile")
    )


def test_every_store_has_its_logger_and_every_logger_its_demo_secret(seeded_twice):
    for store in ColdStore.objects.select_related("site"):
        assert store.site.location is not None
        assert store.logger_assignments.filter(ends_at__isnull=True).count() == 1
    xinfadi_store = ColdStore.objects.get(code="xinfadi-cold-1")
    assert (xinfadi_store.min_temperature_c, xinfadi_store.max_temperature_c) == (0, 4)
    for spec in demo.demo_loggers():
        logger = DataLogger.objects.get(device_id=spec.device_id)
        assert logger.is_active
        assert logger_secret_matches(logger, spec.secret)


def test_each_screen_sees_its_own(seeded_twice):
    controller = _user("controller")
    assert controller.phone == "+8613200000001"
    assert _own_shipments(shipments_visible_to(controller)).count() == 4
    assert stores_visible_to(controller).count() == 3
    # The vegetable co-op sent two trucks; the apple co-op one, and has its own store.
    assert _own_shipments(shipments_visible_to(_user("coop"))).count() == 2
    assert _own_shipments(shipments_visible_to(_user("apple.coop"))).count() == 1
    assert list(stores_visible_to(_user("apple.coop")).values_list("code", flat=True)) == [
        "luochuan-apple"
    ]
    # 新发地 receives them all.
    assert _own_shipments(shipments_visible_to(_user("operator"))).count() == 4
    assert _own_shipments(shipments_visible_to(_user("buyer"))).count() == 0


def test_a_later_day_delivers_the_finished_trips_and_sends_a_new_set(seeded_twice):
    context = {
        "people": {u.username: u for u in User.objects.all()},
        "cooperatives": {c.name_en: c for c in Cooperative.objects.all()},
        "market": Market.objects.get(code="xinfadi"),
    }
    before = set(Shipment.objects.values_list("pk", flat=True))
    with time_machine.travel(timezone.now() + timedelta(hours=16), tick=False):
        demo.seed(context)
        now = timezone.now()
    old = Shipment.objects.filter(pk__in=before)
    assert set(old.values_list("status", flat=True)) == {ShipmentStatus.DELIVERED}
    for shipment in old:
        assert shipment.departed_at < shipment.arrived_at <= shipment.planned_arrival_at
        assert not shipment.logger_assignments.filter(ends_at__isnull=True).exists()
    new = Shipment.objects.exclude(pk__in=before)
    assert new.count() == 4
    assert set(new.values_list("status", flat=True)) == {ShipmentStatus.IN_TRANSIT}
    for spec in demo.VEHICLES:
        (assignment,) = assignments_covering(
            DataLogger.objects.get(device_id=spec.logger.device_id).pk, now, now
        )
        assert assignment.shipment in new
    # And again on that day: nothing more.
    with time_machine.travel(now + timedelta(minutes=5), tick=False):
        demo.seed(context)
    assert _own_shipments().count() == 8
