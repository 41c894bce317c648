"""What every role shares: the rates, the pool of accounts prepare_load wrote, and one way to
call the API that tells an error from a refusal the product intends.

An error is a 5xx, a timeout or a refused connection, or a 4xx the client did not expect: it
fails the request in locust's figures. A refusal the product means (the stock is sold out, an
offer was taken by another courier, a card is short) is what a real client meets and handles:
the request counts as answered, and the refusal is counted apart under "REFUSED <operation>".
"""

import itertools
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from locust import events

from bench.load.rates import Rates

ROOT = Path(__file__).resolve().parent.parent.parent.parent
ACCOUNTS = Path(os.environ.get("LOAD_ACCOUNTS", ROOT / "var" / "load" / "accounts.json"))


RATES = Rates.from_env()

_pool: dict | None = None
_next: dict[str, itertools.count] = {}


def pool() -> dict:
    global _pool
    if _pool is None:
        _pool = json.loads(ACCOUNTS.read_text())
    return _pool


def take(kind: str) -> dict:
    """The next account of a kind: each user of a role works as a different person."""
    accounts = pool()[kind]
    counter = _next.setdefault(kind, itertools.count())
    return accounts[next(counter) % len(accounts)]


# What the locust process counts beside its request figures, for the runner's report.
tally: Counter = Counter()
delivery_codes: dict[int, str] = {}  # order id -> code: the consumer tells it at the door


def refused(operation: str, status: int) -> None:
    tally[f"refused {operation} {status}"] += 1
    events.request.fire(
        request_type="REFUSED",
        name=operation,
        response_time=0,
        response_length=0,
        exception=None,
        context={},
    )


def call(
    client, method: str, path: str, *, name: str, refusals: tuple | Callable = (), **kwargs
) -> dict | list | None:
    """One API call; its JSON on success, None on an intended refusal or an error.
    `refusals`: the statuses the product answers when it means no, or a test of the status
    and the body's text.

    A kept-alive connection the server closed as the request left (uvicorn closes idle ones
    after 5 s) is sent again once on a new connection, as browsers and HTTP libraries do;
    such a retry is counted ("RETRIED"), and a second failure is an error. Every write the
    load sends is safe to send twice (an Idempotency-Key, or a step that is refused twice).
    """
    headers = {"Accept-Language": "en", **kwargs.pop("headers", {})}
    for attempt in (1, 2):
        with client.request(
            method, path, name=name, headers=headers, catch_response=True, **kwargs
        ) as response:
            status = response.status_code or 0
            if 200 <= status < 300:
                response.success()
                try:
                    return response.json()
                except ValueError:
                    return None
            if status == 0 and attempt == 1 and "connection closed" in str(response.error):
                response.success()
                tally[f"retried {name}"] += 1
                events.request.fire(request_type="RETRIED", name=name, response_time=0,
                                    response_length=0, exception=None, context={})  # fmt: skip
                continue
            text = response.text or ""
            intended = refusals(status, text) if callable(refusals) else status in refusals
            if intended:
                response.success()
                refused(name, status)
                return None
            body = text[:200] if status else str(response.error)[:200]
            response.failure(f"{status}: {body}")
            tally[f"error {name} {status}"] += 1
            return None
    return None


def results(page) -> list:
    """A paginated page's rows, or a plain list's."""
    if isinstance(page, dict):
        return page.get("results", [])
    return page or []


def now() -> float:
    return time.monotonic()
