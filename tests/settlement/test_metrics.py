"""The nightly verification of the ledger publishes its outcome as metrics."""

import pytest
from django.db.models import F

from settlement.models import BalanceSlot
from settlement.tasks import verify_ledger


@pytest.mark.django_db
def test_a_clean_ledger_verification_is_published(settle, metrics):
    settle("t1")

    outcome = verify_ledger.apply().get()

    assert outcome["ok"] is True
    assert metrics.value("freshchain_ledger_verification_ok") == 1
    assert metrics.value("freshchain_ledger_verification_timestamp_seconds") > 0


@pytest.mark.django_db
def test_a_failed_ledger_verification_is_published(settle, metrics, caplog):
    settle("t1")
    # A cached balance no longer its postings' sum.
    BalanceSlot.objects.filter(pk=BalanceSlot.objects.order_by("pk")[0].pk).update(
        amount=F("amount") + 1
    )

    outcome = verify_ledger.apply().get()

    assert outcome["ok"] is False
    assert metrics.value("freshchain_ledger_verification_ok") == 0
    assert "ledger verification failed" in caplog.text
