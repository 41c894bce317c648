"""A consumer joins on her phone and orders at once; then she signs in with a code, and resets
a forgotten password with one. Each part starts from a fresh browser (360 x 640, Chinese), and
reads the code from the development SMS outbox as her phone would show it.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry, Consent, PhoneCode, User
from accounts.privacy import POLICY_VERSION
from delivery.models import DeliveryOrder
from tests.accounts.factories import UserFactory
from tests.delivery.factories import front_warehouse, fund_wallet, stocked
from tests.e2e.conftest import fits_the_screen
from tests.farms.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

WAREHOUSE = (116.4800, 39.9900)  # Wangjing, Chaoyang
HOME = {"longitude": 116.4900, "latitude": 39.9950}
NUMBER = "13912340001"
PASSWORD = "green-cabbage-2026"


def send_code_and_read_it(page, sms_outbox, phone: str) -> str:
    page.fill("input[name=phone]", phone)
    page.click("[data-testid=send-code]")
    page.wait_for_selector("[data-testid=code-sent]")
    return sms_outbox.last_code(phone)


def test_consumer_signs_up_on_her_phone_and_places_an_order(
    asgi_server, asgi_phone, sms_outbox, output_dir
):
    base = asgi_server
    warehouse = front_warehouse("wangjing", *WAREHOUSE, half_side=0.03)
    spinach = ProductFactory(code="VEG-SPINACH-SIGNUP", name_zh="菠菜", name_en="Spinach")
    stocked(warehouse, spinach, kg="10", price="12.00")

    page = asgi_phone(locale="zh-CN", geolocation=HOME, permissions=["geolocation"])
    page.goto(f"{base}/sign-in/")
    page.click("[data-testid=sign-up-link]")
    page.wait_for_url(f"{base}/sign-up/")
    assert page.is_checked("input[name=account_type][value=consumer]")
    code = send_code_and_read_it(page, sms_outbox, NUMBER)
    page.fill("input[name=code]", code)
    page.fill("input[name=display_name]", "林小姐")
    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=agree]")
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "1-sign-up-filled.png", full_page=True)
    page.click("button:has-text('注册')")
    page.wait_for_url(f"{base}/workspace/consumer/")
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "2-consumer-workspace.png", full_page=True)

    user = User.objects.get(phone=f"+86{NUMBER}")
    assert user.role == Role.CONSUMER
    assert Consent.objects.filter(user=user, policy_version=POLICY_VERSION).exists()
    # Her first top-up, in cash at the warehouse's counter (no payment page yet).
    fund_wallet(user, "50.00")

    page.click("a[href='/shop/']")
    # The shop's script listens to the button once the page has loaded.
    page.wait_for_url(f"{base}/shop/")
    page.click("[data-use-location]")
    page.wait_for_selector("[data-catalogue]")
    page.fill(f"[data-product='{spinach.pk}'] input", "1.5")
    page.fill("input[name=address]", "望京西园三区 5 号楼 1201")
    page.screenshot(path=output_dir / "3-shop.png", full_page=True)
    page.click("[data-place-order]")
    page.wait_for_url(f"{base}/shop/orders/*/")
    order = DeliveryOrder.objects.get()
    assert order.consumer == user
    assert order.total.amount == Decimal("18.00")
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "4-order-placed.png", full_page=True)


def test_she_signs_in_with_a_code_and_resets_a_forgotten_password(
    asgi_server, asgi_phone, sms_outbox, output_dir
):
    base = asgi_server
    user = UserFactory(phone=f"+86{NUMBER}", role=Role.CONSUMER)

    # Sign-in with a code, from a fresh browser.
    page = asgi_phone(locale="zh-CN")
    page.goto(f"{base}/sign-in/")
    page.click("[data-testid=sign-in-code-link]")
    page.wait_for_url(f"{base}/sign-in/code/")
    code = send_code_and_read_it(page, sms_outbox, NUMBER)
    page.fill("input[name=code]", code)
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "1-sign-in-with-code.png", full_page=True)
    page.click("[data-testid=sign-in-with-code]")
    page.wait_for_url(f"{base}/workspace/consumer/")

    # A forgotten password, from another fresh browser; the code was sent a minute ago, so
    # the number may ask again.
    PhoneCode.objects.update(
        sent_at=F("sent_at") - timedelta(minutes=2),
        expires_at=F("expires_at") - timedelta(minutes=2),
    )
    page = asgi_phone(locale="zh-CN")
    page.goto(f"{base}/sign-in/")
    page.click("[data-testid=password-reset-link]")
    page.wait_for_url(f"{base}/password/reset/")
    code = send_code_and_read_it(page, sms_outbox, NUMBER)
    page.fill("input[name=code]", code)
    page.fill("input[name=new_password]", "new-garden-path-88")
    page.screenshot(path=output_dir / "2-password-reset.png", full_page=True)
    page.click("[data-testid=reset-password]")
    page.wait_for_url(f"{base}/sign-in/")
    page.fill("input[name=username]", NUMBER)
    page.fill("input[name=password]", "new-garden-path-88")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{base}/workspace/consumer/")
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "3-signed-in-with-new-password.png", full_page=True)
    user.refresh_from_db()
    assert user.check_password("new-garden-path-88")
    assert AuditEntry.objects.filter(subject=user, action=AuditAction.PASSWORD_RESET).exists()
