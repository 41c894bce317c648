"""Thirty minutes to a doorstep, on three screens: a consumer orders from her phone, the
warehouse packs, the courier's phone receives the offer live, he accepts, picks up and
delivers with the consumer's code, and her status page shows it delivered.

Everything is real: uvicorn serving config.asgi (pages, API and the ws/me/ sockets), the
Celery worker that runs dispatch, PostGIS for the zone and the nearest courier, Redis.
"""

from decimal import Decimal

import pytest

from accounts.choices import Role
from delivery.models import (
    Courier,
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    TaskOffer,
    WarehouseStaff,
)
from settlement.accounts import wallet_of
from settlement.selectors import balance_of
from tests.accounts.factories import UserFactory
from tests.delivery.factories import courier_at, front_warehouse, fund_wallet, stocked
from tests.e2e.conftest import fits_the_screen
from tests.farms.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

WAREHOUSE = (116.4800, 39.9900)  # Wangjing, Chaoyang
HOME = {"longitude": 116.4900, "latitude": 39.9950}  # a flat 1 km north-east
COURIER_START = (116.4850, 39.9880)


def test_consumer_orders_courier_gets_offer_live_and_delivers_with_the_code(
    asgi_server, asgi_phone_as, wait_until, output_dir, celery_worker_live, settings
):
    base = asgi_server
    warehouse = front_warehouse("wangjing", *WAREHOUSE, half_side=0.03)
    manager = UserFactory(role=Role.WAREHOUSE_MANAGER)
    WarehouseStaff.objects.create(warehouse=warehouse, user=manager)
    spinach = ProductFactory(code="VEG-SPINACH-E2E", name_zh="菠菜", name_en="Spinach")
    stocked(warehouse, spinach, kg="10", price="12.00")
    consumer = UserFactory(role=Role.CONSUMER)
    fund_wallet(consumer, "100.00")
    courier = courier_at(*COURIER_START, user=UserFactory(role=Role.COURIER))

    # The consumer shares her location; the Wangjing warehouse serves her flat.
    shopper = asgi_phone_as(consumer, geolocation=HOME, permissions=["geolocation"])
    shopper.goto(f"{base}/shop/")
    shopper.click("[data-use-location]")
    shopper.wait_for_selector("[data-catalogue]")
    assert warehouse.name in shopper.inner_text("body")
    shopper.fill(f"[data-product='{spinach.pk}'] input", "1.5")
    shopper.fill("input[name=address]", "望京西园三区 5 号楼 1201")
    assert fits_the_screen(shopper)
    shopper.screenshot(path=output_dir / "1-consumer-shop.png", full_page=True)
    shopper.click("[data-place-order]")
    shopper.wait_for_url(f"{base}/shop/orders/*/")
    order = DeliveryOrder.objects.get()
    assert order.warehouse == warehouse
    assert order.total.amount == Decimal("18.00")
    assert balance_of(wallet_of(consumer)).amount == Decimal("82.00")
    code = shopper.inner_text("[data-delivery-code]").strip()
    assert code == order.delivery_code
    shopper.wait_for_selector("html[data-live=open]")
    assert fits_the_screen(shopper)
    shopper.screenshot(path=output_dir / "2-consumer-order-placed.png", full_page=True)

    # The courier is on shift with his page open when the warehouse packs the order.
    rider = asgi_phone_as(courier.user)
    rider.goto(f"{base}/courier/")
    rider.wait_for_selector("html[data-live=open]")
    rider.evaluate("window.notReloaded = true")

    packer = asgi_phone_as(manager)
    packer.goto(f"{base}/warehouse/")
    packer.click(f"[data-testid=pack-{order.pk}]")
    wait_until(lambda: TaskOffer.objects.filter(courier=courier).exists())

    # The offer arrives on his phone without a reload, with its countdown.
    rider.wait_for_selector("[data-offer-card]")
    assert rider.evaluate("window.notReloaded") is True
    assert rider.inner_text("[data-countdown]").strip() != ""
    assert fits_the_screen(rider)
    rider.screenshot(path=output_dir / "3-courier-offer.png", full_page=True)
    rider.click("[data-accept-offer]")
    rider.wait_for_selector("[data-pick-up]")
    task = DeliveryTask.objects.get()
    assert (task.status, task.courier) == (DeliveryTaskStatus.ASSIGNED, courier)
    rider.screenshot(path=output_dir / "4-courier-task.png", full_page=True)

    rider.click("[data-pick-up]")
    rider.wait_for_selector("input[name=code]")
    shopper.wait_for_selector(f"[data-order-status][data-status='{DeliveryOrderStatus.PICKED_UP}']")
    shopper.screenshot(path=output_dir / "5-consumer-on-its-way.png", full_page=True)

    rider.fill("input[name=code]", code)
    rider.screenshot(path=output_dir / "6-courier-enters-code.png", full_page=True)
    rider.click("[data-deliver]")
    rider.wait_for_selector("[data-earnings]")
    wait_until(lambda: DeliveryOrder.objects.get().status == DeliveryOrderStatus.DELIVERED)
    assert fits_the_screen(rider)
    rider.screenshot(path=output_dir / "7-courier-done.png", full_page=True)

    # Her page follows live: delivered.
    shopper.wait_for_selector(f"[data-order-status][data-status='{DeliveryOrderStatus.DELIVERED}']")
    assert fits_the_screen(shopper)
    shopper.screenshot(path=output_dir / "8-consumer-delivered.png", full_page=True)
    task.refresh_from_db()
    assert task.status == DeliveryTaskStatus.DONE
    assert Courier.objects.get().pk == courier.pk
