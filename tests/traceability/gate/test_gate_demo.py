"""The demo's gate: Xinfadi checked the demo farmer's lots in, one batch tested positive and is
held there with the supervisor alerted; seeding again changes nothing, and the market's demo
counter still trades (its lots are not held, entry checks stay off)."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Notification
from farms.models import LotAdmission, LotHold
from marketplace.models import Market
from traceability.models import MarketEntry, RapidTest
from traceability.models.gate import EntryOutcome

pytestmark = pytest.mark.django_db


def _figures() -> dict:
    return {
        "entries": sorted(MarketEntry.objects.values_list("lot__lot_code", "outcome")),
        "tests": RapidTest.objects.count(),
        "holds": LotHold.objects.count(),
        "admissions": LotAdmission.objects.count(),
        "alerts": Notification.objects.filter(kind="gate.rapid_test_positive").count(),
    }


@pytest.fixture(scope="module")
def seeded_twice(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            call_command("seed_demo", force=True, stdout=StringIO())
            first = _figures()
            call_command("seed_demo", force=True, stdout=StringIO())
            second = _figures()
            yield first, second
            transaction.set_rollback(True)


def test_seeding_twice_changes_nothing(seeded_twice):
    first, second = seeded_twice
    assert first == second


def test_xinfadi_checked_the_demo_lots_in_and_holds_one_positive_batch(seeded_twice):
    market = Market.objects.get(code="xinfadi")
    entries = {e.lot.lot_code: e for e in MarketEntry.objects.filter(market=market)}

    assert entries["DEMO-SG-0001"].outcome == EntryOutcome.ADMITTED
    assert entries["DEMO-SG-0002"].outcome == EntryOutcome.ADMITTED
    held = entries["DEMO-SG-0003"]
    assert held.outcome == EntryOutcome.HELD
    assert held.rapid_tests.get().is_positive
    hold = LotHold.objects.get(lot=held.lot, released_at__isnull=True)
    assert hold.market == market
    assert not LotHold.objects.filter(
        lot__lot_code="DEMO-SG-0001", released_at__isnull=True
    ).exists()
    assert Notification.objects.filter(
        user__username="operator", kind="gate.rapid_test_positive"
    ).exists()
    assert market.entry_check_required is False
