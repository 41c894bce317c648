"""Every task of ours goes to a queue a worker consumes: `realtime` or `batch`."""

import pytest

from common import tasks
from config.celery import app
from config.task_queues import BATCH, DEFAULT, REALTIME, TASK_QUEUES

OUR_APPS = ("accounts", "coldchain", "common", "controltower", "delivery", "farms",
            "marketplace", "settlement", "traceability")  # fmt: skip


def our_task_names() -> list[str]:
    app.loader.import_default_modules()  # autodiscovery, as a worker does at start
    return sorted(name for name in app.tasks if name.split(".")[0] in OUR_APPS)


def test_every_task_of_ours_is_routed_to_realtime_or_batch():
    names = our_task_names()

    queues = {name: app.amqp.router.route({}, name)["queue"].name for name in names}
    unrouted = {name: queue for name, queue in queues.items() if queue not in {REALTIME, BATCH}}

    assert len(names) >= 19
    assert unrouted == {}


def test_dispatch_waits_behind_no_end_of_day():
    route = app.amqp.router.route

    assert route({}, "delivery.dispatch_order")["queue"].name == REALTIME
    assert route({}, "delivery.expire_offer")["queue"].name == REALTIME
    assert route({}, "marketplace.close_business_day")["queue"].name == BATCH
    assert route({}, "delivery.suggest_replenishment")["queue"].name == BATCH


def test_a_worker_started_without_queues_consumes_all_three():
    assert {queue.name for queue in TASK_QUEUES} == {REALTIME, BATCH, DEFAULT}
    assert {queue.name for queue in app.conf.task_queues} == {REALTIME, BATCH, DEFAULT}


@pytest.mark.parametrize("queue", [REALTIME, BATCH, DEFAULT])
def test_the_tests_worker_answers_on_every_queue(celery_worker_live, queue):
    result = tasks.ping.apply_async(queue=queue)

    assert result.get(timeout=30) == "pong"
