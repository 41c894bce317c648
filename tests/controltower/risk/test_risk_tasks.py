"""Beat's evaluation of the risk rules: scheduled every minute, and harmless run twice."""

from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from coldchain.services.registry import assign_logger, register_logger
from config.celery import app
from controltower.models import RiskWarning
from controltower.risk import receivers
from controltower.risk.kinds import RiskKind
from controltower.risk.tasks import evaluate_risk_rules
from tests.coldchain.factories import ColdStoreFactory

pytestmark = pytest.mark.django_db


def test_beat_runs_the_rules_every_minute():
    entry = app.conf.beat_schedule["controltower-risk-rules"]

    assert entry["task"] == "controltower.evaluate_risk_rules"
    assert entry["task"] in app.tasks


def test_running_the_beat_task_twice_raises_nothing_new(rule_of):
    rule_of(RiskKind.LOGGER_SILENT, max_silence_minutes=30)
    rule_of(RiskKind.EXCURSION_OPEN)
    logger, _secret = register_logger(device_id="LOG-BEAT-1")
    assign_logger(
        logger=logger, subject=ColdStoreFactory(), starts_at=timezone.now() - timedelta(hours=1)
    )

    first = evaluate_risk_rules.apply().get()
    second = evaluate_risk_rules.apply().get()

    warning = RiskWarning.objects.get()
    assert first == {"raised": [warning.pk], "resolved": []}
    assert second == {"raised": [], "resolved": []}


def test_a_counter_trade_queues_the_price_rules_of_its_market_and_product(
    settle, market, cabbage, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        receivers.tasks.evaluate_prices_after_trade, "delay", partial(_remember, queued)
    )

    with django_capture_on_commit_callbacks(execute=True):
        settle("t1")

    assert queued == [(market.pk, cabbage.pk)]


def _remember(queued, *arguments):
    queued.append(arguments)
