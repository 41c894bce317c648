"""The first kilometre on two phones: the demo farmer lists a lot with a photo, the demo
buyer finds it by distance and orders, the farmer sees the order arrive live and accepts.

The ws/me/ socket needs the real ASGI app: both browsers use tests/e2e/conftest.py's
`asgi_server` (uvicorn against the test database).
"""

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image

from accounts.demo import DEMO_PASSWORD
from accounts.models import Notification
from marketplace.choices import ListingStatus, OrderStatus
from marketplace.models import Listing, Order
from tests.e2e.conftest import fits_the_screen

pytestmark = pytest.mark.django_db(transaction=True)

BEIJING_CHAOYANG = {"longitude": 116.4800, "latitude": 39.9200}  # the demo buyer's restaurant


def _sign_in(page, base: str, phone: str) -> None:
    page.goto(f"{base}/sign-in/")
    page.fill("#id_username", phone)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/workspace/**")


def _photo(folder: Path) -> Path:
    path = folder / "tomatoes.jpg"
    Image.new("RGB", (800, 600), (196, 30, 58)).save(path, format="JPEG")
    return path


def test_farmer_lists_buyer_orders_farmer_sees_it_live_and_accepts(
    asgi_server, asgi_phone, output_dir, tmp_path
):
    call_command("seed_demo", "--force", stdout=io.StringIO())
    base = asgi_server

    # The farmer puts part of her tomato lot on sale, with a photo from her phone.
    farmer = asgi_phone()
    _sign_in(farmer, base, "138 0000 0001")
    farmer.goto(f"{base}/lots/")
    farmer.click("text=DEMO-SG-0001")
    farmer.click("[data-testid=sell]")
    farmer.fill("#id_price", "5.20")
    farmer.fill("#id_quantity", "300")
    farmer.fill("#id_minimum_order", "10")
    farmer.set_input_files("#id_photo", _photo(tmp_path))
    assert fits_the_screen(farmer)
    farmer.screenshot(path=output_dir / "1-farmer-sell-form.png", full_page=True)
    farmer.click("[data-testid=listing-form] button[type=submit]")
    farmer.wait_for_url(f"{base}/listings/mine/")
    assert "On sale" in farmer.inner_text("[data-testid=my-listings]")
    assert "¥5.20/kg" in farmer.inner_text("[data-testid=my-listings]")
    assert fits_the_screen(farmer)
    farmer.screenshot(path=output_dir / "2-farmer-my-listings.png", full_page=True)

    # She opens her orders and waits; the page is connected live.
    farmer.click("nav.mainnav >> text=Orders")
    farmer.wait_for_url(f"{base}/orders/")
    farmer.wait_for_selector("html[data-live=open]")
    farmer.evaluate("window.notReloaded = true")
    assert "No orders yet" in farmer.inner_text("[data-testid=orders]")

    # The buyer in Beijing finds it by distance from where his phone says he is.
    buyer = asgi_phone(geolocation=BEIJING_CHAOYANG, permissions=["geolocation"])
    _sign_in(buyer, base, "136 0000 0001")
    buyer.click("nav.mainnav >> text=Find produce")
    buyer.fill("#id_q", "番茄")
    buyer.select_option("#id_radius_km", "500")
    buyer.click("[data-use-location]")
    buyer.wait_for_url("**/produce/?*lon=116.48*")
    result = buyer.locator("[data-testid=result]").first
    assert "km away" in result.inner_text()
    assert "¥5.20/kg" in result.inner_text()
    assert "东地大棚" in result.inner_text()
    assert result.locator("img.thumb").evaluate("img => img.complete && img.naturalWidth > 0")
    assert fits_the_screen(buyer)
    buyer.screenshot(path=output_dir / "3-buyer-search.png", full_page=True)

    result.click()
    # Waits for the page's load, not only its form: its styles and photo are what is measured.
    buyer.wait_for_url(re.compile(r"/produce/\d+/$"))
    buyer.fill("#id_quantity", "20")
    buyer.fill("#id_note", "Pickup tomorrow 7:00")
    assert fits_the_screen(buyer)
    buyer.screenshot(path=output_dir / "4-buyer-order-form.png", full_page=True)
    buyer.click("[data-testid=order-form] button[type=submit]")
    buyer.wait_for_url(f"{base}/orders/*/")
    assert buyer.inner_text("[data-testid=order-status]") == "Placed"
    # The demo has orders of its own (e.g. the recalled eggplant): this one is of her tomatoes.
    order = Order.objects.get(lines__listing__lot__lot_code="DEMO-SG-0001")

    # The farmer's open list shows the new order without a reload, and the badge counts it.
    farmer.wait_for_selector(f"[data-order='{order.pk}']")
    assert farmer.evaluate("window.notReloaded") is True
    assert farmer.inner_text("[data-testid=unread-count]") == "1"
    assert fits_the_screen(farmer)
    farmer.screenshot(path=output_dir / "5-farmer-order-arrived.png", full_page=True)

    # She accepts; the buyer's open order page follows, again without a reload.
    buyer.wait_for_selector("html[data-live=open]")
    buyer.evaluate("window.notReloaded = true")
    farmer.click(f"[data-order='{order.pk}'] a")
    farmer.click("button:has-text('Accept')")
    farmer.wait_for_selector("[data-testid=order-status]:has-text('Accepted')")
    farmer.screenshot(path=output_dir / "6-farmer-accepted.png", full_page=True)
    buyer.wait_for_selector("[data-testid=order-status]:has-text('Accepted')")
    assert buyer.evaluate("window.notReloaded") is True
    assert fits_the_screen(buyer)
    buyer.screenshot(path=output_dir / "7-buyer-sees-accepted.png", full_page=True)

    listing = Listing.objects.get(lot__lot_code="DEMO-SG-0001")
    assert listing.lot.lot_code == "DEMO-SG-0001"
    assert listing.seller.username == "farmer"
    assert str(listing.price_per_kg.amount) == "5.20"
    assert str(listing.available_kg) == "280.000"
    assert listing.status == ListingStatus.ACTIVE
    assert listing.photos.count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    assert order.buyer.username == "buyer"
    assert str(order.total.amount) == "104.00"
    assert order.buyer_note == "Pickup tomorrow 7:00"
    assert Notification.objects.filter(user=listing.seller, kind="order.placed").count() == 1
    assert (
        Notification.objects.filter(
            user=order.buyer, kind="order.status_changed", payload__order_id=order.pk
        ).count()
        == 1
    )
