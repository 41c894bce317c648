"""The farmer in a greenhouse with no signal: she records a lot and puts one on sale with a
photo while the phone is offline, both wait on the phone, and they are sent by themselves
when the connection returns, once each, even when an answer is lost on the way. A refused
draft comes back with its error for her to fix; a photo leaves the phone at most 1600 px."""

import io
from datetime import timedelta
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP

import pytest
from PIL import Image
from playwright.sync_api import expect

from common.dates import business_today
from farms.models import HarvestLot
from marketplace.choices import OrderStatus
from marketplace.models import Listing, ListingPhoto, OrderEvent
from tests.e2e.conftest import fits_the_screen
from tests.farms.factories import HarvestLotFactory
from tests.marketplace.factories import ListingFactory, fund_wallet
from tests.marketplace.order_factories import order_in

pytestmark = pytest.mark.django_db(transaction=True)

SENT = "Everything kept on the phone is sent."


@pytest.fixture
def her_lot(farm, catalogue):
    """Yesterday's cucumbers, already recorded: the lot she puts on sale."""
    return HarvestLotFactory(
        farm=farm, product=catalogue["VEG-CUCUMBER"], quantity_kg=Decimal("300.000")
    )


def _big_photo(tmp_path):
    """A camera-sized photo: 4000 x 3000 px (12 megapixels) of colour bands."""
    image = Image.new("RGB", (4000, 3000), (60, 140, 60))
    for band in range(0, 4000, 200):
        image.paste((band % 255, 200, 90), (band, 0, band + 100, 3000))
    path = tmp_path / "IMG_20260315_0701.png"
    image.save(path, format="PNG")
    return path


