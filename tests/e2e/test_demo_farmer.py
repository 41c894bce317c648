"""The demo farmer's first journey on her phone, exactly as a newcomer would try it."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD
from farms.models import HarvestLot
from tests.e2e.conftest import fits_the_screen

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_farmer_signs_in_and_records_a_harvest_lot(phone, live_server, output_dir):
    call_command("seed_demo", "--force", stdout=StringIO())
    lots_before = set(HarvestLot.objects.values_list("lot_code", flat=True))
    page = phone()  # a Chinese phone, signed out

    page.goto(f"{live_server.url}/")
    page.click("[data-testid=sign-in]")
    page.wait_for_url(f"{live_server.url}/sign-in/**")
    page.fill("#id_username", "138 0000 0001")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/workspace/farmer/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "1-workspace.png", full_page=True)

    page.click("main a[href='/lots/new/']")
    page.select_option("#id_product", "VEG-TOMATO")
    page.select_option("#id_farm", label="东地大棚")
    page.fill("#id_quantity", "120")  # the demo farmer counts in kg
    page.check("input[name=certifications][value=green_food]")
    page.select_option("#id_pesticide_test_result", "passed")
    page.screenshot(path=output_dir / "2-record-harvest.png", full_page=True)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/lots/")
    page.screenshot(path=output_dir / "3-lot-recorded.png", full_page=True)

    new_lots = HarvestLot.objects.exclude(lot_code__in=lots_before)
    lot = new_lots.select_related("product", "farm__farmer").get()
    assert lot.product.code == "VEG-TOMATO"
    assert lot.farm.name == "东地大棚"
    assert lot.farm.farmer.username == "farmer"
    assert str(lot.quantity_kg) == "120.000"
    assert lot.certifications == ["green_food"]
    assert lot.lot_code in page.locator(".message").inner_text()
    assert page.locator(f"text={lot.lot_code}").count() >= 1
    assert fits_the_screen(page)
    assert (output_dir / "3-lot-recorded.png").stat().st_size > 0
