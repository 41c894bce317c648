"""The tower's counters and map, for the whole country and within a regulator's area."""

from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from accounts.choices import Role
from common.dates import business_today
from controltower.models import RegulatorArea
from controltower.selectors.scope import regulators_of, scope_of
from controltower.selectors.screen import tower_screen
from delivery.selectors.warehouse import on_time_rate
from farms.models import LotHold
from marketplace.markets.models import Trade
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ShipmentFactory
from tests.delivery.factories import front_warehouse
from tests.farms.factories import FarmFactory, HarvestLotFactory
from traceability.models import Recall

pytestmark = pytest.mark.django_db


def test_the_whole_country_sees_every_market_warehouse_and_shipment_with_todays_figures(
    world, regulator
):
    screen = tower_screen(scope_of(regulator), now=timezone.now())

    counters = screen.counters
    assert (counters.trades, counters.volume_kg, counters.tonnes) == (
        2,
        Decimal("148.000"),
        Decimal("0.148"),
    )
    assert (counters.orders, counters.delivered, counters.on_time) == (3, 3, 2)
    assert counters.on_time_percent == Decimal("66.7")
    assert (counters.open_excursions, counters.open_recalls, counters.lots_held_at_gates) == (
        1,
        1,
        1,
    )
    by_market = {m.name: (m.trades, m.volume_kg, m.location) for m in screen.markets}
    assert by_market == {
        "北京新发地": (2, Decimal("148.000"), (116.4, 39.9)),
        "广州江南": (0, Decimal("0.000"), (113.26, 23.13)),
    }
    by_warehouse = {w.name: (w.orders, w.delivered, w.on_time_percent) for w in screen.warehouses}
    assert by_warehouse == {
        "bj-chaoyang 前置仓": (2, 2, Decimal("50.0")),
        "gz-tianhe 前置仓": (1, 1, Decimal("100.0")),
    }
    states = {s.code: s.state for s in screen.shipments}
    assert states == {
        world["beijing_shipment"].code: "ok",
        world["guangzhou_shipment"].code: "ok",
    }


def test_a_regional_regulator_sees_only_what_lies_in_her_area(
    world, beijing_regulator, guangzhou_regulator
):
    beijing = tower_screen(scope_of(beijing_regulator), now=timezone.now())
    guangzhou = tower_screen(scope_of(guangzhou_regulator), now=timezone.now())

    assert [m.name for m in beijing.markets] == ["北京新发地"]
    assert [w.name for w in beijing.warehouses] == ["bj-chaoyang 前置仓"]
    assert [s.code for s in beijing.shipments] == [world["beijing_shipment"].code]
    assert (beijing.counters.trades, beijing.counters.orders) == (2, 2)
    assert (
        beijing.counters.open_excursions,
        beijing.counters.open_recalls,
        beijing.counters.lots_held_at_gates,
    ) == (1, 1, 1)

    assert [m.name for m in guangzhou.markets] == ["广州江南"]
    assert [w.name for w in guangzhou.warehouses] == ["gz-tianhe 前置仓"]
    assert [s.code for s in guangzhou.shipments] == [world["guangzhou_shipment"].code]
    assert (guangzhou.counters.trades, guangzhou.counters.orders) == (0, 1)
    assert (
        guangzhou.counters.open_excursions,
        guangzhou.counters.open_recalls,
        guangzhou.counters.lots_held_at_gates,
    ) == (0, 0, 0)


def test_reversed_trades_released_holds_and_closed_recalls_are_not_counted(world, regulator):
    trade = Trade.objects.order_by("id").first()
    Trade.objects.filter(pk=trade.pk).update(reversal_id=trade.entry_id)
    LotHold.objects.update(released_at=timezone.now())
    world["recall"].closed_at = timezone.now()
    world["recall"].save(update_fields=["closed_at"])
    world["excursion"].ended_at = timezone.now()
    world["excursion"].save(update_fields=["ended_at"])

    counters = tower_screen(scope_of(regulator), now=timezone.now()).counters

    assert (counters.trades, counters.volume_kg) == (1, Decimal("50.000"))
    assert (counters.open_excursions, counters.open_recalls, counters.lots_held_at_gates) == (
        0,
        0,
        0,
    )


def test_the_warehouses_on_time_rates_are_deliverys_own(world, regulator):
    screen = tower_screen(scope_of(regulator), now=timezone.now())

    for row in screen.warehouses:
        rate = on_time_rate(next(w for w in (world["beijing_warehouse"], world["guangzhou_warehouse"]) if w.pk == row.id), business_today())  # fmt: skip
        assert (row.delivered, row.on_time) == (rate.delivered, rate.on_time)


def test_the_screen_reads_in_the_same_queries_however_much_it_shows(
    world, regulator, django_assert_num_queries
):
    tower_screen(scope_of(regulator), now=timezone.now())  # warm caches (content types, …)
    with django_assert_num_queries(11) as first:
        tower_screen(scope_of(regulator), now=timezone.now())
    for n in range(3):
        front_warehouse(f"more-{n}", 116.3 + n / 100, 39.95, half_side=0.01)
        ShipmentFactory()

    with django_assert_num_queries(len(first.captured_queries)):
        screen = tower_screen(scope_of(regulator), now=timezone.now())

    assert len(screen.warehouses) == 5
    assert len(screen.shipments) == 5


def test_a_regulator_whose_area_is_empty_watches_the_whole_country(world):
    user = UserFactory(role=Role.REGULATOR)
    RegulatorArea.objects.create(user=user, name="运营部", area=None)

    scope = scope_of(user)

    assert scope.is_whole_country
    assert len(tower_screen(scope, now=timezone.now()).markets) == 2
    assert list(regulators_of(None)) == [user]


def test_regulators_of_an_area_are_those_who_watch_it(beijing_regulator, guangzhou_regulator):
    area = RegulatorArea.objects.get(user=beijing_regulator)
    UserFactory(role=Role.REGULATOR, is_active=False)

    assert list(regulators_of(area)) == [beijing_regulator]
    assert list(regulators_of(None)) == []


def test_a_recall_of_a_lot_grown_in_her_area_reaches_the_regional_regulator(
    world, guangzhou_regulator, beijing_regulator
):
    lot = HarvestLotFactory(farm=FarmFactory(location=Point(113.4, 23.2, srid=4326)))
    Recall.objects.create(
        lot=lot,
        cooperative=lot.farm.cooperative,
        market_ids=[],
        reason="疑似污染",
        severity="class_iii",
        opened_by=UserFactory(role=Role.ADMIN),
        opened_at=timezone.now(),
    )

    guangzhou = tower_screen(scope_of(guangzhou_regulator), now=timezone.now()).counters
    beijing = tower_screen(scope_of(beijing_regulator), now=timezone.now()).counters

    assert (guangzhou.open_recalls, beijing.open_recalls) == (1, 1)
