"""The wall screen's map shows people's names as text: a site or cold store named like an HTML
tag appears in its tooltip as written and creates no element."""

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.test import Client

from tests.coldchain.factories import ColdStoreFactory, ShipmentFactory, SiteFactory

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = "<img src=x onerror=window.pwned=1>"
WALL = {"width": 1280, "height": 800}


def test_a_site_named_like_html_shows_as_text_in_the_map_tooltips(
    asgi_server, asgi_phone, coldchain_controller
):
    site = SiteFactory(name=HOSTILE, location=Point(116.40, 39.90, srid=4326))
    ColdStoreFactory(site=site, name=f"库{HOSTILE}")
    ShipmentFactory(origin=site, destination=SiteFactory(location=Point(117.2, 39.1, srid=4326)))
    client = Client()
    client.force_login(coldchain_controller)
    page = asgi_phone(viewport=WALL)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": asgi_server,
            }
        ]
    )

    page.goto(f"{asgi_server}/coldchain/")
    page.wait_for_selector("#screen-map .screen-marker-dot[data-kind=store]")
    page.hover("#screen-map .screen-marker-dot[data-kind=store]")
    tooltip = page.locator("#screen-map .leaflet-tooltip").first
    tooltip.wait_for()

    assert HOSTILE in tooltip.inner_text()
    assert page.locator("#screen-map .leaflet-tooltip img").count() == 0
    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("window.pwned === undefined")
