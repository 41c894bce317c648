"""The wall screen shows people's names as text (a site or cold store named like an HTML tag
appears in its tooltip as written and creates no element) and counts late readings under a
shipment's chart."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from coldchain.models import Reading
from coldchain.services.registry import assign_logger, register_logger
from tests.coldchain.factories import ColdStoreFactory, ShipmentFactory, SiteFactory

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = "<img src=x onerror=window.pwned=1>"
WALL = {"width": 1280, "height": 800}


def test_a_site_named_like_html_shows_as_text_in_the_map_tooltips(
    asgi_server, asgi_phone_as, coldchain_controller
):
    site = SiteFactory(name=HOSTILE, location=Point(116.40, 39.90, srid=4326))
    ColdStoreFactory(site=site, name=f"库{HOSTILE}")
    ShipmentFactory(origin=site, destination=SiteFactory(location=Point(117.2, 39.1, srid=4326)))
    page = asgi_phone_as(coldchain_controller, viewport=WALL)

    page.goto(f"{asgi_server}/coldchain/")
    page.wait_for_selector("#screen-map .screen-marker-dot[data-kind=store]")
    page.hover("#screen-map .screen-marker-dot[data-kind=store]")
    tooltip = page.locator("#screen-map .leaflet-tooltip").first
    tooltip.wait_for()

    assert HOSTILE in tooltip.inner_text()
    assert page.locator("#screen-map .leaflet-tooltip img").count() == 0
    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("window.pwned === undefined")


def test_the_wall_screen_counts_late_readings_under_a_shipments_chart(
    asgi_server, asgi_phone_as, coldchain_controller
):
    shipment = ShipmentFactory()
    logger, _secret = register_logger(device_id="LOG-LATE-1")
    now = timezone.now()
    assign_logger(logger=logger, subject=shipment, starts_at=now - timedelta(hours=2))
    Reading.objects.bulk_create(
        [
            Reading(logger=logger, recorded_at=now - timedelta(minutes=90), temperature_c=2.0),
            Reading(
                logger=logger, recorded_at=now - timedelta(minutes=60), temperature_c=2.5, late=True
            ),
        ]
    )
    page = asgi_phone_as(coldchain_controller, viewport=WALL)

    page.goto(f"{asgi_server}/coldchain/")
    page.wait_for_selector("[data-temperature-chart][data-late-readings='1']")

    assert page.locator(".chart-late").inner_text() == "Readings that arrived late: 1"
