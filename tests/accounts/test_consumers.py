"""The per-user live channel, through the real ASGI stack and the Redis channel layer."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.test import Client

from accounts.realtime import push_to_user
from config.asgi import application

SAME_SITE = (b"origin", b"http://localhost")


def session_cookie_for(user) -> tuple[bytes, bytes]:
    """The cookie header a browser signed in as `user` sends."""
    client = Client()
    client.force_login(user)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())


@pytest.fixture
async def open_socket():
    """open_socket(user or None) → (communicator, connected, close code) on ws/me/."""
    opened = []

    async def connect(user, *, origin=SAME_SITE):
        headers = [origin]
        if user is not None:
            headers.append(await sync_to_async(session_cookie_for)(user))
        communicator = WebsocketCommunicator(application, "/ws/me/", headers=headers)
        connected, close_code = await communicator.connect()
        if connected:
            opened.append(communicator)
        return communicator, connected, close_code

    yield connect
    for communicator in opened:
        await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_signed_in_user_receives_event_pushed_from_sync_code(open_socket, farmer):
    assert isinstance(get_channel_layer(), RedisChannelLayer)
    socket, connected, _ = await open_socket(farmer)
    assert connected

    # push_to_user is what services call from on_commit, i.e. from plain sync code.
    await sync_to_async(push_to_user)(farmer.pk, "lot.updated", {"lot_id": 7})

    assert await socket.receive_json_from(timeout=3) == {
        "type": "lot.updated",
        "payload": {"lot_id": 7},
    }


@pytest.mark.django_db(transaction=True)
async def test_user_does_not_receive_another_users_events(open_socket, farmer, buyer):
    farmer_socket, farmer_connected, _ = await open_socket(farmer)
    buyer_socket, buyer_connected, _ = await open_socket(buyer)
    assert farmer_connected
    assert buyer_connected

    await sync_to_async(push_to_user)(farmer.pk, "lot.updated", {"lot_id": 7})

    assert (await farmer_socket.receive_json_from(timeout=3))["payload"] == {"lot_id": 7}
    assert await buyer_socket.receive_nothing(timeout=0.5)


@pytest.mark.django_db(transaction=True)
async def test_anonymous_socket_is_refused(open_socket):
    _, connected, close_code = await open_socket(None)

    assert not connected
    assert close_code == 4401


@pytest.mark.django_db(transaction=True)
async def test_socket_from_another_site_is_refused(open_socket, farmer):
    _, connected, _ = await open_socket(farmer, origin=(b"origin", b"https://evil.example"))

    assert not connected


@pytest.mark.django_db(transaction=True)
async def test_socket_answers_ping_to_keep_idle_connections_open(open_socket, courier):
    socket, _, _ = await open_socket(courier)

    await socket.send_json_to({"type": "ping"})

    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}
