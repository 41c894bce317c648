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
