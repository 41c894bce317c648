"""The mixed load: every role of the platform at once (bench/load/roles/), for `make load`.

Run by bench/load/run.py (which prepares the accounts, samples memory and reports); by hand:
`locust -f bench/load/locustfile.py --headless --host http://127.0.0.1:8090 -u 97 -t 2m`
after `manage.py prepare_load`. Users per role are fixed (LOAD_* variables, roles/base.py).
"""

import json
import os

import gevent
from locust import events
from locust.runners import STATE_RUNNING, STATE_SPAWNING

from bench.load.roles import screens
from bench.load.roles.base import tally
from bench.load.roles.cold_chain import Logger
from bench.load.roles.delivery import Consumer, Courier, Packer
from bench.load.roles.market import Buyer, Counter
from bench.load.roles.screens import Screen

__all__ = ["Buyer", "Consumer", "Counter", "Courier", "Logger", "Packer", "Screen"]


def _watch_sockets(environment) -> None:
    """Sockets open, every 5 s while the run is on: the last sample is what was held at the
    end (the users' stopping closes them all)."""
    while True:
        if environment.runner.state in (STATE_RUNNING, STATE_SPAWNING):
            tally["ws open at end"] = screens.open_sockets
        gevent.sleep(5)


@events.test_start.add_listener
def _start(environment, **kwargs) -> None:
    gevent.spawn(_watch_sockets, environment)


@events.quitting.add_listener
def _write_summary(environment, **kwargs) -> None:
    """What locust's CSV does not hold (pushes, sockets, refusals by status) for run.py."""
    path = os.environ.get("LOAD_SUMMARY")
    if path:
        with open(path, "w") as out:
            json.dump(dict(tally), out, ensure_ascii=False, indent=1)
