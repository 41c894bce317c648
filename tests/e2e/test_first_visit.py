"""A first visit on a phone: the home page with today's prices and the trace box, then the
demo buyer's "find produce" with the demo's listings nearest first, and an order; and large
text (适老化) on a 360 × 640 screen."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from marketplace.choices import OrderStatus
from marketplace.models import Order
from tests.e2e.conftest import fits_the_screen
from traceability.choices import TraceCodeKind
from traceability.codes import grouped
from traceability.models import TraceCode

pytestmark = pytest.mark.django_db(transaction=True)


def _seed() -> None:
    call_command("seed_demo", "--force", stdout=StringIO())


def _font_px(page, selector: str) -> float:
    return page.evaluate(
        f"parseFloat(getComputedStyle(document.querySelector('{selector}')).fontSize)"
    )


def test_visitor_sees_prices_and_traces_a_demo_label(phone, live_server, output_dir):
    _seed()
    code = (
        TraceCode.objects.filter(kind=TraceCodeKind.CERTIFICATE, revoked_at__isnull=True)
        .select_related("lot__product")
        .first()
    )
    page = phone(locale="en-US")

    page.goto(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "Fresh produce, from the farm gate to your door"
    prices = page.locator("[data-testid=home-prices] li")
    assert prices.count() >= 3
    assert "¥" in prices.first.inner_text()
    assert page.locator("[data-testid=sign-in]").is_visible()
    assert page.locator("[data-testid=sign-up]").is_visible()
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "1-home.png", full_page=True)

    # A mistyped code first: the box says so and keeps what was typed.
    page.fill("#id_code", "7K2M-Q9XP-4TDB")
    page.click("[data-testid=trace-form] button[type=submit]")
    assert "No produce has this trace code." in page.locator(".errorlist").inner_text()
    assert page.input_value("#id_code") == "7K2M-Q9XP-4TDB"

    page.fill("#id_code", grouped(code.code).lower())
    page.click("[data-testid=trace-form] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/t/{code.code}")
    assert page.locator("[data-testid=trace-farm]").inner_text() == code.lot.farm.name
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "2-trace-page.png", full_page=True)


def test_demo_buyer_finds_the_demo_listings_nearest_first_and_orders(
    phone, live_server, output_dir
):
    _seed()
    buyer = User.objects.get(username="buyer")
    page = phone(locale="en-US", user=buyer)

    page.goto(f"{live_server.url}/workspace/buyer/")
    page.click("nav.mainnav >> text=Find produce")
    page.select_option("#id_city", "beijing")
    page.click("form[data-search-form] button[type=submit]")
    page.wait_for_url("**/produce/?*city=beijing*")
    results = page.locator("[data-testid=result]")
    assert results.count() >= 5
    distances = [
        float(text.split(" km")[0].replace(",", ""))
        for text in page.locator("[data-testid=distance]").all_inner_texts()
    ]
    assert distances == sorted(distances)
    texts = results.all_inner_texts()
    # Shouguang's vegetables (about 400 km) before Luochuan's apples (about 900 km).
    first_apple = next(i for i, text in enumerate(texts) if "苹果" in text)
    assert any("黄瓜" in text for text in texts[:first_apple])
    assert distances[0] > 300  # every listing, however far: no 50 km default
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "1-find-produce.png", full_page=True)

    results.nth(first_apple).click()
    page.fill("#id_quantity", "25")
    page.click("[data-testid=order-form] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/orders/*/")
    assert page.inner_text("[data-testid=order-status]") == "Placed"
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "2-ordered.png", full_page=True)

    # The demo's own orders carry "demo-" keys; the page's key is the form's.
    order = Order.objects.filter(buyer=buyer).exclude(idempotency_key__startswith="demo-").get()
    assert order.status == OrderStatus.PLACED
    assert order.lines.get().listing.product.code == "FRT-APPLE"
    assert order.lines.get().quantity_kg == 25


def test_large_text_on_a_small_phone(phone, live_server, output_dir):
    _seed()
    farmer = User.objects.get(username="farmer")
    visitor = phone(locale="zh-CN")

    visitor.goto(f"{live_server.url}/")
    before = _font_px(visitor, "main p")
    visitor.click("[data-testid=large-text]")
    visitor.wait_for_selector("html.large-text")
    assert _font_px(visitor, "main p") > before * 1.2
    assert visitor.get_attribute("[data-testid=large-text]", "aria-pressed") == "true"
    assert fits_the_screen(visitor)
    visitor.screenshot(path=output_dir / "1-home-large.png", full_page=True)

    # The farmer turns it on on her phone; her account remembers it on every page.
    page = phone(locale="zh-CN", user=farmer)
    page.goto(f"{live_server.url}/workspace/farmer/")
    normal_button = page.evaluate(
        "document.querySelector('main a, main button').getBoundingClientRect().height"
    )
    page.click("[data-testid=large-text]")
    page.wait_for_selector("html.large-text")
    farmer.refresh_from_db()
    assert farmer.large_text is True
    for path in ("/workspace/farmer/", "/lots/", "/listings/mine/", "/orders/", "/market/prices/"):
        page.goto(f"{live_server.url}{path}")
        assert page.locator("html.large-text").count() == 1, path
        assert _font_px(page, "body") >= 22, path
        assert fits_the_screen(page), path
    page.goto(f"{live_server.url}/lots/")
    page.screenshot(path=output_dir / "2-lots-large.png", full_page=True)
    page.goto(f"{live_server.url}/workspace/farmer/")
    larger_button = page.evaluate(
        "document.querySelector('main a, main button').getBoundingClientRect().height"
    )
    assert larger_button >= normal_button
    page.screenshot(path=output_dir / "3-workspace-large.png", full_page=True)
