"""The risk warnings' socket, ws/tower/warnings/, through the real ASGI stack, the Redis
channel layer and a real Celery worker: who may open it, and a price spike recorded at the
counter arriving live."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.choices import Role
from coldchain.services.registry import assign_logger, register_logger
from common.dates import BUSINESS_TIME_ZONE, business_today
from config.asgi import application
from controltower.models import RiskWarning
from controltower.risk.kinds import RiskKind
from controltower.services.risk import acknowledge_warning, evaluate_all_rules
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ColdStoreFactory

SAME_SITE = (b"origin", b"http://localhost")
PATH = "/ws/tower/warnings/"

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie_for(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())


@pytest.fixture
async def open_panel():
    """open_panel(user or None) → (communicator, connected, close code) on ws/tower/warnings/."""
    opened = []

    async def connect(user):
        headers = [SAME_SITE]
        if user is not None:
            headers.append(await sync_to_async(session_cookie_for)(user))
        communicator = WebsocketCommunicator(application, PATH, headers=headers)
        connected, close_code = await communicator.connect()
        opened.append(communicator)
        return communicator, connected, close_code

    yield connect
    for communicator in opened:
        await communicator.disconnect()


def make_user(role):
    return UserFactory(role=role)


@pytest.mark.parametrize("role", [Role.FARMER, Role.CONSUMER, Role.COLDCHAIN_CONTROLLER])
async def test_other_roles_are_refused_the_socket(open_panel, role):
    user = await sync_to_async(make_user)(role)

    _panel, connected, close_code = await open_panel(user)

    assert not connected
    assert close_code == 4403


async def test_signed_out_visitor_is_refused_the_socket(open_panel):
    _panel, connected, close_code = await open_panel(None)

    assert not connected
    assert close_code == 4401


def silent_store_rule_and_logger():
    from controltower.models import RiskRule
    from controltower.risk.kinds import default_thresholds

    RiskRule.objects.create(
        kind=RiskKind.LOGGER_SILENT, thresholds=default_thresholds(RiskKind.LOGGER_SILENT)
    )
    logger, _secret = register_logger(device_id="LOG-LIVE-1")
    return assign_logger(
        logger=logger, subject=ColdStoreFactory(), starts_at=timezone.now() - timedelta(hours=3)
    )


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.ADMIN])
async def test_panel_receives_a_warning_raised_then_acknowledged_then_resolved(open_panel, role):
    user = await sync_to_async(make_user)(role)
    assignment = await sync_to_async(silent_store_rule_and_logger)()
    panel, connected, _ = await open_panel(user)
    assert connected

    await sync_to_async(evaluate_all_rules)()
    raised = await panel.receive_json_from(timeout=5)
    warning = await RiskWarning.objects.aget()
    await sync_to_async(acknowledge_warning)(warning_id=warning.pk, by=user)
    updated = await panel.receive_json_from(timeout=5)
    await sync_to_async(
        lambda: (
            type(assignment.logger)
            .objects.filter(pk=assignment.logger_id)
            .update(last_reading_at=timezone.now())
        )
    )()
    await sync_to_async(evaluate_all_rules)()
    resolved = await panel.receive_json_from(timeout=5)

    assert raised["type"] == "warning"
    assert raised["payload"]["id"] == warning.pk
    assert raised["payload"]["kind"] == "logger_silent"
    assert updated["type"] == "warning.updated"
    assert updated["payload"]["acknowledged_at"] is not None
    assert resolved["type"] == "warning.resolved"
    assert resolved["payload"]["is_open"] is False


async def test_second_evaluation_pushes_nothing(open_panel, admin_user):
    await sync_to_async(silent_store_rule_and_logger)()
    panel, _connected, _ = await open_panel(admin_user)
    await sync_to_async(evaluate_all_rules)()
    await panel.receive_json_from(timeout=5)

    await sync_to_async(evaluate_all_rules)()

    assert await panel.receive_nothing(timeout=0.5)


# --- A price spike at the counter, through the worker ----------------------------------------


@pytest.fixture
def price_history(settle, regulator):
    """A price rule, and cabbage at ¥1.20/kg on each of the five days before today."""
    from controltower.models import RiskRule
    from controltower.risk.kinds import default_thresholds

    RiskRule.objects.create(
        kind=RiskKind.PRICE_BAND, thresholds=default_thresholds(RiskKind.PRICE_BAND)
    )
    today = business_today()
    for days_ago in range(1, 6):
        moment = datetime.combine(today - timedelta(days=days_ago), time(10), BUSINESS_TIME_ZONE)
        with time_machine.travel(moment, tick=False):
            settle(f"h{days_ago}", unit_price="1.20")


async def test_price_spike_recorded_at_the_counter_arrives_live(
    celery_worker_live, open_panel, price_history, settle, regulator, market, cabbage
):
    panel, connected, _ = await open_panel(regulator)
    assert connected

    await sync_to_async(settle)("spike", unit_price="2.40")
    event = await panel.receive_json_from(timeout=20)

    assert event["type"] == "warning"
    assert event["payload"]["kind"] == "price_band"
    assert event["payload"]["subject_type"] == "marketplace.market"
    assert event["payload"]["subject_id"] == market.pk
    assert event["payload"]["figures"]["direction"] == "spike"
    assert event["payload"]["figures"]["price"] == "2.40"
    assert event["payload"]["figures"]["product_id"] == cabbage.pk
    warning = await RiskWarning.objects.aget()
    assert warning.pk == event["payload"]["id"]
