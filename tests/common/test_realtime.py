"""After-commit pushes, one policy for every app (common/realtime.py): a push leaves only
once the transaction commits, and a channel layer that is down is one logged warning, never
an error for the change that committed, nor a reason to skip the other after-commit work.

Transactional tests: after-commit callbacks run only when a real commit happens.
"""

import logging

import pytest
from django.db import transaction

from accounts.models import Notification
from accounts.notifications import notify, notify_many
from common.realtime import push_after_commit

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_service_commits_and_answers_while_the_channel_layer_is_down(
    buyer, channel_layer_down, caplog
):
    with caplog.at_level(logging.WARNING, logger="common.realtime"):
        notification = notify(user=buyer, kind="order.placed", title="New order #1")

    assert Notification.objects.get().pk == notification.pk
    [warning] = [r for r in caplog.records if r.name == "common.realtime"]
    assert f"push order.placed to user.{buyer.pk} failed" in warning.getMessage()
    assert warning.exc_info is None  # one line, no traceback


def test_many_told_while_the_channel_layer_is_down_are_kept_with_one_warning(
    buyer, farmer, channel_layer_down, caplog
):
    with caplog.at_level(logging.WARNING, logger="common.realtime"):
        kept = notify_many(user_ids=[buyer.pk, farmer.pk], kind="recall.opened", title="Recall")

    assert set(Notification.objects.values_list("pk", flat=True)) == {
        kept[buyer.pk].pk,
        kept[farmer.pk].pk,
    }
    [warning] = [r for r in caplog.records if r.name == "common.realtime"]
    assert "push failed after 0 of 2 messages" in warning.getMessage()
    assert warning.exc_info is None  # one line, no traceback


def test_a_failed_push_does_not_stop_the_other_after_commit_work(channel_layer_down, caplog):
    done = []
    with caplog.at_level(logging.WARNING, logger="common.realtime"), transaction.atomic():
        push_after_commit(["screen.1"], {"type": "screen.event", "event": "shipment"})
        transaction.on_commit(lambda: done.append("after the push"))

    assert done == ["after the push"]
    assert any("push shipment to screen.1 failed" in r.getMessage() for r in caplog.records)


def test_nothing_is_pushed_for_a_transaction_that_rolls_back(buyer, channel_layer_down, caplog):
    def refused_after_notifying():
        with transaction.atomic():
            notify(user=buyer, kind="order.placed", title="New order #1")
            raise RuntimeError("the service refused after notifying")

    with caplog.at_level(logging.WARNING, logger="common.realtime"), pytest.raises(RuntimeError):
        refused_after_notifying()

    assert not Notification.objects.exists()
    assert not [r for r in caplog.records if r.name == "common.realtime"]  # no send tried


def test_outside_a_transaction_a_push_to_a_layer_that_is_down_is_logged_not_raised(
    channel_layer_down, caplog
):
    with caplog.at_level(logging.WARNING, logger="common.realtime"):
        push_after_commit(["screen.1"], {"type": "screen.event", "event": "alert"})

    assert any("push alert to screen.1 failed" in r.getMessage() for r in caplog.records)
