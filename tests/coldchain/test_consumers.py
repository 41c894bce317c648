"""The tracking screens' socket, ws/coldchain/, through the real ASGI stack and the Redis
channel layer: who may open it, and which events each screen receives."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.test import Client

from accounts.choices import Role
from coldchain import realtime
from coldchain.choices import AlertKind, SiteKind
from coldchain.models import Alert
from coldchain.services.alerts import acknowledge_alert
from coldchain.services.registry import assign_logger
from config.asgi import application
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ShipmentFactory, SiteFactory

SAME_SITE = (b"origin", b"http://localhost")

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie_for(user) -> tuple[bytes, bytes]:
    """The cookie header a browser signed in as `user` sends."""
    client = Client()
    client.force_login(user)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())


@pytest.fixture
async def open_screen():
    """open_screen(user or None) → (communicator, connected, close code) on ws/coldchain/."""
    opened = []

    async def connect(user):
        headers = [SAME_SITE]
        if user is not None:
            headers.append(await sync_to_async(session_cookie_for)(user))
        communicator = WebsocketCommunicator(application, "/ws/coldchain/", headers=headers)
        connected, close_code = await communicator.connect()
        # A refused socket's consumer also waits for the disconnect a server always sends.
        opened.append(communicator)
        return communicator, connected, close_code

    yield connect
    for communicator in opened:
        await communicator.disconnect()


@pytest.fixture
def other_cooperative_shipment(other_cooperative):
    site = SiteFactory(kind=SiteKind.COOPERATIVE, cooperative=other_cooperative)
    return ShipmentFactory(origin=site)


def push_about(shipment, event: str, payload: dict) -> None:
    """What monitoring and the services send after commit: one event to the leg's groups."""
    realtime.send_now(realtime.groups_for_shipment(shipment), event, payload)


def readings_of(shipment) -> dict:
    return {
        "subject": "shipment",
        "subject_id": shipment.pk,
        "points": [[1764302400, 3.2]],
        "position": [116.41, 39.91],
        "vehicle_id": shipment.vehicle_id,
    }


async def test_controller_receives_an_event_about_any_shipment(
    open_screen, coldchain_controller, shipment
):
    assert isinstance(get_channel_layer(), RedisChannelLayer)
    screen, connected, _ = await open_screen(coldchain_controller)
    assert connected

    await sync_to_async(push_about)(shipment, "readings", readings_of(shipment))

    # Sent to three groups (all, the co-operative's, the market's); a controller is in one.
    assert await screen.receive_json_from(timeout=3) == {
        "type": "readings",
        "payload": readings_of(shipment),
    }
    assert await screen.receive_nothing(timeout=0.3)


async def test_cooperative_manager_receives_her_cooperatives_shipments_only(
    open_screen, manager, shipment, other_cooperative_shipment
):
    screen, connected, _ = await open_screen(manager)
    assert connected

    await sync_to_async(push_about)(other_cooperative_shipment, "shipment", {"id": 1})
    await sync_to_async(push_about)(shipment, "shipment", {"id": shipment.pk})

    assert await screen.receive_json_from(timeout=3) == {
        "type": "shipment",
        "payload": {"id": shipment.pk},
    }
    assert await screen.receive_nothing(timeout=0.5)


async def test_market_operator_receives_the_shipments_to_her_market(
    open_screen, market_staff, shipment, other_shipment
):
    screen, connected, _ = await open_screen(market_staff)
    assert connected

    await sync_to_async(push_about)(other_shipment, "shipment", {"id": other_shipment.pk})
    await sync_to_async(push_about)(shipment, "shipment", {"id": shipment.pk})

    assert (await screen.receive_json_from(timeout=3))["payload"] == {"id": shipment.pk}
    assert await screen.receive_nothing(timeout=0.5)


async def test_admin_has_the_controllers_screen(open_screen, admin_user, other_shipment):
    screen, connected, _ = await open_screen(admin_user)
    assert connected

    await sync_to_async(push_about)(other_shipment, "shipment", {"id": other_shipment.pk})

    assert (await screen.receive_json_from(timeout=3))["type"] == "shipment"


def _acknowledge(shipment, logger, controller) -> Alert:
    assignment = assign_logger(logger=logger, subject=shipment, starts_at=shipment.departed_at)
    alert = Alert.objects.create(
        kind=AlertKind.SIGNAL_LOST, assignment=assignment, shipment=shipment
    )
    return acknowledge_alert(alert=alert, by=controller, note="Calling the driver.")


async def test_an_acknowledgement_reaches_the_controllers_and_the_cooperatives_screens(
    open_screen, coldchain_controller, manager, shipment, data_logger
):
    control, _, _ = await open_screen(coldchain_controller)
    cooperative, _, _ = await open_screen(manager)

    alert = await sync_to_async(_acknowledge)(shipment, data_logger, coldchain_controller)

    for screen in (control, cooperative):
        event = await screen.receive_json_from(timeout=3)
        assert event["type"] == "alert.updated"
        assert event["payload"]["id"] == alert.pk
        assert event["payload"]["acknowledgement_note"] == "Calling the driver."


@pytest.mark.parametrize("role", [Role.FARMER, Role.BUYER, Role.CONSUMER, Role.COURIER])
async def test_roles_without_a_screen_are_refused(open_screen, role):
    user = await sync_to_async(UserFactory)(role=role)

    _, connected, close_code = await open_screen(user)

    assert not connected
    assert close_code == 4403


async def test_anonymous_socket_is_refused(open_screen):
    _, connected, close_code = await open_screen(None)

    assert not connected
    assert close_code == 4401


async def test_screen_answers_ping_and_ignores_anything_else(open_screen, market_staff):
    screen, _, _ = await open_screen(market_staff)

    await screen.send_to(text_data="not json")
    await screen.send_json_to({"type": "join", "group": realtime.ALL_GROUP})
    await screen.send_json_to({"type": "ping"})

    assert await screen.receive_json_from(timeout=3) == {"type": "pong"}
    assert await screen.receive_nothing(timeout=0.3)


async def test_signing_out_closes_the_screen(coldchain_controller):
    def signed_in_browser():
        client = Client()
        client.force_login(coldchain_controller)
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        return client, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())

    browser, cookie = await sync_to_async(signed_in_browser)()
    screen = WebsocketCommunicator(application, "/ws/coldchain/", headers=[SAME_SITE, cookie])
    assert (await screen.connect())[0]

    await sync_to_async(browser.post)("/sign-out/")

    assert await screen.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
    await screen.disconnect()
