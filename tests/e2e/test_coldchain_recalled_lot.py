"""The wall screen flags a leg carrying a recalled lot (a lot held everywhere) with the lot's
code, and only that leg."""

from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point

from coldchain.models import ShipmentLot
from farms.choices import HoldSource
from farms.services.holds import place_hold
from tests.coldchain.factories import ShipmentFactory, SiteFactory
from tests.farms.factories import HarvestLotFactory

pytestmark = pytest.mark.django_db(transaction=True)

WALL = {"width": 1280, "height": 800}


def _leg(code: str, lot_code: str):
    shipment = ShipmentFactory(
        code=code,
        origin=SiteFactory(location=Point(118.79, 36.86, srid=4326)),
        destination=SiteFactory(location=Point(116.40, 39.90, srid=4326)),
    )
    lot = HarvestLotFactory(lot_code=lot_code)
    ShipmentLot.objects.create(shipment=shipment, lot=lot, quantity_kg=Decimal("300"))
    return shipment, lot


def test_the_wall_screen_flags_the_leg_carrying_a_recalled_lot(
    asgi_server, asgi_phone_as, coldchain_controller, output_dir
):
    recalled, lot = _leg("SH-RECALL", "SG-CAB-0907")
    clean, _lot = _leg("SH-CLEAN", "SG-CAB-0908")
    place_hold(
        lot=lot,
        source=HoldSource.RECALL,
        reference="recall:RC-7",
        reason="Recall RC-7: chlorpyrifos above the national limit",
    )
    page = asgi_phone_as(coldchain_controller, viewport=WALL)

    page.goto(f"{asgi_server}/coldchain/")
    page.wait_for_selector(f".shipment-row[data-shipment-id='{clean.pk}']")
    flagged = page.locator(f".shipment-row[data-shipment-id='{recalled.pk}']")
    other = page.locator(f".shipment-row[data-shipment-id='{clean.pk}']")

    assert flagged.locator("[data-slot=recalled]").is_visible()
    assert flagged.locator("[data-slot=recalled_lots]").inner_text() == "SG-CAB-0907"
    assert flagged.get_attribute("data-recalled") is not None
    assert not other.locator("[data-slot=recalled]").is_visible()
    page.screenshot(path=output_dir / "recalled-leg.png", full_page=True)
