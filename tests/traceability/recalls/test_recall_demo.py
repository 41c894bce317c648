"""The recall demo: seeded twice it is the same; one past recall, closed, whose every party
acknowledged and whose report is made."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from farms.models import LotHold
from traceability.demo.recalls import LOT_CODE
from traceability.models import Recall, RecallDisposition, RecallNotice
from traceability.reports import recall_report_pdf

pytestmark = pytest.mark.django_db


def _figures():
    return {
        "recalls": list(Recall.objects.values_list("lot__lot_code", "closed_at")),
        "notices": RecallNotice.objects.count(),
        "dispositions": RecallDisposition.objects.count(),
        "holds": LotHold.objects.filter(reference__startswith="recall:").count(),
    }


@pytest.fixture(scope="module")
def seeded_twice(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        from django.db import transaction

        with transaction.atomic():
            call_command("seed_demo", force=True, stdout=StringIO())
            first = _figures()
            call_command("seed_demo", force=True, stdout=StringIO())
            second = _figures()
            recall = Recall.objects.get(lot__lot_code=LOT_CODE)
            yield first, second, recall, recall_report_pdf(recall)
            transaction.set_rollback(True)


def test_seeding_twice_changes_nothing(seeded_twice):
    first, second, _recall, _report = seeded_twice
    assert first == second
    assert len(first["recalls"]) == 1


def test_the_past_recall_is_closed_acknowledged_and_reported(seeded_twice):
    _first, _second, recall, report = seeded_twice
    assert recall.closed_at is not None
    assert not recall.false_alarm
    assert recall.hold.released_at is None  # the lot stays withdrawn
    assert recall.notices.exists()
    assert not recall.notices.filter(acknowledged_at__isnull=True).exists()
    assert recall.scope.filter(kind="market_trade").exists()
    assert recall.dispositions.exists()
    assert report.startswith(b"%PDF")
