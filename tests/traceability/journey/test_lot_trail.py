"""The lot's trail (kept by triggers, migration 0006) never disagrees with the source tables:
records of every kind made and changed through the apps' real services, and downstream_of
(one scan of the trail) compared field for field with the same records read from the owning
apps' own tables (tests/traceability/source_trail.py, the selector before the trail)."""

from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from coldchain.choices import ShipmentStatus
from coldchain.models import ShipmentLot
from coldchain.services.shipments import lock_shipment, move_shipment
from delivery.models import DeliveryOrderStatus
from delivery.services.orders import cancel_order as cancel_consumer_order
from delivery.services.stock import receive_from_order_line
from marketplace.choices import OrderStatus
from marketplace.markets.trades import reverse_trade
from marketplace.services.orders import accept_order, hand_over, mark_ready, place_order
from marketplace.services.orders import cancel_order as cancel_marketplace_order
from settlement.accounts import wallet_of
from settlement.funding import top_up
from tests.coldchain.factories import ShipmentFactory
from tests.farms.factories import HarvestLotFactory
from tests.marketplace.factories import ListingFactory
from tests.traceability.source_trail import downstream_from_sources
from traceability.choices import DownstreamKind as Kind
from traceability.models import LotTrailEntry
from traceability.selectors.downstream import downstream_of


def _key(record):
    return (record.kind, record.id, record.parent or ("", 0))


def assert_trail_agrees_with_sources(lot) -> list:
    by_trail = sorted(downstream_of(lot).records, key=_key)
    by_sources = sorted(downstream_from_sources(lot).records, key=_key)
    assert by_trail == by_sources
    return by_trail


def _of(records, kind):
    return [r for r in records if r.kind == kind]


def _buy_on_marketplace(listing, buyer, kg: str):
    top_up(
        account=wallet_of(buyer), amount=Decimal("1000.00"), method="bank", by=None,
        idempotency_key=f"trail-funding:{buyer.pk}:{kg}",
    )  # fmt: skip
    return place_order(buyer=buyer, lines=[(listing.pk, Decimal(kg))])


def test_every_kind_written_and_changed_through_the_services_shows_as_its_sources_say(
    journey_world, coldchain_controller, supervisor
):
    world = journey_world
    records = assert_trail_agrees_with_sources(world.lot)
    assert {r.kind for r in records} == {
        Kind.MARKET_TRADE, Kind.SHIPMENT, Kind.STOCK_LOT, Kind.CONSUMER_ORDER_LINE
    }  # fmt: skip

    # The marketplace: a listing, an order handed over (packed weight), received into stock.
    listing = ListingFactory(lot=world.lot, available_kg=Decimal("30.000"))
    manager = world.warehouse_manager
    order = _buy_on_marketplace(listing, manager, "10")
    dropped = _buy_on_marketplace(listing, manager, "5")
    records = assert_trail_agrees_with_sources(world.lot)
    assert len(_of(records, Kind.MARKETPLACE_ORDER_LINE)) == 2
    assert _of(records, Kind.LISTING)[0].remaining_kg == Decimal("15.000")  # reserved

    accept_order(by=listing.seller, order_id=order.pk)
    mark_ready(by=listing.seller, order_id=order.pk)
    line = order.lines.get()
    hand_over(by=listing.seller, order_id=order.pk, packed_kg={line.pk: Decimal("9.700")})
    cancel_marketplace_order(by=manager, order_id=dropped.pk)
    receive_from_order_line(
        warehouse=world.warehouse, order_line=line, quantity_kg="9.700", by=manager
    )
    records = assert_trail_agrees_with_sources(world.lot)
    (kept,) = _of(records, Kind.MARKETPLACE_ORDER_LINE)  # the cancelled order took nothing
    assert (kept.id, kept.quantity_kg, kept.status) == (line.pk, Decimal("9.700"), "handed_over")
    (stock,) = _of(records, Kind.STOCK_LOT)
    assert stock.quantity_kg == Decimal("69.700")  # the trade's 60 and the line's 9.7
    assert stock.other_parents == ((Kind.MARKETPLACE_ORDER_LINE, line.pk),)

    # A shipment planned for the order leaves and arrives; its row follows.
    truck = ShipmentFactory(
        destination=world.warehouse.site, planned_by=coldchain_controller,
        status=ShipmentStatus.PLANNED, departed_at=None, arrived_at=None,
    )  # fmt: skip
    ShipmentLot.objects.create(shipment=truck, lot=world.lot, quantity_kg="9.700", order=order)
    with transaction.atomic():
        move_shipment(shipment=lock_shipment(truck), to=ShipmentStatus.IN_TRANSIT, by=None)
    records = assert_trail_agrees_with_sources(world.lot)
    (moving,) = [r for r in _of(records, Kind.SHIPMENT) if r.id == truck.pk]
    assert moving.status == ShipmentStatus.IN_TRANSIT
    assert moving.parent == (Kind.MARKETPLACE_ORDER_LINE, line.pk)

    # The consumer cancels: her line leaves the trace, the kilograms go back to the stock.
    cancel_consumer_order(by=world.consumer, order_id=world.order.pk)
    records = assert_trail_agrees_with_sources(world.lot)
    assert _of(records, Kind.CONSUMER_ORDER_LINE) == []
    assert _of(records, Kind.STOCK_LOT)[0].remaining_kg == Decimal("69.700")
    world.order.refresh_from_db()
    assert world.order.status == DeliveryOrderStatus.CANCELLED

    # The counter trade is reversed: it took nothing.
    reverse_trade(
        trade_id=world.trade.pk, by=supervisor, reason="wrong lot", idempotency_key="trail-rev"
    )
    records = assert_trail_agrees_with_sources(world.lot)
    assert _of(records, Kind.MARKET_TRADE) == []

    # Deleting a record (the planned truck's lot) takes its row away.
    ShipmentLot.objects.filter(shipment=truck).delete()
    assert_trail_agrees_with_sources(world.lot)
    assert not LotTrailEntry.objects.filter(step=4, record_id=truck.pk).exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.HANDED_OVER


