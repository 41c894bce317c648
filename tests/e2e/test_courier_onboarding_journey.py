"""A courier is onboarded and receives an offer, on two phones: the 望京 warehouse's manager
invites his number, he follows the SMS link, signs up with the code from the SMS, gives his
vehicle and waits; she activates him, his page follows live, he goes on shift (his phone
shares its position) and the next order the warehouse packs is offered to him.

Everything is real: uvicorn serving config.asgi (pages, API and the ws/me/ sockets), the
development SMS outbox, the Celery worker that runs dispatch, PostGIS, Redis.
"""

import re
from decimal import Decimal

import pytest

from accounts.choices import Role
from accounts.models import User
from delivery.models import Courier, CourierStatus, TaskOffer, WarehouseStaff
from delivery.services.orders import place_order
from tests.accounts.factories import UserFactory
from tests.delivery.factories import front_warehouse, fund_wallet, stocked
from tests.e2e.conftest import fits_the_screen
from tests.farms.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

WAREHOUSE = (116.4800, 39.9900)  # Wangjing, Chaoyang
HOME = (116.4900, 39.9950)  # a flat 1 km north-east
COURIER_AT = {"longitude": 116.4850, "latitude": 39.9880}  # 700 m from the warehouse
NUMBER = "159 8800 0017"
NORMAL = "+8615988000017"


def test_a_courier_is_onboarded_and_receives_an_offer(
    asgi_server, asgi_phone, asgi_phone_as, wait_until, output_dir, celery_worker_live, sms_outbox
):
    base = asgi_server
    warehouse = front_warehouse("wangjing", *WAREHOUSE, half_side=0.03)
    manager = UserFactory(role=Role.WAREHOUSE_MANAGER)
    WarehouseStaff.objects.create(warehouse=warehouse, user=manager)
    spinach = ProductFactory(code="VEG-SPINACH-JOIN", name_zh="菠菜", name_en="Spinach")
    stocked(warehouse, spinach, kg="10", price="12.00")

    # The manager invites his number from her phone.
    boss = asgi_phone_as(manager)
    boss.goto(f"{base}/warehouse/couriers/")
    boss.fill("input[name=phone]", NUMBER)
    boss.click("[data-testid=send-invitation]")
    boss.wait_for_selector("[data-testid=pending-invitations]")
    assert "159****0017" in boss.inner_text("[data-testid=pending-invitations]")
    assert fits_the_screen(boss)
    boss.screenshot(path=output_dir / "1-manager-invites.png", full_page=True)

    # He follows the link of the SMS on his own phone, signed out.
    [sms] = sms_outbox.messages_to(NORMAL)
    path = re.search(r"/courier/join/[\w-]+/", sms).group()
    rider = asgi_phone(geolocation=COURIER_AT, permissions=["geolocation"])
    rider.goto(base + path)
    assert warehouse.name in rider.inner_text("[data-invitation]")
    assert fits_the_screen(rider)
    rider.screenshot(path=output_dir / "2-courier-opens-the-link.png", full_page=True)

    # He signs up with his number (already filled in) and the code from the SMS.
    rider.click("[data-sign-up]")
    rider.wait_for_selector("[data-testid=send-code]")
    assert rider.input_value("input[name=phone]").replace(" ", "").endswith("15988000017")
    rider.click("[data-testid=send-code]")
    rider.wait_for_selector("[data-testid=code-sent]")
    rider.fill("input[name=code]", sms_outbox.last_code(NUMBER))
    rider.fill("input[name=display_name]", "吴师傅")
    rider.fill("input[name=password]", "e-bike-rides-2026")
    rider.check("input[name=agree]")
    rider.screenshot(path=output_dir / "3-courier-signs-up.png", full_page=True)
    rider.click("[data-testid=sign-up]")

    # Back on the invitation: his vehicle and how many orders he carries at once.
    rider.wait_for_selector("[data-join-form]")
    rider.check("input[name=vehicle_type][value=e_bike]")
    rider.fill("input[name=capacity]", "2")
    assert fits_the_screen(rider)
    rider.screenshot(path=output_dir / "4-courier-gives-his-vehicle.png", full_page=True)
    rider.click("[data-join]")
    rider.wait_for_selector("[data-courier-status=waiting]")
    user = User.objects.get(phone=NORMAL)
    courier = Courier.objects.get(user=user)
    assert (user.role, courier.status, courier.vehicle_type, courier.capacity) == (
        Role.COURIER,
        CourierStatus.WAITING,
        "e_bike",
        2,
    )
    rider.wait_for_selector("html[data-live=open]")
    rider.screenshot(path=output_dir / "5-courier-waits.png", full_page=True)

    # She sees him waiting and activates him; his page follows without a reload.
    rider.evaluate("window.notReloaded = true")
    boss.goto(f"{base}/warehouse/couriers/")
    boss.wait_for_selector(f"[data-testid=activate-{courier.pk}]")
    boss.screenshot(path=output_dir / "6-manager-sees-him-waiting.png", full_page=True)
    boss.click(f"[data-testid=activate-{courier.pk}]")
    boss.wait_for_selector(f"[data-testid=deactivate-{courier.pk}]")
    assert fits_the_screen(boss)
    boss.screenshot(path=output_dir / "7-manager-activated-him.png", full_page=True)
    rider.wait_for_selector("[data-shift-switch]")
    assert rider.evaluate("window.notReloaded") is True

    # He goes on shift; his phone shares where he is.
    rider.click("[data-shift-switch]")
    rider.wait_for_selector("[data-shift-switch][data-on-shift=true]")
    wait_until(lambda: Courier.objects.get(pk=courier.pk).position is not None)
    rider.screenshot(path=output_dir / "8-courier-on-shift.png", full_page=True)

    # An order comes in; the warehouse packs it and it is offered to him, live.
    consumer = UserFactory(role=Role.CONSUMER)
    fund_wallet(consumer, "100.00")
    order = place_order(
        consumer=consumer,
        longitude=HOME[0],
        latitude=HOME[1],
        address="望京西园三区 5 号楼 1201",
        lines=[(spinach.pk, Decimal("1"))],
    )
    boss.goto(f"{base}/warehouse/")
    boss.click(f"[data-testid=pack-{order.pk}]")
    wait_until(lambda: TaskOffer.objects.filter(courier=courier).exists())
    rider.wait_for_selector("[data-offer-card]")
    assert rider.evaluate("window.notReloaded") is True
    assert fits_the_screen(rider)
    rider.screenshot(path=output_dir / "9-courier-receives-an-offer.png", full_page=True)
