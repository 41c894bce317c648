"""Planning shipments: the range from the products carried, mixes that cannot travel together,
awkward mixes that need a confirmation, quantities, who may plan; the registry's writes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from accounts.choices import Role
from coldchain.choices import ShipmentStatus, SiteKind
from coldchain.exceptions import ColdChainError, MixedLoadNeedsConfirmation
from coldchain.models import ColdStore, Shipment, ShipmentLot, Site, Vehicle
from coldchain.realtime import ALL_GROUP, cooperative_group, market_group
from coldchain.services.registry import create_cold_store, create_site, create_vehicle
from common.dates import business_date_of
from common.exceptions import NotFoundOrNotYours
from marketplace.markets import services as markets
from marketplace.markets.models import Trade
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import SiteFactory, VehicleFactory
from tests.coldchain.shipment_factories import received_events
from tests.farms.factories import CooperativeFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


# --- The range of a load ----------------------------------------------------------------------


def test_a_load_keeps_the_band_all_its_products_share(plan, lot_of, coldchain_controller):
    shipment = plan(
        coldchain_controller,
        [(lot_of("FRT-APPLE"), "100"), (lot_of("FRT-STRAWBERRY"), "50")],
    )

    shipment.refresh_from_db()
    assert (shipment.min_temperature_c, shipment.max_temperature_c) == (
        Decimal("0.0"),
        Decimal("2.0"),
    )
    assert shipment.status == ShipmentStatus.PLANNED
    assert shipment.compatibility_warnings == []
    assert sorted(line.quantity_kg for line in shipment.lots.all()) == [
        Decimal("50.000"),
        Decimal("100.000"),
    ]


def test_a_chilling_sensitive_product_is_kept_above_its_chilling_threshold(
    plan, lot_of, coldchain_controller
):
    # Lemon: stored 7–12 °C, but chilling injury below 11 °C.
    shipment = plan(coldchain_controller, [(lot_of("FRT-LEMON"), "100")])

    assert (shipment.min_temperature_c, shipment.max_temperature_c) == (
        Decimal("11.0"),
        Decimal("12.0"),
    )


def test_products_that_cannot_travel_together_are_refused_by_name(
    plan, lot_of, coldchain_controller
):
    with pytest.raises(ColdChainError) as refusal:
        plan(coldchain_controller, [(lot_of("FRT-BANANA"), "100"), (lot_of("VEG-LETTUCE"), "80")])

    assert refusal.value.field == "lots"
    assert str(refusal.value.message) == (
        "These products cannot travel together: Banana (13–14 °C) and Lettuce (crisphead) (0–2 °C)."
    )
    assert not Shipment.objects.exists()


def test_in_chinese_the_refusal_names_the_products_in_chinese(plan, lot_of, coldchain_controller):
    with translation.override("zh-hans"), pytest.raises(ColdChainError) as refusal:
        plan(coldchain_controller, [(lot_of("FRT-BANANA"), "100"), (lot_of("VEG-LETTUCE"), "80")])

    assert "香蕉" in str(refusal.value.message)
    assert "生菜" in str(refusal.value.message)


def test_each_clashing_pair_is_named_and_compatible_ones_are_not(
    plan, lot_of, coldchain_controller
):
    # Banana (13–14) and ginger (12–14) get on; both clash with spinach (0–2).
    with pytest.raises(ColdChainError) as refusal:
        plan(
            coldchain_controller,
            [
                (lot_of("FRT-BANANA"), "10"),
                (lot_of("VEG-GINGER"), "10"),
                (lot_of("VEG-SPINACH"), "10"),
            ],
        )

    message = str(refusal.value.message)
    assert "Banana (13–14 °C) and Spinach (0–2 °C)" in message
    assert "Ginger (12–14 °C) and Spinach (0–2 °C)" in message
    assert "Banana (13–14 °C) and Ginger" not in message


def test_bands_that_only_touch_leave_nothing_to_keep(plan, lot_of, coldchain_controller):
    # Grape −1 to −0.5 °C, peach −0.5 to 0 °C: one temperature, not a range.
    with pytest.raises(ColdChainError) as refusal:
        plan(coldchain_controller, [(lot_of("FRT-GRAPE"), "10"), (lot_of("FRT-PEACH"), "10")])

    assert refusal.value.field == "lots"


def test_an_awkward_mix_needs_a_confirmation(plan, lot_of, coldchain_controller):
    # Mango 10–13 °C and tomato 12.8–15.6 °C share only 12.8–13 °C.
    lots = [(lot_of("FRT-MANGO"), "100"), (lot_of("VEG-TOMATO"), "100")]

    with pytest.raises(MixedLoadNeedsConfirmation) as asked:
        plan(coldchain_controller, lots)

    assert isinstance(asked.value, ColdChainError)
    assert asked.value.warnings == [
        "The load can only be kept at 12.8–13 °C (set by Tomato (mature-green) and Mango): a band narrower "
        "than 1 °C is hard to hold."
    ]
    assert asked.value.as_dict()["warnings"] == asked.value.warnings
    assert not Shipment.objects.exists()


def test_a_confirmed_awkward_mix_is_planned_with_its_warnings(plan, lot_of, coldchain_controller):
    lots = [(lot_of("FRT-MANGO"), "100"), (lot_of("VEG-TOMATO"), "100")]

    shipment = plan(coldchain_controller, lots, accept_warnings=True)

    shipment.refresh_from_db()
    assert (shipment.min_temperature_c, shipment.max_temperature_c) == (
        Decimal("12.8"),
        Decimal("13.0"),
    )
    assert len(shipment.compatibility_warnings) == 1
    assert "12.8–13 °C" in shipment.compatibility_warnings[0]


def test_humidity_bands_that_do_not_meet_are_warned_about(plan, lot_of, coldchain_controller):
    # Onion wants 65–70 % RH, lettuce 95 %: the same temperature, not the same air.
    with pytest.raises(MixedLoadNeedsConfirmation) as asked:
        plan(coldchain_controller, [(lot_of("VEG-ONION"), "100"), (lot_of("VEG-LETTUCE"), "50")])

    assert asked.value.warnings == [
        "Onion (dry) (65–70 % RH) and Lettuce (crisphead) (95–95 % RH) need different humidity: one of them will "
        "dry out or get too wet."
    ]


def test_a_single_product_with_a_narrow_band_is_not_a_mix(plan, lot_of, coldchain_controller):
    shipment = plan(coldchain_controller, [(lot_of("FRT-PEACH"), "100")])

    assert shipment.compatibility_warnings == []
    assert (shipment.min_temperature_c, shipment.max_temperature_c) == (
        Decimal("-0.5"),
        Decimal("0.0"),
    )


# --- Quantities, times, places ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "Lot {code}: the quantity must be more than zero."),
        ("-5", "Lot {code}: the quantity must be more than zero."),
        ("500.001", "Lot {code} holds only 500 kg, not 500.001 kg."),
        ("not a number", "Lot {code}: the quantity is not a number."),
    ],
)
def test_a_quantity_must_be_positive_and_within_the_lot(
    plan, lot_of, coldchain_controller, quantity, message
):
    lot = lot_of("VEG-LETTUCE", kg="500")

    with pytest.raises(ColdChainError) as refusal:
        plan(coldchain_controller, [(lot, quantity)])

    assert refusal.value.field == "lots"
    assert str(refusal.value.message) == message.format(code=lot.lot_code)
    assert not ShipmentLot.objects.exists()


def test_the_whole_lot_may_travel(plan, lot_of, coldchain_controller):
    lot = lot_of("VEG-LETTUCE", kg="500")

    shipment = plan(coldchain_controller, [(lot, Decimal("500"))])

    assert shipment.lots.get().quantity_kg == Decimal("500.000")


def test_a_lot_is_listed_once(plan, lot_of, coldchain_controller):
    lot = lot_of("VEG-LETTUCE")

    with pytest.raises(ColdChainError) as refusal:
        plan(coldchain_controller, [(lot, "10"), (lot, "20")])

    assert str(refusal.value.message) == f"Lot {lot.lot_code} is listed twice: list each lot once."


def test_a_shipment_carries_something(plan, coldchain_controller):
    with pytest.raises(ColdChainError) as refusal:
        plan(coldchain_controller, [])

    assert refusal.value.field == "lots"


def test_the_arrival_comes_after_the_departure(plan, lot_of, coldchain_controller):
    now = timezone.now()

    with pytest.raises(ColdChainError) as refusal:
        plan(
            coldchain_controller,
            [(lot_of("VEG-LETTUCE"), "10")],
            planned_departure_at=now + timedelta(hours=2),
            planned_arrival_at=now + timedelta(hours=2),
        )

    assert refusal.value.field == "planned_arrival_at"


def test_a_shipment_goes_somewhere(plan, lot_of, coldchain_controller, packhouse):
    with pytest.raises(ColdChainError) as refusal:
        plan(coldchain_controller, [(lot_of("VEG-LETTUCE"), "10")], destination=packhouse)

    assert refusal.value.field == "destination"


def test_a_trade_must_be_of_the_lot(plan, lot_of, coldchain_controller):
    lot, other_lot = lot_of("VEG-LETTUCE"), lot_of("VEG-SPINACH")
    trade = Trade(pk=999_999, lot=other_lot)  # the check reads only the trade's lot

    with pytest.raises(NotFoundOrNotYours) as refusal:
        plan(coldchain_controller, [(lot, "10", None, trade)])

    assert refusal.value.field == "lots"
    assert str(refusal.value.message) == "Not found, or not yours."


def test_the_excursion_settings_may_be_given(plan, lot_of, coldchain_controller):
    shipment = plan(
        coldchain_controller,
        [(lot_of("VEG-LETTUCE"), "10")],
        excursion_delay_minutes=30,
        recovery_minutes=20,
        recovery_margin_c=Decimal("1.0"),
        signal_timeout_minutes=60,
    )

    shipment.refresh_from_db()
    assert (
        shipment.excursion_delay_minutes,
        shipment.recovery_minutes,
        shipment.recovery_margin_c,
        shipment.signal_timeout_minutes,
    ) == (30, 20, Decimal("1.0"), 60)


def test_excursion_settings_out_of_bounds_are_refused(plan, lot_of, coldchain_controller):
    with pytest.raises(ValidationError) as refusal:
        plan(coldchain_controller, [(lot_of("VEG-LETTUCE"), "10")], excursion_delay_minutes=0)

    assert "excursion_delay_minutes" in refusal.value.message_dict
    assert not Shipment.objects.exists()


# --- Codes ------------------------------------------------------------------------------------


def test_codes_are_made_per_departure_day(plan, lot_of, coldchain_controller):
    lot = lot_of("VEG-LETTUCE")

    first = plan(coldchain_controller, [(lot, "10")])
    second = plan(coldchain_controller, [(lot, "10")])

    day = business_date_of(first.planned_departure_at).strftime("%Y%m%d")
    assert first.code == f"SH-{day}-0001"
    assert second.code == f"SH-{day}-0002"


def test_a_given_code_is_kept_and_not_reused(plan, lot_of, coldchain_controller):
    lot = lot_of("VEG-LETTUCE")
    plan(coldchain_controller, [(lot, "10")], code="XF-2026-A")

    with pytest.raises(ColdChainError) as refusal:
        plan(coldchain_controller, [(lot, "10")], code="XF-2026-A")

    assert refusal.value.field == "code"
    assert Shipment.objects.filter(code="XF-2026-A").count() == 1


@pytest.mark.parametrize("code", ["../../etc", "a/b", "SH", "运输一号"])
def test_a_given_code_is_letters_digits_and_dashes(plan, lot_of, coldchain_controller, code):
    with pytest.raises(ColdChainError) as refusal:
        plan(coldchain_controller, [(lot_of("VEG-LETTUCE"), "10")], code=code)

    assert refusal.value.field == "code"


# --- Who may plan -----------------------------------------------------------------------------


def test_a_cooperative_manager_plans_from_her_own_site(plan, lot_of, manager):
    shipment = plan(manager, [(lot_of("VEG-LETTUCE"), "10")])

    assert shipment.planned_by == manager


def test_nobody_plans_between_other_peoples_sites(plan, lot_of, manager, market_staff):
    elsewhere, somewhere_else = SiteFactory(), SiteFactory()
    lot = lot_of("VEG-LETTUCE")

    for user in (manager, market_staff):
        with pytest.raises(PermissionDenied):
            plan(user, [(lot, "10")], origin=elsewhere, destination=somewhere_else)

    assert not Shipment.objects.exists()


@pytest.mark.parametrize("role", [Role.FARMER, Role.COURIER, Role.CONSUMER, Role.BUYER])
def test_other_roles_do_not_plan(plan, lot_of, role):
    with pytest.raises(PermissionDenied):
        plan(UserFactory(role=role), [(lot_of("VEG-LETTUCE"), "10")])


def test_a_vehicle_of_another_cooperative_is_refused(plan, lot_of, manager, cooperative):
    theirs = VehicleFactory(cooperative=CooperativeFactory())
    ours = VehicleFactory(cooperative=cooperative)
    hired = VehicleFactory()
    lot = lot_of("VEG-LETTUCE")

    with pytest.raises(NotFoundOrNotYours) as refusal:
        plan(manager, [(lot, "10")], vehicle=theirs)

    assert refusal.value.field == "vehicle"
    assert plan(manager, [(lot, "10")], vehicle=ours).vehicle == ours
    assert plan(manager, [(lot, "10")], vehicle=hired).vehicle == hired


def test_planning_pushes_the_shipment_to_both_ends(
    plan, lot_of, coldchain_controller, cooperative, market, django_capture_on_commit_callbacks
):
    groups = [ALL_GROUP, cooperative_group(cooperative.pk), market_group(market.pk)]
    planned = []

    def action():
        with django_capture_on_commit_callbacks(execute=True):
            planned.append(plan(coldchain_controller, [(lot_of("VEG-LETTUCE"), "10")]))

    received = received_events(groups, action)

    for group in groups:
        assert received[group]["event"] == "shipment"
        assert received[group]["payload"] == {
            "id": planned[0].pk,
            "code": planned[0].code,
            "status": "planned",
            "status_label": "Planned",
        }


# --- The registry -----------------------------------------------------------------------------


def test_a_controller_registers_a_site_a_store_and_a_vehicle(coldchain_controller, cooperative):
    site = create_site(
        by=coldchain_controller,
        name="寿光冷库",
        kind=SiteKind.COOPERATIVE,
        longitude=118.79,
        latitude=36.86,
        cooperative=cooperative,
    )
    store = create_cold_store(
        by=coldchain_controller,
        code="shouguang-1",
        name="一号冷库",
        site=site,
        min_temperature_c=Decimal("0"),
        max_temperature_c=Decimal("4"),
        signal_timeout_minutes=30,
    )
    vehicle = create_vehicle(by=coldchain_controller, plate=" 鲁g12345 ", carrier="顺丰")

    assert Site.objects.get().location.coords == (118.79, 36.86)
    stored = ColdStore.objects.get()
    assert (stored.site, stored.signal_timeout_minutes) == (site, 30)
    assert stored.excursion_delay_minutes == 15
    assert Vehicle.objects.get().plate == "鲁G12345"
    assert store.pk
    assert vehicle.pk


def test_the_registry_refuses_duplicates_and_nonsense(coldchain_controller):
    create_vehicle(by=coldchain_controller, plate="京A00001")
    upside_down_site = SiteFactory()

    with pytest.raises(ColdChainError) as taken:
        create_vehicle(by=coldchain_controller, plate="京a00001")
    with pytest.raises(ColdChainError) as upside_down:
        create_cold_store(
            by=coldchain_controller,
            code="x1",
            name="x",
            site=upside_down_site,
            min_temperature_c=Decimal("4"),
            max_temperature_c=Decimal("0"),
        )
    with pytest.raises(ColdChainError) as far_away:
        create_site(
            by=coldchain_controller, name="远方", kind=SiteKind.OTHER, longitude=200, latitude=39
        )
    with pytest.raises(ColdChainError) as both:
        create_site(
            by=coldchain_controller,
            name="两家的",
            kind=SiteKind.OTHER,
            longitude=116,
            latitude=39,
            cooperative=CooperativeFactory(),
            market=markets.create_market(code="m2", name="二号市场", city="北京"),
        )

    assert taken.value.field == "plate"
    assert upside_down.value.field == "max_temperature_c"
    assert far_away.value.field == "longitude"
    assert both.value.field == "market"
    assert list(Site.objects.values_list("name", flat=True)) == [upside_down_site.name]
    assert Vehicle.objects.count() == 1
    assert not ColdStore.objects.exists()


@pytest.mark.parametrize("role", [Role.COOPERATIVE_MANAGER, Role.MARKET_OPERATOR, Role.FARMER])
def test_only_controllers_change_the_registry(role):
    user = UserFactory(role=role)

    with pytest.raises(PermissionDenied):
        create_vehicle(by=user, plate="京A00002")
    with pytest.raises(PermissionDenied):
        create_site(by=user, name="x", kind=SiteKind.OTHER, longitude=116, latitude=39)

    assert not Vehicle.objects.exists()
    assert not Site.objects.exists()