def test_the_migration_fills_the_trail_from_the_rows_already_there(journey_world):
    """Rows written before the trail existed: the backfill of migration 0006 (its INSERT …
    SELECT statements, rerun here on an emptied trail) writes exactly what the triggers did."""
    from importlib import import_module

    migration = import_module("traceability.migrations.0006_lot_trail")
    before = sorted(LotTrailEntry.objects.values_list())
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM traceability_lottrail")
        for statement in migration.BACKFILL:
            cursor.execute(statement)

    assert sorted(LotTrailEntry.objects.values_list()) == before
    assert len(before) >= 5
    assert_trail_agrees_with_sources(journey_world.lot)


def test_the_trail_is_written_by_the_database_itself(journey_world):
    """A raw UPDATE that no service made (a bulk fix, the admin) is followed too."""
    stock = journey_world.stock
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE delivery_stocklot SET quantity_kg = 12.5, received_at = %s WHERE id = %s",
            [timezone.now(), stock.pk],
        )
    records = assert_trail_agrees_with_sources(journey_world.lot)
    assert _of(records, Kind.STOCK_LOT)[0].remaining_kg == Decimal("12.500")


def test_a_stock_lot_moved_to_another_lot_takes_its_receipts_and_picks_along(journey_world):
    """A correction of which lot a warehouse's stock is (a raw UPDATE, as a data fix would)."""
    world = journey_world
    other = HarvestLotFactory(farm=world.lot.farm, product=world.lot.product)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE delivery_stocklot SET lot_id = %s WHERE id = %s", [other.pk, world.stock.pk]
        )

    left = assert_trail_agrees_with_sources(world.lot)
    moved = assert_trail_agrees_with_sources(other)
    assert _of(left, Kind.STOCK_LOT) == _of(left, Kind.CONSUMER_ORDER_LINE) == []
    assert [r.id for r in _of(moved, Kind.STOCK_LOT)] == [world.stock.pk]
    assert len(_of(moved, Kind.CONSUMER_ORDER_LINE)) == 1
    assert _of(moved, Kind.STOCK_LOT)[0].parent == (Kind.MARKET_TRADE, world.trade.pk)
