"""How many Celery tasks wait in each queue, and for how long the oldest has waited, read from
the Redis broker.

Kombu's Redis transport keeps a queue as Redis lists: the queue's name for priority 0 and
`<name>\\x06\\x16<step>` for the other priority steps. New messages are LPUSHed and workers
BRPOP, so the oldest message is the last element. Its age comes from the `published_at`
header every published task carries (common/logs.py stamps it with the request id); a
message published without one (by an older release) counts in the length but not the age.
Tasks with a countdown or ETA wait inside a worker, not in the list: they are not counted.
"""

import json
import time
from dataclasses import dataclass

import redis
from celery import current_app
from django.conf import settings

PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)  # kombu's default priority_steps


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    length: int
    oldest_age_seconds: float


def queue_names() -> list[str]:
    """The queues the app declares (CELERY_TASK_QUEUES), or else its default queue."""
    conf = current_app.conf
    names = {queue.name for queue in conf.task_queues or ()}
    names.add(conf.task_default_queue)
    return sorted(names)


def queue_depths(*, now: float | None = None) -> list[QueueDepth]:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return []  # another broker: its own exporter knows its queues
    now = time.time() if now is None else now
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return [_depth(client, name, now) for name in queue_names()]
    finally:
        client.close()


def _depth(client: redis.Redis, queue: str, now: float) -> QueueDepth:
    keys = [queue if step == 0 else f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS]
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.llen(key)
            pipe.lindex(key, -1)
        answers = pipe.execute()
    length = sum(answers[0::2])
    published = [_published_at(raw) for raw in answers[1::2] if raw is not None]
    ages = [now - moment for moment in published if moment is not None]
    return QueueDepth(queue=queue, length=length, oldest_age_seconds=max([0.0, *ages]))


def _published_at(raw: bytes) -> float | None:
    try:
        moment = json.loads(raw)["headers"]["published_at"]
        return float(moment)
    except (ValueError, KeyError, TypeError):
        return None
