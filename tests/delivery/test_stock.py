"""Stock by lot: receiving, first-expired-first-out picking that never oversells, write-offs."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import close_old_connections
from django.utils import timezone

from delivery.exceptions import DeliveryError, InsufficientStock
from delivery.models import StockLot, StockWriteOff, WriteOffReason
from delivery.services import stock as stock_services
from tests.delivery.factories import front_warehouse
from tests.farms.factories import HarvestLotFactory, ProductFactory


@pytest.fixture
def warehouse(db):
    return front_warehouse("chaoyang", 116.48, 39.92, half_side=0.03)


@pytest.fixture
def spinach(db):
    return ProductFactory(code="VEG-SPINACH-T", name_zh="菠菜", name_en="Spinach")


def _receive(warehouse, product, kg: str, harvested_days_ago: int):
    lot = HarvestLotFactory(
        product=product,
        quantity_kg=Decimal("500"),
        harvest_date=timezone.localdate() - timedelta(days=harvested_days_ago),
    )
    return stock_services.receive_stock(
        warehouse=warehouse, lot=lot, quantity_kg=kg, received_at=timezone.now()
    )


@pytest.mark.django_db
def test_picking_takes_the_earliest_expiring_lots_first(warehouse, spinach):
    fresh = _receive(warehouse, spinach, "10", harvested_days_ago=1)
    oldest = _receive(warehouse, spinach, "4", harvested_days_ago=5)
    middle = _receive(warehouse, spinach, "6", harvested_days_ago=3)
    assert oldest.expires_at < middle.expires_at < fresh.expires_at

    picks = stock_services.take_stock_fefo(warehouse=warehouse, product=spinach, quantity_kg="7")

    assert [(pick.stock_lot.pk, pick.quantity_kg) for pick in picks] == [
        (oldest.pk, Decimal("4.000")),
        (middle.pk, Decimal("3.000")),
    ]
    left = dict(StockLot.objects.values_list("pk", "quantity_kg"))
    assert left == {oldest.pk: Decimal("0"), middle.pk: Decimal("3"), fresh.pk: Decimal("10")}


@pytest.mark.django_db
def test_asking_for_more_than_the_stock_is_refused_and_changes_nothing(warehouse, spinach):
    _receive(warehouse, spinach, "4", harvested_days_ago=2)
    with pytest.raises(InsufficientStock) as refusal:
        stock_services.take_stock_fefo(warehouse=warehouse, product=spinach, quantity_kg="4.5")
    assert refusal.value.field == "quantity_kg"
    assert "4.000" in str(refusal.value.message)
    assert StockLot.objects.get().quantity_kg == Decimal("4.000")


@pytest.mark.django_db
def test_receiving_the_same_lot_again_adds_to_its_stock(warehouse, spinach):
    stock = _receive(warehouse, spinach, "4", harvested_days_ago=2)
    again = stock_services.receive_stock(
        warehouse=warehouse, lot=stock.lot, quantity_kg="2.5", received_at=timezone.now()
    )
    assert again.pk == stock.pk
    assert again.quantity_kg == Decimal("6.500")


@pytest.mark.django_db
def test_spoilage_is_written_off_with_its_reason(warehouse, spinach, warehouse_manager):
    stock = _receive(warehouse, spinach, "4", harvested_days_ago=2)
    stock_services.write_off_stock(
        stock_lot=stock, quantity_kg="1.2", reason=WriteOffReason.SPOILED, by=warehouse_manager
    )
    stock.refresh_from_db()
    assert stock.quantity_kg == Decimal("2.800")
    assert StockWriteOff.objects.get().reason == WriteOffReason.SPOILED

    with pytest.raises(InsufficientStock):
        stock_services.write_off_stock(
            stock_lot=stock, quantity_kg="3", reason=WriteOffReason.DAMAGED, by=warehouse_manager
        )
    with pytest.raises(DeliveryError) as refusal:
        stock_services.write_off_stock(
            stock_lot=stock, quantity_kg="1", reason="stolen", by=warehouse_manager
        )
    assert refusal.value.field == "reason"
    stock.refresh_from_db()
    assert stock.quantity_kg == Decimal("2.800")
    assert StockWriteOff.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_eight_orders_racing_for_ten_kilograms_never_oversell(warehouse, spinach):
    _receive(warehouse, spinach, "6", harvested_days_ago=3)
    _receive(warehouse, spinach, "4", harvested_days_ago=1)
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def order_two_kilograms():
        try:
            start.wait()
            stock_services.take_stock_fefo(warehouse=warehouse, product=spinach, quantity_kg="2")
            outcomes.append("taken")
        except InsufficientStock:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=order_two_kilograms) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused"] * 3 + ["taken"] * 5
    assert sum(StockLot.objects.values_list("quantity_kg", flat=True)) == Decimal("0")


# --- Counts (the warehouse manager's side) --------------------------------------------------


@pytest.fixture
def staff(warehouse, warehouse_manager):
    from delivery.models import WarehouseStaff

    WarehouseStaff.objects.create(warehouse=warehouse, user=warehouse_manager)
    return warehouse_manager


@pytest.mark.django_db
def test_a_count_short_of_the_books_writes_the_difference_off(warehouse, spinach, staff):
    from delivery.models import StockCount

    stock = _receive(warehouse, spinach, "10", harvested_days_ago=2)

    count = stock_services.record_count(stock_lot=stock, counted_kg="8.5", by=staff)

    stock.refresh_from_db()
    assert stock.quantity_kg == Decimal("8.500")
    assert (count.expected_kg, count.counted_kg, count.counted_by) == (
        Decimal("10.000"),
        Decimal("8.500"),
        staff,
    )
    assert StockCount.objects.count() == 1
    write_off = StockWriteOff.objects.get()
    assert (write_off.stock_lot, write_off.quantity_kg, write_off.reason) == (
        stock,
        Decimal("1.500"),
        WriteOffReason.COUNT_DIFFERENCE,
    )


@pytest.mark.django_db
def test_a_count_above_the_books_raises_the_stock(warehouse, spinach, staff):
    stock = _receive(warehouse, spinach, "10", harvested_days_ago=2)

    count = stock_services.record_count(stock_lot=stock, counted_kg="10.25", by=staff)

    stock.refresh_from_db()
    assert stock.quantity_kg == Decimal("10.250")
    assert (count.expected_kg, count.counted_kg) == (Decimal("10.000"), Decimal("10.250"))
    assert not StockWriteOff.objects.exists()


@pytest.mark.django_db
def test_a_count_of_zero_empties_the_lot_and_an_equal_count_changes_nothing(
    warehouse, spinach, staff
):
    empty = _receive(warehouse, spinach, "3", harvested_days_ago=2)
    right = _receive(warehouse, spinach, "4", harvested_days_ago=1)

    stock_services.record_count(stock_lot=empty, counted_kg="0", by=staff)
    stock_services.record_count(stock_lot=right, counted_kg="4.000", by=staff)

    assert dict(StockLot.objects.values_list("pk", "quantity_kg")) == {
        empty.pk: Decimal("0"),
        right.pk: Decimal("4.000"),
    }
    assert list(StockWriteOff.objects.values_list("stock_lot", "quantity_kg")) == [
        (empty.pk, Decimal("3.000"))
    ]


@pytest.mark.django_db
def test_a_bad_count_is_refused_and_changes_nothing(warehouse, spinach, staff):
    from delivery.models import StockCount

    stock = _receive(warehouse, spinach, "10", harvested_days_ago=2)

    for bad in ("-0.5", "", None, "ten", "1e400"):
        with pytest.raises(DeliveryError) as refusal:
            stock_services.record_count(stock_lot=stock, counted_kg=bad, by=staff)
        assert refusal.value.field == "counted_kg", bad

    stock.refresh_from_db()
    assert stock.quantity_kg == Decimal("10.000")
    assert not StockCount.objects.exists()
    assert not StockWriteOff.objects.exists()


@pytest.mark.django_db
def test_only_the_warehouses_staff_count_its_stock(warehouse, spinach, warehouse_manager):
    from django.core.exceptions import PermissionDenied

    from delivery.models import StockCount

    stock = _receive(warehouse, spinach, "10", harvested_days_ago=2)

    with pytest.raises(PermissionDenied):
        stock_services.record_count(stock_lot=stock, counted_kg="5", by=warehouse_manager)

    stock.refresh_from_db()
    assert stock.quantity_kg == Decimal("10.000")
    assert not StockCount.objects.exists()
