"""A price spike posted through the counter raises its warning live on the regulator's control
tower (1600 × 900, a wall screen), and she acknowledges it there.

Real all the way: uvicorn serving config.asgi, the counter's settle_trade, the trade receiver
queueing the price rules on a real Celery worker, the Redis channel layer, the panel's socket
and its refetch; the screenshot is saved under test-results/e2e/.
"""

from datetime import datetime, time, timedelta

import pytest
import time_machine

from accounts.choices import Role
from common.dates import BUSINESS_TIME_ZONE, business_today
from controltower.models import RiskRule, RiskWarning
from controltower.risk.kinds import RiskKind, default_thresholds
from controltower.services.risk import evaluate_all_rules
from tests.accounts.factories import UserFactory
from tests.e2e.conftest import fits_the_screen

pytestmark = pytest.mark.django_db(transaction=True)

WALL = {"width": 1600, "height": 900}


@pytest.fixture
def regulator(transactional_db):
    return UserFactory(role=Role.REGULATOR)


@pytest.fixture
def price_history(settle):
    """A price rule, and cabbage at ¥1.20/kg on each of the five days before today."""
    RiskRule.objects.create(
        kind=RiskKind.PRICE_BAND, thresholds=default_thresholds(RiskKind.PRICE_BAND)
    )
    today = business_today()
    for days_ago in range(1, 6):
        moment = datetime.combine(today - timedelta(days=days_ago), time(10), BUSINESS_TIME_ZONE)
        with time_machine.travel(moment, tick=False):
            settle(f"h{days_ago}", unit_price="1.20")


def test_price_spike_at_the_counter_appears_live_and_is_acknowledged(
    celery_worker_live,
    asgi_server,
    asgi_phone_as,
    price_history,
    settle,
    regulator,
    wait_until,
    output_dir,
):
    page = asgi_phone_as(regulator, viewport=WALL)
    page.goto(f"{asgi_server}/tower/")
    panel = page.locator("#tower-warnings #risk-warnings")
    panel.get_by_text("No open risk warnings.").wait_for()
    page.wait_for_selector("#risk-warnings[data-live=open]")

    settle("spike", unit_price="2.40")

    warning = page.locator("[data-warning-kind=price_band]")
    warning.wait_for()
    assert "Price spike: 大白菜 at 北京新发地 averages ¥2.40/kg today" in warning.inner_text()
    page.screenshot(path=output_dir / "price-spike-warning.png")

    warning.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Warning acknowledged.").wait_for()
    wait_until(lambda: RiskWarning.objects.filter(acknowledged_by=regulator).exists())
    assert page.locator("[data-warning-kind=price_band]").get_by_role("button").count() == 0


def test_warnings_page_reads_on_a_phone(
    asgi_server, asgi_phone_as, price_history, settle, regulator, output_dir
):
    settle("spike", unit_price="2.40")
    evaluate_all_rules()
    page = asgi_phone_as(regulator)  # 360 × 640

    page.goto(f"{asgi_server}/tower/warnings/")

    page.locator("[data-warning-kind=price_band]").wait_for()
    assert fits_the_screen(page)
    box = page.get_by_role("button", name="Acknowledge").bounding_box()
    assert box is not None
    assert box["height"] >= 44
    page.screenshot(path=output_dir / "warnings-phone.png", full_page=True)
