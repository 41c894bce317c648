"""The per-user live channel, through the real ASGI stack and the Redis channel layer."""

import logging

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.choices import Role
from accounts.consumers import UserEventsConsumer
from accounts.realtime import close_user_sockets, push_to_user
from accounts.services import set_password_for
from config.asgi import application
from tests.accounts.factories import SAME_SITE, UserFactory, session_cookie_for


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
        # A refused socket's consumer also waits for the disconnect a server always sends.
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


# --- Sign-out and deactivation close the user's sockets -------------------------------------


def signed_in_browser(user) -> tuple[Client, tuple[bytes, bytes]]:
    """A browser signed in as `user`, and the cookie header its sockets send."""
    client = Client()
    client.force_login(user)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return client, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())


async def socket_of(cookie, path: str = "/ws/me/") -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, path, headers=[SAME_SITE, cookie])
    connected, _ = await socket.connect()
    assert connected
    return socket


async def closed_with(socket) -> int:
    message = await socket.receive_output(timeout=3)
    assert message["type"] == "websocket.close", message
    return message["code"]


@pytest.mark.django_db(transaction=True)
async def test_signing_out_closes_that_browsers_socket_only(farmer):
    browser, cookie = await sync_to_async(signed_in_browser)(farmer)
    _, phone_cookie = await sync_to_async(signed_in_browser)(farmer)
    socket = await socket_of(cookie)
    phone_socket = await socket_of(phone_cookie)

    response = await sync_to_async(browser.post)("/sign-out/")

    assert response.status_code == 302
    assert await closed_with(socket) == 4401
    await socket.disconnect()
    # The phone's session still holds: its socket stays open and still hears her news.
    await sync_to_async(push_to_user)(farmer.pk, "lot.updated", {"lot_id": 7})
    assert (await phone_socket.receive_json_from(timeout=3))["payload"] == {"lot_id": 7}
    await phone_socket.disconnect()
    # The signed-out browser cannot reconnect.
    again = WebsocketCommunicator(application, "/ws/me/", headers=[SAME_SITE, cookie])
    assert await again.connect() == (False, 4401)
    await again.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_deactivated_user_s_sockets_close_and_cannot_reconnect(farmer, buyer):
    _, cookie = await sync_to_async(signed_in_browser)(farmer)
    _, buyer_cookie = await sync_to_async(signed_in_browser)(buyer)
    socket = await socket_of(cookie)
    buyer_socket = await socket_of(buyer_cookie)
    superuser = await sync_to_async(UserFactory)(role=Role.ADMIN, is_staff=True, is_superuser=True)

    response = await sync_to_async(deactivate_in_admin)(superuser, farmer)

    assert response.status_code == 302, response.content
    assert await closed_with(socket) == 4401
    await socket.disconnect()
    assert await buyer_socket.receive_nothing(timeout=0.5)  # others are not affected
    await buyer_socket.disconnect()
    again = WebsocketCommunicator(application, "/ws/me/", headers=[SAME_SITE, cookie])
    assert await again.connect() == (False, 4401)
    await again.disconnect()


def deactivate_in_admin(admin, user):
    """What the platform admin does on the user's page in Django's admin: untick "active"."""
    client = Client()
    client.force_login(admin)
    joined = timezone.localtime(user.date_joined)
    return client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": user.username,
            "first_name": "",
            "last_name": "",
            "email": "",
            # is_active left out: the unticked box
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            "last_login_0": "",
            "last_login_1": "",
            "phone": user.phone,
            "role": user.role,
            "display_name": user.display_name,
            "weight_unit": user.weight_unit,
        },
    )


@pytest.mark.django_db(transaction=True)
async def test_an_api_sign_out_closes_no_socket_whose_sign_in_still_holds(farmer):
    # A token sign-out names no session: each socket checks its own sign-in, which holds.
    _, cookie = await sync_to_async(signed_in_browser)(farmer)
    socket = await socket_of(cookie)

    await sync_to_async(close_user_sockets)(farmer.pk)

    assert await socket.receive_nothing(timeout=0.5)
    await sync_to_async(push_to_user)(farmer.pk, "lot.updated", {"lot_id": 7})
    assert (await socket.receive_json_from(timeout=3))["payload"] == {"lot_id": 7}
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_password_set_by_the_manager_closes_the_sockets_it_signed_out(farmer):
    _, cookie = await sync_to_async(signed_in_browser)(farmer)
    socket = await socket_of(cookie)

    await sync_to_async(set_password_for)(user=farmer, password="new-pass-2026!", set_by=None)

    assert await closed_with(socket) == 4401
    await socket.disconnect()


# --- A channel layer that is down ----------------------------------------------------------


async def test_closing_a_socket_while_redis_is_down_logs_one_line_and_no_traceback(
    channel_layer_down, caplog
):
    consumer = UserEventsConsumer()
    consumer.channel_layer = get_channel_layer()  # on the closed port
    consumer.channel_name = await consumer.channel_layer.new_channel()
    consumer.joined_groups = ["user.1.sockets", "user.1"]

    with caplog.at_level(logging.WARNING):
        await consumer.disconnect(1000)  # raises nothing

    [warning] = caplog.records
    assert warning.levelno == logging.WARNING
    assert "leaving user.1.sockets on disconnect failed: ConnectionError" in warning.getMessage()
    assert warning.exc_info is None


@pytest.mark.django_db(transaction=True)
async def test_an_idle_socket_outlives_the_layers_blocking_receive(open_socket, farmer):
    # The layer waits for messages in 5-second blocking reads; with a read timeout of the same
    # length, an idle socket's consumer died of a TimeoutError after about 5 seconds.
    assert settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["socket_timeout"] > (
        RedisChannelLayer.brpop_timeout
    )
    socket, connected, _ = await open_socket(farmer)
    assert connected

    assert await socket.receive_nothing(timeout=RedisChannelLayer.brpop_timeout * 2 + 1)
    await sync_to_async(push_to_user)(farmer.pk, "lot.updated", {"lot_id": 7})

    assert (await socket.receive_json_from(timeout=3))["payload"] == {"lot_id": 7}


@pytest.mark.django_db(transaction=True)
async def test_a_role_change_closes_her_sockets_for_a_reconnect_as_the_new_role(farmer, buyer):
    from accounts.consumers import ROLE_CHANGED
    from accounts.services.roles import change_role

    _, cookie = await sync_to_async(signed_in_browser)(farmer)
    _, buyer_cookie = await sync_to_async(signed_in_browser)(buyer)
    socket = await socket_of(cookie)
    buyer_socket = await socket_of(buyer_cookie)

    await sync_to_async(change_role)(
        user=farmer, role=Role.COOPERATIVE_MANAGER, changed_by=None, address=None
    )

    # Not "signed out" (4401): live.js reconnects, and the new role is authorised afresh.
    assert await closed_with(socket) == ROLE_CHANGED
    await socket.disconnect()
    assert await buyer_socket.receive_nothing(timeout=0.5)
    await buyer_socket.disconnect()
    again = await socket_of(cookie)
    await again.disconnect()
