"""Browser journeys on a 360-px phone: drawing a farm with no map tiles, recording a harvest.

Playwright drives Debian's Chromium against pytest-django's live server.
"""

import json

import pytest

from farms.models import Farm, HarvestLot
from tests.e2e.conftest import fits_the_screen

pytestmark = pytest.mark.django_db(transaction=True)


def test_farmer_draws_her_farm_on_a_map_without_tiles(phone_as, live_server, settings, member):
    settings.MAP_TILES_URL = ""
    page = phone_as(member)

    page.goto(f"{live_server.url}/farms/new/")
    page.wait_for_selector("[data-farm-map][data-ready=drawing]")
    page.fill("#id_name", "东地大棚")
    page.click(".leaflet-pm-icon-polygon")
    box = page.locator("#farm-map").bounding_box()
    corners = [(0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7), (0.3, 0.3)]
    for x, y in corners:
        page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
    drawn = json.loads(page.input_value("#id_boundary"))

    assert page.locator(".leaflet-tile-pane img").count() == 0
    assert drawn["type"] == "Polygon"
    assert len(drawn["coordinates"][0]) == 5
    assert fits_the_screen(page)

    # The map opens on China; move the drawing into the country before saving.
    page.fill(
        "#id_boundary",
        json.dumps(
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [118.79, 36.86],
                        [118.791, 36.86],
                        [118.791, 36.861],
                        [118.79, 36.861],
                        [118.79, 36.86],
                    ]
                ],
            }
        ),
    )
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/farms/*/")

    farm = Farm.objects.get()
    assert farm.farmer == member
    assert farm.boundary.valid
    assert page.locator("#farm-map .leaflet-interactive").count() == 1


def test_farmer_records_a_harvest_on_her_phone(phone_as, live_server, member, farm, catalogue):
    page = phone_as(member)

    page.goto(f"{live_server.url}/lots/new/")
    page.select_option("#id_product", "VEG-CUCUMBER")
    page.fill("#id_quantity", "86.5")
    page.check("input[name=certifications][value=green_food]")
    assert fits_the_screen(page)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/lots/")

    lot = HarvestLot.objects.get()
    assert lot.farm == farm
    assert page.locator(".message").inner_text() == f"Harvest lot {lot.lot_code} recorded."
    assert fits_the_screen(page)
