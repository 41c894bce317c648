"""A compressor fails on the road: a logger posts its readings over HTTP to the running ASGI
server, the excursion opens, and the controller's screen socket receives the alert at once.

Everything is real: uvicorn serving config.asgi, the ingest API with device authentication,
the excursion engine, PostgreSQL, the Redis channel layer, and a WebSocket client.
"""

import asyncio
import json
import urllib.request
from datetime import timedelta

import pytest
import websockets
from django.conf import settings
from django.test import Client
from django.utils import timezone

from coldchain.choices import AlertKind, ExcursionKind
from coldchain.models import Alert, Excursion, Reading
from tests.coldchain.fixtures import LOGGER_SECRET

pytestmark = pytest.mark.django_db(transaction=True)


def _post_readings(base: str, device_id: str, readings: list[dict]) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}/api/coldchain/readings/",
        data=json.dumps({"readings": readings}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Device {device_id}:{LOGGER_SECRET}",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def _minutes_ago(minutes: int) -> str:
    return (timezone.now() - timedelta(minutes=minutes)).isoformat()


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def _alerts_while_posting(base: str, cookie: str, post) -> list[dict]:
    """Connect as the controller's screen, run `post` (blocking, in a thread), and collect the
    `alert` events that arrive within five seconds."""
    socket_url = base.replace("http://", "ws://") + "/ws/coldchain/"
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}", "Origin": base}
    alerts = []
    async with websockets.connect(socket_url, additional_headers=headers) as screen:
        await asyncio.to_thread(post)
        deadline = asyncio.get_running_loop().time() + 5
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                message = json.loads(await asyncio.wait_for(screen.recv(), timeout=left))
            except TimeoutError:
                break
            if message["type"] == "alert":
                alerts.append(message["payload"])
    return alerts


def test_readings_posted_over_http_open_an_excursion_and_the_screen_gets_the_alert(
    asgi_server,
    shipment,
    shipment_logger,
    coldchain_controller,
):
    # The range is 0–4 °C and an excursion needs 15 minutes outside it. A door opened for
    # three minutes first (no excursion), then the compressor failed 20 minutes ago.
    door = [
        {"recorded_at": _minutes_ago(minute), "temperature_c": temperature}
        for minute, temperature in ((40, 2.5), (39, 6.0), (38, 6.5), (37, 2.8), (36, 2.6))
    ]
    failure = [
        {"recorded_at": _minutes_ago(minute), "temperature_c": 6.0 + (20 - minute) * 0.2}
        for minute in range(20, -1, -1)
    ]
    status, answer = _post_readings(asgi_server, shipment_logger.device_id, door)
    assert (status, answer["stored"]) == (201, 5)

    def post_the_failure():
        _post_readings(asgi_server, shipment_logger.device_id, failure)

    cookie = _session_cookie(coldchain_controller)
    alerts = asyncio.run(_alerts_while_posting(asgi_server, cookie, post_the_failure))

    assert len(alerts) == 1
    assert alerts[0]["subject_code"] == shipment.code
    assert alerts[0]["kind"] == AlertKind.EXCURSION
    assert alerts[0]["excursion"]["kind"] == ExcursionKind.TOO_WARM
    excursion = Excursion.objects.get()
    assert excursion.shipment == shipment
    assert excursion.ended_at is None
    assert alerts[0]["id"] == Alert.objects.get(excursion=excursion).pk
    assert Reading.objects.filter(logger=shipment_logger).count() == 5 + 21

    # The same batch again (a gateway retrying) stores nothing and alerts nobody twice.
    status, answer = _post_readings(asgi_server, shipment_logger.device_id, failure)
    assert (status, answer["stored"], answer["duplicates"]) == (200, 0, 21)
    assert Alert.objects.count() == 1
