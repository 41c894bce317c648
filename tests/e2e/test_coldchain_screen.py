"""The controller's wall screen with the demo running: the demo is seeded, the simulator posts
the loggers' readings through the real API of the running ASGI server, and the screen shows
the trucks on the map, a live chart per shipment and the alerts of the past faults (over by now, still to be acknowledged); then a
new excursion arrives live, without a reload.
"""

import io
import json
import urllib.request
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from coldchain import demo
from coldchain.models import Alert, Shipment
from coldchain.selectors.screen import screen_shipments

pytestmark = pytest.mark.django_db(transaction=True)

CONTROLLER_PHONE = "13200000001"
WALL = {"width": 1600, "height": 900}


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/sign-in/")
    page.fill("#id_username", CONTROLLER_PHONE)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/workspace/**")


def _post(base: str, logger: demo.DemoLogger, readings: list[dict]) -> None:
    request = urllib.request.Request(
        f"{base}/api/coldchain/readings/",
        data=json.dumps({"readings": readings}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Device {logger.device_id}:{logger.secret}",
        },
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()


def test_wall_screen_shows_map_charts_and_alerts_and_takes_a_new_alert_live(
    asgi_server, asgi_phone, output_dir
):
    call_command("seed_demo", "--force", stdout=io.StringIO())
    call_command(
        "simulate_loggers", "--once", "--force", "--url", asgi_server, "--wait-healthy", "0",
        "--backfill-hours", "2", stdout=io.StringIO(),
    )  # fmt: skip
    past_alerts = Alert.objects.count()
    assert past_alerts >= 2  # the backfill's compressor failure and the too-cold truck

    page = asgi_phone(viewport=WALL)
    _sign_in(page, asgi_server)
    page.goto(f"{asgi_server}/coldchain/")
    page.wait_for_selector("#screen[data-live=open]")
    page.wait_for_selector("#screen-map .screen-marker-dot[data-kind]")
    page.wait_for_selector("[data-temperature-chart][data-chart-state=ready]")

    in_transit = Shipment.objects.filter(status="in_transit").count()
    # Under way, and finished in the last 24 hours (traceability's demo lot has two such legs).
    controller = User.objects.get(username="controller")
    on_screen = len(screen_shipments(controller, now=timezone.now()))
    assert on_screen >= in_transit
    assert page.locator(".shipment-row").count() == on_screen
    assert page.locator("#alerts-panel .alert-item").count() == past_alerts
    assert page.locator("[data-temperature-chart] canvas").count() >= in_transit
    page.screenshot(path=output_dir / "1-wall-screen.png", full_page=True)

    # The sweet-pepper truck's compressor fails now. So that the test need not wait out the
    # demo's five minutes, its shipment confirms after one; the readings run a little ahead
    # of the clock (within the allowed skew), after everything the simulator sent.
    truck = next(spec for spec in demo.VEHICLES if spec.plate == "鲁VD5206")
    Shipment.objects.filter(vehicle__plate=truck.plate, status="in_transit").update(
        excursion_delay_minutes=1
    )
    now = timezone.now()
    warm = [
        {"recorded_at": (now + timedelta(seconds=second)).isoformat(), "temperature_c": 14.5}
        for second in range(5, 126, 15)
    ]
    _post(asgi_server, truck.logger, warm)
    page.wait_for_function(
        f"document.querySelectorAll('#alerts-panel .alert-item').length > {past_alerts}"
    )
    assert Alert.objects.count() == past_alerts + 1
    pepper_trip = Shipment.objects.get(vehicle__plate=truck.plate, status="in_transit")
    page.wait_for_selector(
        f".shipment-row[data-shipment-id='{pepper_trip.pk}'][data-state=excursion]"
    )
    page.screenshot(path=output_dir / "2-new-alert-live.png", full_page=True)
