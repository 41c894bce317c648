"""What is downstream of a lot: every kind of record, its quantity, whom a recall tells, and
the record it came from."""

from decimal import Decimal

from accounts.choices import Role
from delivery.models import DeliveryOrderStatus
from delivery.selectors.lots import picks_of_lot
from marketplace.choices import OrderStatus
from tests.accounts.factories import UserFactory
from tests.farms.factories import HarvestLotFactory
from tests.traceability.trail_factories import bought_on_marketplace, consumer_line
from traceability.choices import DownstreamKind as Kind
from traceability.selectors.downstream import downstream_of
from traceability.selectors.journey import scope_from_downstream
from traceability.trail import Downstream


def _one(downstream, kind):
    (record,) = downstream.of_kind(kind)
    return record


def test_lot_followed_from_listing_to_consumers_doorstep(journey, operator, buyer_trader):
    controller = UserFactory(role=Role.COLDCHAIN_CONTROLLER)

    downstream = downstream_of(journey.lot)

    assert downstream.lot_id == journey.lot.pk
    listing = _one(downstream, Kind.LISTING)
    assert (listing.id, listing.quantity_kg) == (journey.listing.pk, Decimal("40.000"))
    assert listing.user_ids == (journey.listing.seller_id,)

    line = _one(downstream, Kind.MARKETPLACE_ORDER_LINE)
    assert (line.id, line.quantity_kg) == (journey.order_line.pk, Decimal("9.800"))  # packed
    assert line.user_ids == (journey.order_line.order.buyer_id,)
    assert line.parent == (Kind.LISTING, journey.listing.pk)

    trade = _one(downstream, Kind.MARKET_TRADE)
    assert (trade.id, trade.quantity_kg) == (journey.trade.pk, Decimal("98.000"))
    assert trade.holder == "李记餐饮"
    assert trade.user_ids == (buyer_trader.user_id, operator.pk)  # the buyer, the market staff

    shipment = _one(downstream, Kind.SHIPMENT)
    assert (shipment.id, shipment.quantity_kg) == (journey.shipment.pk, Decimal("98.000"))
    assert shipment.parent == (Kind.MARKET_TRADE, journey.trade.pk)
    assert shipment.reference == journey.shipment.code
    assert shipment.user_ids == (journey.shipment.planned_by_id, controller.pk)

    stock = _one(downstream, Kind.STOCK_LOT)
    assert stock.id == journey.stock.pk
    assert stock.quantity_kg == Decimal("59.800")  # received from the trade and the order line
    assert stock.remaining_kg == Decimal("60.000")
    assert stock.user_ids == (journey.warehouse_manager.pk,)
    assert stock.parent == (Kind.MARKET_TRADE, journey.trade.pk)
    assert stock.other_parents == ((Kind.MARKETPLACE_ORDER_LINE, journey.order_line.pk),)

    consumers = downstream.of_kind(Kind.CONSUMER_ORDER_LINE)
    assert {(r.id, r.quantity_kg) for r in consumers} == {
        (journey.consumer_lines[0].pk, Decimal("1.500")),
        (journey.consumer_lines[1].pk, Decimal("2.000")),
    }
    assert {r.user_ids for r in consumers} == {(c.pk,) for c in journey.consumers}
    assert {r.parent for r in consumers} == {(Kind.STOCK_LOT, journey.stock.pk)}
    assert all(r.holder == "" for r in consumers)  # a consumer's name is never shown
    assert downstream.quantity_kg(Kind.CONSUMER_ORDER_LINE) == Decimal("3.500")

    assert {c.pk for c in journey.consumers} <= downstream.user_ids()


def test_sales_that_took_nothing_are_not_downstream(journey):
    cancelled = bought_on_marketplace(journey.listing, kg="3", packed=None)
    cancelled.order.status = OrderStatus.CANCELLED
    cancelled.order.save(update_fields=["status"])
    consumer_line(journey.warehouse, journey.stock, "1", status=DeliveryOrderStatus.CANCELLED)

    downstream = downstream_of(journey.lot)

    assert [r.id for r in downstream.of_kind(Kind.MARKETPLACE_ORDER_LINE)] == [
        journey.order_line.pk
    ]
    assert len(downstream.of_kind(Kind.CONSUMER_ORDER_LINE)) == 2


def test_a_lot_nobody_took_has_nothing_downstream(db):
    assert downstream_of(HarvestLotFactory()).records == []


def test_the_trail_takes_a_fixed_number_of_queries(journey, django_assert_max_num_queries):
    for _ in range(5):
        consumer_line(journey.warehouse, journey.stock, "0.5")
        bought_on_marketplace(journey.listing)

    with django_assert_max_num_queries(10):
        downstream = downstream_of(journey.lot.pk)

    assert len(downstream.of_kind(Kind.CONSUMER_ORDER_LINE)) == 7


def test_counts_kilograms_and_ids_are_read_at_once_and_the_records_only_when_asked(
    journey, django_assert_num_queries
):
    cancelled = consumer_line(
        journey.warehouse, journey.stock, "1", status=DeliveryOrderStatus.CANCELLED
    )
    picks = {p.pk for p in picks_of_lot(journey.lot.pk) if p.line_id != cancelled.pk}

    with django_assert_num_queries(1):  # one aggregate read; no record built
        downstream = downstream_of(journey.lot)
        scope = scope_from_downstream(downstream)

    assert downstream.count(Kind.CONSUMER_ORDER_LINE) == 2
    assert downstream.quantity_kg(Kind.CONSUMER_ORDER_LINE) == Decimal("3.500")
    assert downstream.quantity_kg(Kind.STOCK_LOT) == Decimal("59.800")  # what it received
    assert scope.pick_ids == picks
    assert scope.stock_lot_ids == {journey.stock.pk}
    counted = Downstream(journey.lot.pk, downstream.records)  # the same, from the records
    for kind in Kind:
        read, from_records = downstream.total(kind), counted.total(kind)
        assert (read.count, read.quantity_kg, sorted(read.ids)) == (
            from_records.count,
            from_records.quantity_kg,
            sorted(from_records.ids),
        )
