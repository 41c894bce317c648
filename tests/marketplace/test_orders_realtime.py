"""The seller sees a new order arrive live; the buyer sees its status change live."""

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import translation

from accounts.models import Notification
from config.asgi import application
from marketplace.services.orders import accept_order, place_order
from tests.marketplace.factories import ListingFactory

SAME_SITE = (b"origin", b"http://localhost")


def session_cookie_for(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())


def accept_in_english(**kwargs):
    """The status label is in the language of whoever changed the order: the seller reads
    English here."""
    with translation.override("en"):
        accept_order(**kwargs)


@pytest.fixture
def listing(transactional_db):
    return ListingFactory()


async def connected_socket(user) -> WebsocketCommunicator:
    cookie = await sync_to_async(session_cookie_for)(user)
    socket = WebsocketCommunicator(application, "/ws/me/", headers=[SAME_SITE, cookie])
    connected, _ = await socket.connect()
    assert connected
    return socket


@pytest.mark.django_db(transaction=True)
async def test_seller_receives_the_new_order_live(listing, buyer):
    seller = await sync_to_async(lambda: listing.seller)()
    seller_socket = await connected_socket(seller)
    buyer_socket = await connected_socket(buyer)

    order = await sync_to_async(place_order)(buyer=buyer, lines=[(listing.pk, Decimal("3"))])

    event = await seller_socket.receive_json_from(timeout=5)
    assert event["type"] == "order.placed"
    assert event["payload"]["payload"]["order_id"] == order.pk
    assert event["payload"]["payload"]["total"] == "14.40"
    assert (
        event["payload"]["id"]
        == await sync_to_async(lambda: Notification.objects.get(user=seller).pk)()
    )
    assert await buyer_socket.receive_nothing(timeout=0.3)
    await seller_socket.disconnect()
    await buyer_socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_buyer_sees_the_acceptance_live(listing, buyer):
    seller = await sync_to_async(lambda: listing.seller)()
    order = await sync_to_async(place_order)(buyer=buyer, lines=[(listing.pk, Decimal("3"))])
    buyer_socket = await connected_socket(buyer)

    await sync_to_async(accept_in_english)(by=seller, order_id=order.pk)

    event = await buyer_socket.receive_json_from(timeout=5)
    assert event["type"] == "order.status_changed"
    assert event["payload"]["payload"] == {
        "order_id": order.pk,
        "status": "accepted",
        "status_label": "Accepted",
        "total": "14.40",
        "currency": "CNY",
    }
    await buyer_socket.disconnect()
