"""The courier rides through a tunnel: the page says it is offline, keeps his positions with
the time each was taken, and sends them in order when the connection returns; the server
keeps the latest."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.choices import Role
from delivery.models import Courier
from tests.accounts.factories import UserFactory
from tests.delivery.courier_factories import WAREHOUSE_AT, offset
from tests.delivery.factories import courier_at

pytestmark = pytest.mark.django_db(transaction=True)


def test_positions_kept_in_a_tunnel_are_sent_in_order(asgi_server, asgi_phone_as, output_dir):
    user = UserFactory(role=Role.COURIER)
    row = courier_at(*WAREHOUSE_AT, user=user)
    now = timezone.now()
    Courier.objects.filter(pk=row.pk).update(
        shift_started_at=now - timedelta(hours=1), position_at=now - timedelta(minutes=5)
    )
    entrance = offset(WAREHOUSE_AT, east_m=50)
    page = asgi_phone_as(
        user,
        geolocation={"longitude": entrance[0], "latitude": entrance[1]},
        permissions=["geolocation"],
    )
    page.clock.install()  # the page's clock, moved on below instead of waiting
    posted = []  # every position the phone posts, tries that fail offline included

    def note_position(route):
        posted.append(route.request.post_data_json)
        route.continue_()

    page.context.route("**/api/delivery/courier/positions/", note_position)
    courier_page = page.locator("[data-courier-page]")
    page.goto(f"{asgi_server}/courier/")
    expect(page.locator("[data-geo-status]")).to_have_text("Position shared.")

    page.context.set_offline(True)
    tunnel = [offset(WAREHOUSE_AT, east_m=50 + 100 * step) for step in (1, 2, 3)]
    for count, (longitude, latitude) in enumerate(tunnel, start=1):
        page.clock.fast_forward(11_000)
        page.context.set_geolocation({"longitude": longitude, "latitude": latitude})
        expect(courier_page).to_have_attribute("data-positions-kept", str(count))
    expect(page.locator("[data-geo-status]")).to_contain_text("3 positions kept on the phone")
    expect(page.get_by_test_id("offline")).to_be_visible()
    page.screenshot(path=output_dir / "in-the-tunnel.png", full_page=True)
    row.refresh_from_db()
    assert row.position.x == pytest.approx(entrance[0])

    page.context.set_offline(False)
    expect(courier_page).to_have_attribute("data-positions-kept", "0")
    expect(page.get_by_test_id("offline")).to_be_hidden()

    tries = {}  # each fix once, in the order it was first posted
    for body in posted:
        tries.setdefault(body["at"], body)
    after = list(tries.values())[-3:]
    assert [(body["longitude"], body["latitude"]) for body in after] == [
        pytest.approx(point) for point in tunnel
    ]
    assert after[0]["at"] < after[1]["at"] < after[2]["at"]
    row.refresh_from_db()
    assert (row.position.x, row.position.y) == pytest.approx(tunnel[-1])
