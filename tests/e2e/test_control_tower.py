"""The control tower at 1600x900 with the demo loaded: the demo regulator (Beijing's market
supervision) signs in, opens the tower from her workspace, and sees the demo's market, front
warehouses and the trucks bound for Xinfadi on the map, today's counters and the 30-day
trends; the platform admin's tower shows the whole country."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from controltower.selectors.scope import scope_of
from controltower.selectors.screen import tower_screen

pytestmark = pytest.mark.django_db(transaction=True)

REGULATOR_PHONE = "13000000001"
WALL = {"width": 1600, "height": 900}


def _sign_in(page, base: str, phone: str) -> None:
    page.goto(f"{base}/sign-in/")
    page.fill("#id_username", phone)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/workspace/**")


def test_the_demo_regulator_sees_her_regions_markets_warehouses_and_shipments(
    asgi_server, asgi_phone, output_dir
):
    call_command("seed_demo", "--force", stdout=io.StringIO())
    regulator = User.objects.get(username="regulator")
    expected = tower_screen(scope_of(regulator), now=timezone.now())
    assert expected.markets, "the demo has a market in Beijing"
    assert expected.warehouses, "the demo has front warehouses in Beijing"
    assert expected.shipments, "the demo has trucks bound for Beijing"

    page = asgi_phone(viewport=WALL)
    _sign_in(page, asgi_server, REGULATOR_PHONE)
    page.click("[data-testid=tile-tower]")
    page.wait_for_selector("#tower[data-live=open]")

    assert page.locator("[data-testid=tower-area]").inner_text() == "北京市"
    markers = page.locator("#tower-map .tower-marker-dot")
    assert markers.locator("xpath=self::*[@data-kind='market']").count() == len(
        [m for m in expected.markets if m.location]
    )
    assert page.locator("#tower-map .tower-marker-dot[data-kind=warehouse]").count() == len(
        expected.warehouses
    )
    assert page.locator("#tower-map .tower-marker-dot[data-kind=shipment]").count() == len(
        expected.shipments
    )
    assert page.locator("#market-rows tr").count() == len(expected.markets)
    assert page.locator("#warehouse-rows tr").count() == len(expected.warehouses)
    assert page.locator("#shipment-list li").count() == len(expected.shipments)
    assert page.locator("[data-counter=trades]").inner_text() == str(expected.counters.trades)
    assert page.locator("[data-counter=orders]").inner_text() == str(expected.counters.orders)
    assert page.locator("#tower-warnings").is_visible()
    page.wait_for_selector("[data-trend=volume][data-chart-state=ready]")
    assert page.locator(".trend[data-chart-state=ready] canvas").count() == 5
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=output_dir / "1-tower-regulator.png", full_page=True)

    # The digest of yesterday downloads from the screen.
    with page.expect_response(lambda response: "/tower/digest/" in response.url) as answer:
        page.click("[data-testid=digest-link]")
    assert answer.value.status == 200
    assert answer.value.headers["content-type"] == "application/pdf"


def test_the_platform_admin_sees_the_whole_country_also_on_a_tablet(
    asgi_server, asgi_phone_as, output_dir
):
    call_command("seed_demo", "--force", stdout=io.StringIO())
    admin = User.objects.get(username="admin")
    expected = tower_screen(scope_of(admin), now=timezone.now())

    page = asgi_phone_as(admin, viewport=WALL)
    page.goto(f"{asgi_server}/tower/")
    page.wait_for_selector("#tower[data-live=open]")

    assert page.locator("[data-testid=tower-area]").inner_text() in {"Whole country", "全国"}
    assert page.locator("#tower-map .tower-marker-dot[data-kind=shipment]").count() == len(
        expected.shipments
    )
    assert page.locator("#warehouse-rows tr").count() == len(expected.warehouses)
    page.screenshot(path=output_dir / "2-tower-admin.png", full_page=True)

    # On a tablet held upright the panels stack in one column, nothing sticking out sideways.
    tablet = asgi_phone_as(admin, viewport={"width": 820, "height": 1180})
    tablet.goto(f"{asgi_server}/tower/")
    tablet.wait_for_selector("#tower[data-live=open]")
    assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    tablet.screenshot(path=output_dir / "3-tower-tablet.png", full_page=True)
