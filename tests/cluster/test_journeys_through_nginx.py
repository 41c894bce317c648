"""The browser journeys on the demo, through nginx: every page, static file and WebSocket goes
through it to whichever web process it picks, and the sessions live in PostgreSQL (through
PgBouncer), so a page and its socket may be served by different processes."""

import re

URL = "http://127.0.0.1:8080"  # nginx (scripts/cluster.py)
PASSWORD = "freshchain"  # the demo's
BEIJING_CHAOYANG = {"longitude": 116.4800, "latitude": 39.9200}  # the demo restaurant


def sign_in(page, username: str) -> None:
    page.goto(f"{URL}/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{URL}/workspace/**")


def test_buyer_finds_and_orders_the_farmer_accepts_live_and_the_buyer_sees_it_live(ops, phone):
    farmer = phone()
    sign_in(farmer, "farmer")
    farmer.click("nav.mainnav >> text=Orders")
    farmer.wait_for_url(f"{URL}/orders/")
    farmer.wait_for_selector("html[data-live=open]")
    farmer.evaluate("window.notReloaded = true")

    buyer = phone(geolocation=BEIJING_CHAOYANG, permissions=["geolocation"])
    sign_in(buyer, "buyer")
    buyer.click("nav.mainnav >> text=Find produce")
    buyer.fill("#id_q", "黄瓜")
    buyer.select_option("#id_radius_km", "500")
    buyer.click("[data-use-location]")
    buyer.wait_for_url("**/produce/?*lon=116.48*")
    result = buyer.locator("[data-testid=result]").first
    assert "km away" in result.inner_text()
    assert result.locator("img.thumb").evaluate("img => img.complete && img.naturalWidth > 0")
    result.click()
    buyer.fill("#id_quantity", "20")  # the listing's minimum
    buyer.click("[data-testid=order-form] button[type=submit]")
    buyer.wait_for_url(f"{URL}/orders/*/")
    assert buyer.inner_text("[data-testid=order-status]") == "Placed"
    order_id = re.search(r"/orders/(\d+)/", buyer.url).group(1)

    # The farmer's open list shows it without a reload: pushed through Redis from the web
    # process that took the order to the one holding her socket (nginx chose both).
    farmer.wait_for_selector(f"[data-order='{order_id}']")
    assert farmer.evaluate("window.notReloaded") is True

    buyer.wait_for_selector("html[data-live=open]")
    buyer.evaluate("window.notReloaded = true")
    farmer.click(f"[data-order='{order_id}'] a")
    farmer.click("button:has-text('Accept')")
    farmer.wait_for_selector("[data-testid=order-status]:has-text('Accepted')")
    buyer.wait_for_selector("[data-testid=order-status]:has-text('Accepted')")
    assert buyer.evaluate("window.notReloaded") is True
    ops.log(f"browser journey through nginx: order {order_id} placed, accepted, seen live")


def test_the_controller_watches_the_cold_chain_screen_live(ops, phone):
    controller = phone(viewport={"width": 1280, "height": 800})
    sign_in(controller, "controller")
    controller.goto(f"{URL}/coldchain/")

    controller.wait_for_selector("html[data-live=open]")
    # The counters and tiles are filled from /api/coldchain/screen/ once the socket is open.
    controller.wait_for_function(
        "document.querySelector('[data-count=shipments]').textContent.trim() !== '–'"
    )
    assert "°C" in controller.inner_text("main")


def test_a_visitor_reads_the_home_page_and_the_api_docs(ops, phone):
    visitor = phone()
    visitor.goto(f"{URL}/")
    assert visitor.locator("link[rel=stylesheet]").count() >= 1
    docs = visitor.goto(f"{URL}/api/docs/")
    assert docs.status == 200
    visitor.wait_for_selector(".swagger-ui .opblock")
