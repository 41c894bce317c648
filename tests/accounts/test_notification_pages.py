"""The notifications page and the top bar's unread badge."""

import pytest
from django.test import Client

from accounts.models import Notification
from accounts.notifications import notify
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_badge_counts_unread_notifications(buyer):
    notify(user=buyer, kind="order.status_changed", title="Order #7: Accepted")
    notify(user=buyer, kind="order.status_changed", title="Order #7: Ready")

    page = _signed_in(buyer).get("/workspace/buyer/").content.decode()

    assert 'data-testid="unread-count">2</span>' in page
    assert "js/live.js" in page


def test_page_lists_own_notifications_with_a_link_to_the_order(buyer):
    notify(
        user=buyer,
        kind="order.status_changed",
        title="Order #7: Accepted",
        url="/orders/7/",
        payload={"order_id": 7},
    )
    notify(user=UserFactory(), kind="order.placed", title="Someone else's news")

    page = _signed_in(buyer).get("/notifications/").content.decode()

    assert "Order #7: Accepted" in page
    assert 'href="/orders/7/"' in page
    assert "Someone else" not in page


def test_mark_all_read_clears_the_badge_and_only_mine(buyer):
    notify(user=buyer, kind="order.placed", title="New order")
    other = UserFactory()
    notify(user=other, kind="order.placed", title="Other")
    client = _signed_in(buyer)

    response = client.post("/notifications/read/", follow=True)

    assert Notification.objects.get(user=buyer).read_at is not None
    assert Notification.objects.get(user=other).read_at is None
    assert 'data-testid="unread-count" hidden>0</span>' in response.content.decode()


def test_notifications_need_a_sign_in_and_marking_needs_post(buyer):
    assert Client().get("/notifications/").status_code == 302
    assert _signed_in(buyer).get("/notifications/read/").status_code == 405