def _photo_sent(request) -> Image.Image:
    """The photo part of a multipart POST the phone sent."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.post_data_buffer)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "photo":
            return Image.open(io.BytesIO(part.get_payload(decode=True)))
    raise AssertionError("no photo in the post")


def _ready_offline(page, base, lot):
    """Open her pages once with a connection: the service worker keeps them."""
    page.goto(f"{base}/lots/new/")
    page.wait_for_selector("[data-outbox][data-worker=ready]", state="attached")
    page.goto(f"{base}/lots/{lot.pk}/sell/")
    page.goto(f"{base}/lots/new/")


def _record_lot(page, farm, *, quantity="120", harvest_date=None):
    page.select_option("#id_product", "VEG-CUCUMBER")
    page.select_option("#id_farm", str(farm.pk))
    page.fill("#id_harvest_date", (harvest_date or business_today()).isoformat())
    page.fill("#id_quantity", quantity)
    page.click("[data-testid=lot-form] button[type=submit]")


def _sell(page, photo):
    page.fill("#id_price", "4.80")
    page.fill("#id_quantity", "40")
    page.fill("#id_minimum_order", "2")
    if photo:
        page.set_input_files("#id_photo", photo)
    page.click("[data-testid=listing-form] button[type=submit]")


def _new_lots():
    return HarvestLot.objects.exclude(idempotency_key="")


def test_offline_lot_and_listing_wait_on_the_phone_and_arrive_once(
    asgi_server, asgi_phone_as, member, farm, her_lot, wait_until, tmp_path, output_dir
):
    base = asgi_server
    page = asgi_phone_as(member)
    _ready_offline(page, base, her_lot)
    photos_sent = []
    page.on(
        "request",
        lambda request: (
            photos_sent.append(_photo_sent(request))
            if request.method == "POST" and request.url.endswith("/sell/")
            else None
        ),
    )

    page.context.set_offline(True)
    _record_lot(page, farm)
    page.wait_for_selector("text=1 waiting to send")
    assert page.get_by_test_id("offline").is_visible()
    page.goto(f"{base}/lots/{her_lot.pk}/sell/")  # from the service worker's copy
    _sell(page, _big_photo(tmp_path))
    page.wait_for_selector("text=2 waiting to send")
    page.screenshot(path=output_dir / "1-two-waiting.png", full_page=True)
    assert fits_the_screen(page)
    assert _new_lots().count() == 0
    assert Listing.objects.count() == 0

    page.context.set_offline(False)
    # Waiting on the page, not in Python: the fixture's routing answers requests only while
    # the test talks to the browser.
    page.wait_for_selector("[data-testid=outbox-count]", state="hidden")
    wait_until(lambda: Listing.objects.count() == 1 and _new_lots().count() == 1)
    assert page.locator("[data-testid=outbox-list] li").count() == 0
    page.screenshot(path=output_dir / "2-sent.png", full_page=True)

    lot = _new_lots().get()
    assert (lot.farm, lot.quantity_kg) == (farm, Decimal("120.000"))
    listing = Listing.objects.get()
    assert (listing.lot, listing.available_kg) == (her_lot, Decimal("40.000"))
    photo = ListingPhoto.objects.get()
    assert max(Image.open(tmp_path / "media" / photo.image.name).size) <= 1600
    assert photos_sent
    assert {sent.size for sent in photos_sent} == {(1600, 1200)}  # 4000 x 3000, scaled
    assert photos_sent[0].format == "JPEG"


def test_an_answer_lost_on_the_way_is_sent_again_and_recorded_once(
    asgi_server, asgi_phone_as, member, farm, her_lot, wait_until, tmp_path
):
    """The connection drops during the upload: the server got the post but the phone never
    got the answer. The phone sends it again with the same key: one lot, one listing."""
    base = asgi_server
    page = asgi_phone_as(member)
    _ready_offline(page, base, her_lot)
    lost = []

    def lose_the_first_answer(route):
        if route.request.method == "POST" and not lost:
            lost.append(route.fetch())  # it reached the server…
            route.abort("internetdisconnected")  # …and the answer never came back
        else:
            route.continue_()

    page.route("**/lots/new/", lose_the_first_answer)
    page.route(f"**/lots/{her_lot.pk}/sell/", lose_the_first_answer)

    _record_lot(page, farm)
    note = page.get_by_test_id("outbox-note")
    # No answer came back: kept on the phone, then sent again by itself.
    expect(note).to_have_text(SENT, timeout=15_000)
    lost.clear()
    page.goto(f"{base}/lots/{her_lot.pk}/sell/")
    _sell(page, _big_photo(tmp_path))
    expect(note).to_have_text(SENT, timeout=15_000)

    assert len(lost) == 1
    assert _new_lots().count() == 1
    assert Listing.objects.count() == 1
    assert ListingPhoto.objects.count() == 1
    assert page.get_by_test_id("outbox-count").is_hidden()


def test_a_refused_draft_comes_back_with_its_error_to_fix(
    asgi_server, asgi_phone_as, member, farm, her_lot, wait_until, output_dir
):
    base = asgi_server
    page = asgi_phone_as(member)
    _ready_offline(page, base, her_lot)

    page.context.set_offline(True)
    _record_lot(page, farm, harvest_date=business_today() + timedelta(days=1))
    page.wait_for_selector("text=1 waiting to send")
    page.context.set_offline(False)

    refused = page.locator("[data-testid=outbox-list] li[data-draft=refused]")
    refused.wait_for()
    assert "not accepted: fix it" in refused.inner_text()
    refused.get_by_role("link", name="Fix").click()
    error = page.locator("[data-testid=lot-form] .field:has(#id_harvest_date) .errorlist")
    error.wait_for()
    assert error.inner_text() == "The harvest date cannot be in the future."
    assert page.input_value("#id_quantity") == "120"
    page.screenshot(path=output_dir / "refused-draft.png", full_page=True)
    assert _new_lots().count() == 0

    page.fill("#id_harvest_date", business_today().isoformat())
    page.click("[data-testid=lot-form] button[type=submit]")
    page.wait_for_url(f"{base}/lots/")

    assert _new_lots().get().harvest_date == business_today()
    assert page.locator("[data-testid=outbox-list] li").count() == 0


def test_an_order_accepted_offline_is_accepted_once_when_back(
    asgi_server, asgi_phone_as, member, her_lot, buyer, wait_until
):
    fund_wallet(buyer)
    listing = ListingFactory(lot=her_lot, available_kg=Decimal("60.000"))
    order = order_in(OrderStatus.PLACED, buyer=buyer, listing=listing)
    page = asgi_phone_as(member)
    page.goto(f"{asgi_server}/orders/{order.pk}/")
    page.wait_for_selector("[data-outbox][data-worker=ready]", state="attached")

    page.context.set_offline(True)
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_test_id("outbox-count")).to_have_text("1 waiting to send")
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED

    page.context.set_offline(False)
    expect(page.get_by_test_id("outbox-note")).to_have_text(SENT, timeout=15_000)
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    assert OrderEvent.objects.filter(order=order, status=OrderStatus.ACCEPTED).count() == 1
