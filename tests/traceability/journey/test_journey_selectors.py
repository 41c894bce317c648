"""A lot's journey, backward and forward, and where a consumer order came from."""

from decimal import Decimal

from traceability.selectors.journey import journey_of
from traceability.selectors.upstream import upstream_of_order

from .factories import FARM_AT


def _kinds(steps):
    return [step.kind for step in steps]


def test_journey_runs_from_harvest_to_the_consumer_order_in_order(journey_world, admin_user):
    steps = journey_of(journey_world.lot, viewer=admin_user)

    kinds = _kinds(steps)
    assert kinds[0] == "harvest"
    for earlier, later in [
        ("harvest", "certificate"),
        ("certificate", "trade"),
        ("trade", "stock_receipt"),
        ("stock_receipt", "consumer_order"),
    ]:
        assert kinds.index(earlier) < kinds.index(later)
    assert kinds.count("shipment") == 2
    assert [s.at for s in steps] == sorted(s.at for s in steps)


def test_journey_carries_the_quantity_at_each_step(journey_world, admin_user):
    steps = journey_of(journey_world.lot, viewer=admin_user)
    by_kind = {}
    for step in steps:
        by_kind.setdefault(step.kind, []).append(step.quantity_kg)

    assert by_kind["harvest"] == [Decimal("100.000")]
    assert by_kind["certificate"] == [Decimal("100.000")]
    assert by_kind["trade"] == [Decimal("60.000")]
    assert by_kind["shipment"] == [Decimal("100.000"), Decimal("60.000")]
    assert by_kind["stock_receipt"] == [Decimal("60.000")]
    assert by_kind["consumer_order"] == [Decimal("2.500")]


def test_each_leg_shows_its_temperature_summary_and_excursions(journey_world, admin_user):
    legs = [s for s in journey_of(journey_world.lot, viewer=admin_user) if s.kind == "shipment"]

    assert "10.0–11.2 °C" in legs[0].detail
    assert "mean kinetic temperature" in legs[0].detail
    assert "no excursion" in legs[0].detail
    assert "1 excursion(s), 60 min" in legs[1].detail


def test_a_consumer_order_shows_as_number_and_district_never_her_name(journey_world, admin_user):
    order = journey_world.order
    step = next(
        s for s in journey_of(journey_world.lot, viewer=admin_user) if s.kind == "consumer_order"
    )

    assert step.title == f"Consumer order #{order.pk}, 朝阳区"
    assert step.point is None
    shown = " ".join(
        f"{s.title} {s.detail} {s.place}" for s in journey_of(journey_world.lot, viewer=admin_user)
    )
    assert "林小姐" not in shown
    assert "望京街道" not in shown


def test_the_farm_is_drawn_at_its_county_never_at_the_field(journey_world, admin_user):
    harvest = journey_of(journey_world.lot, viewer=admin_user)[0]

    assert harvest.point == (118.8, 36.9)
    assert "潍坊市寿光市" in harvest.place
    assert all(
        step.point is None or (step.point[0], step.point[1]) != FARM_AT
        for step in journey_of(journey_world.lot, viewer=admin_user)
    )


def test_upstream_of_an_order_follows_its_picks_to_the_harvest_lot(journey_world):
    upstream = upstream_of_order(journey_world.order)

    assert upstream.number == journey_world.order.number
    [line] = upstream.lines
    assert line.quantity_kg == Decimal("2.500")
    [lot] = line.lots
    assert lot.lot_code == "SG-TOM-0001"
    assert lot.quantity_kg == Decimal("2.500")
    assert lot.stock_lot_id == journey_world.stock.pk
    assert lot.county == "山东省 潍坊市寿光市"
    kinds = _kinds(lot.steps)
    assert kinds[0] == "harvest"
    assert "trade" in kinds
    assert "stock_receipt" in kinds
    assert kinds.count("shipment") == 2  # the leg to the market (before any sale) and the trade's
    assert "consumer_order" not in kinds  # nobody else's order is upstream of hers


def test_upstream_leaves_out_trades_that_went_elsewhere(journey_world, settle, market):
    other_trade = settle("elsewhere", lot=journey_world.lot, product=journey_world.lot.product)

    [line] = upstream_of_order(journey_world.order).lines
    trades = [s for s in line.lots[0].steps if s.kind == "trade"]

    assert len(trades) == 1
    assert trades[0].quantity_kg == journey_world.trade.net_kg != other_trade.net_kg
