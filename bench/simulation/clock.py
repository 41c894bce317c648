"""The simulated clock, and the Celery messages held until their simulated time.

`SimClock` is time-machine's travel with the clock stopped (tick=False): every
`timezone.now()` in the services, and every `auto_now` stamp, reads the simulated moment, and
only the replay moves it forward (`advance_to`). Monotonic clocks (connection pools,
timeouts) are left alone.

`held_messages` catches every Celery message the services send (`.delay()`,
`.apply_async(countdown=…)`), at `send_task`, the call every task's `apply_async` ends in:
the message is not published to any broker; the replay gets its task name, arguments and
due time, and runs the registered task in-process when the simulated clock reaches it —
the same function a worker would run, minus the broker. (Celery's `before_task_publish`
signal sees the message too, but cannot stop it from being published: in a test run with a
live worker on the same broker, that worker would run it at wall-clock time.)
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import time_machine
from django.utils import timezone

from config.celery import app as celery_app


class SimClock:
    """One clock for the whole replay; it only moves forward."""

    def __init__(self, start: datetime) -> None:
        self._travel = time_machine.travel(start, tick=False)
        self._coordinates: Any = None

    def __enter__(self) -> "SimClock":
        self._coordinates = self._travel.start()
        return self

    def __exit__(self, *exc) -> None:
        self._travel.stop()

    @property
    def now(self) -> datetime:
        return timezone.now()

    def advance_to(self, moment: datetime) -> None:
        if moment < self.now:
            raise ValueError(f"the simulated clock does not go back ({moment} < {self.now})")
        if moment > self.now:
            self._coordinates.move_to(moment)


@dataclass(frozen=True)
class Message:
    """A Celery message as a worker would receive it: the task's name, its arguments and the
    moment it is due (now, or its countdown/eta)."""

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    due: datetime | None = None

    def run(self) -> Any:
        """The registered task, called in this process as a worker calls it."""
        return celery_app.tasks[self.name](*self.args, **self.kwargs)


@contextmanager
def held_messages(deliver: Callable[[Message], None]) -> Iterator[None]:
    """Inside: every message any task sends goes to `deliver` instead of the broker."""

    def send_task(name, args=None, kwargs=None, countdown=None, eta=None, task_id=None, **_options):
        now = timezone.now()
        due = eta if eta is not None else now + timedelta(seconds=countdown or 0)
        if isinstance(due, str):
            due = datetime.fromisoformat(due)
        deliver(Message(name, tuple(args or ()), dict(kwargs or {}), due))
        return celery_app.AsyncResult(task_id or "held")

    had_own = "send_task" in vars(celery_app)
    original = celery_app.send_task
    celery_app.send_task = send_task  # type: ignore[method-assign]
    try:
        yield
    finally:
        if had_own:
            celery_app.send_task = original  # type: ignore[method-assign]
        else:
            del celery_app.send_task


def beat_interval(task_name: str) -> timedelta:
    """How often Celery beat sends `task_name` (config/celery.py); for a task on a fixed
    interval (the dispatch sweep), not a crontab."""
    for entry in celery_app.conf.beat_schedule.values():
        if entry["task"] == task_name:
            schedule = entry["schedule"]
            if isinstance(schedule, int | float):
                return timedelta(seconds=schedule)
            if isinstance(schedule, timedelta):
                return schedule
            run_every = getattr(schedule, "run_every", None)
            if isinstance(run_every, timedelta):
                return run_every
            raise ValueError(f"{task_name} runs on a crontab, not an interval")
    raise KeyError(f"{task_name} is not in the beat schedule")
