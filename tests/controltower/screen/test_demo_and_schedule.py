"""The demo regulator watches Beijing; the morning's digest is on Celery beat's schedule."""

import pytest
from celery.schedules import crontab

from accounts.choices import Role
from config.celery import app
from controltower import demo
from controltower.models import RegulatorArea
from controltower.tasks import send_daily_digests
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_gives_the_regulator_beijing_once(world):
    regulator = UserFactory(username="regulator", role=Role.REGULATOR)

    demo.seed({})
    demo.seed({"people": {"regulator": regulator}})

    area = RegulatorArea.objects.get()
    assert (area.user, area.name) == (regulator, "北京市")
    assert area.area.contains(world["market"].sites.get().location)


def test_the_digest_is_compiled_every_morning():
    entry = app.conf.beat_schedule["controltower-daily-digests"]

    assert entry["task"] == "controltower.send_daily_digests"
    assert entry["schedule"] == crontab(hour=6, minute=30)
    assert send_daily_digests.name == entry["task"]
