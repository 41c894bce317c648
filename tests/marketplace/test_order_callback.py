"""A seller sees her order's buyer's number masked (138****0001), on the page and in the API,
and reaches the buyer with a call-back request: the buyer is notified with the seller's
number, once per order in 10 minutes; nobody else may ask."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import CallbackRequest, Notification
from marketplace.choices import OrderStatus
from tests.marketplace.factories import BuyerFactory, ListingFactory, fund_wallet
from tests.marketplace.order_factories import client_for, order_in

pytestmark = pytest.mark.django_db

BUYER_PHONE = "+8613812340001"


@pytest.fixture
def order():
    buyer = BuyerFactory(phone=BUYER_PHONE)
    fund_wallet(buyer)
    return order_in(OrderStatus.ACCEPTED, buyer=buyer, listing=ListingFactory())


def _page(user, order) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client.get(f"/orders/{order.pk}/").content.decode()


def test_seller_sees_the_buyers_number_masked_on_the_page_and_in_the_api(order):
    page = _page(order.seller, order)
    answer = client_for(order.seller).get(f"/api/orders/{order.pk}/").json()

    assert "138****0001" in page
    assert "13812340001" not in page
    assert answer["buyer"]["phone"] == "138****0001"
    assert "13812340001" not in str(answer)
    assert "Ask her to call me back" in page


def test_seller_asks_the_buyer_to_call_back_and_the_buyer_gets_the_sellers_number(order):
    response = client_for(order.seller).post(
        f"/api/orders/{order.pk}/callback/", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 201
    note = Notification.objects.get(user=order.buyer, kind="callback.requested")
    seller_digits = order.seller.phone.removeprefix("+86")
    assert f"#{order.pk}" in note.title
    assert "seller" in note.body
    assert seller_digits in note.body
    assert note.url == f"tel:{order.seller.phone}"
    # The seller is told nothing of the buyer's number.
    assert "13812340001" not in response.content.decode()


def test_a_second_request_within_ten_minutes_is_refused_with_the_wait(order):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert (
            client_for(order.seller)
            .post(f"/api/orders/{order.pk}/callback/", HTTP_ACCEPT_LANGUAGE="en")
            .status_code
            == 201
        )
        clock.shift(timedelta(minutes=4))
        again = client_for(order.seller).post(
            f"/api/orders/{order.pk}/callback/", HTTP_ACCEPT_LANGUAGE="en"
        )
        clock.shift(timedelta(minutes=7))
        later = client_for(order.seller).post(
            f"/api/orders/{order.pk}/callback/", HTTP_ACCEPT_LANGUAGE="en"
        )

    assert again.status_code == 409
    assert "6 min" in again.json()["callback"][0]
    assert later.status_code == 201
    assert CallbackRequest.objects.filter(person=order.buyer).count() == 2


def test_the_buyer_and_strangers_may_not_ask(order):
    stranger = BuyerFactory()

    assert (
        client_for(order.buyer)
        .post(f"/api/orders/{order.pk}/callback/", HTTP_ACCEPT_LANGUAGE="en")
        .status_code
        == 403
    )
    assert (
        client_for(stranger)
        .post(f"/api/orders/{order.pk}/callback/", HTTP_ACCEPT_LANGUAGE="en")
        .status_code
        == 404
    )
    assert not CallbackRequest.objects.exists()
    assert "Ask her to call me back" not in _page(order.buyer, order)


def test_the_page_button_asks_and_says_so(order):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(order.seller)

    response = client.post(f"/orders/{order.pk}/callback/", follow=True)

    assert "The buyer is asked to call you back." in response.content.decode()
    assert Notification.objects.filter(user=order.buyer, kind="callback.requested").exists()
