"""Log lines that say which request they belong to, as readable text or as JSON.

Every request gets an id: the X-Request-ID it came with (a load balancer's, or the client's)
when it looks like one, else a new one; the response carries it back in the same header. The
id lives in a context variable, so every log record made while the request is handled carries
it as `request_id` (a record factory stamps it, whichever handler reads the record). A task
the request queues carries it in its message headers (Celery's before_task_publish), and the
worker puts it back in the context while the task runs (task_prerun), so the task's log lines
carry the request's id too. Each published task is also stamped with `published_at`, which
common/task_queues.py reads to tell how long a queue's oldest task has waited.

LOG_FORMAT=json switches the console to one JSON object per line (for a log collector); the
default stays readable text.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
NO_REQUEST = "-"
# An id from outside is kept only when it is short and plain: it goes into every log line.
ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(value: str | None) -> str:
    value = (value or "").strip()
    return value if ACCEPTABLE_ID.fullmatch(value) else new_request_id()


class RequestIdMiddleware:
    """Sets the request's id for its log lines and tasks; returns it in X-Request-ID.

    The id stays set after the response leaves the middleware: Django logs a 4xx or 5xx after
    the middleware chain returns, and that line must carry it too. It is cleared when the
    response is finished (`forget_request_id`, on request_finished); under ASGI each request
    runs in a context of its own anyway.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        request_id.set(request_id_from(request.headers.get(HEADER)))
        response = self.get_response(request)
        response[HEADER] = request_id.get()
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        request_id.set(request_id_from(request.headers.get(HEADER)))
        response = await self.get_response(request)
        response[HEADER] = request_id.get()
        return response


def forget_request_id(**kwargs: Any) -> None:
    """request_finished: log lines between requests (a thread serving the next) carry none."""
    request_id.set(NO_REQUEST)


# --- Log records -------------------------------------------------------------------------


def install_record_factory() -> None:
    """Every log record gets `request_id` (NO_REQUEST outside a request or task). Idempotent."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id.get()
        return record

    factory.stamps_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class TextFormatter(logging.Formatter):
    """`2026-12-06T18:01:05Z INFO name [request id] message`, the time in UTC."""

    converter = time.gmtime  # type: ignore[assignment]  # the stubs want an optional argument; gmtime has one

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%SZ",
        )

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = NO_REQUEST
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request id,
    and the exception's traceback when there is one. Extra fields passed with `extra=` that
    JSON can carry are kept."""

    STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_REQUEST),
        }
        for key, value in record.__dict__.items():
            if key not in self.STANDARD and key not in entry and _is_plain(value):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _is_plain(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


# --- Celery: the id travels with the task -------------------------------------------------


def stamp_published_task(headers: dict | None = None, **kwargs: Any) -> None:
    """before_task_publish: the message headers carry the request id and the publish time."""
    if headers is None:
        return
    current = request_id.get()
    if current != NO_REQUEST:
        headers.setdefault("request_id", current)
    headers["published_at"] = time.time()


_task_tokens: dict[str, Any] = {}


def enter_task(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """task_prerun: the task's log lines carry the id of the request that queued it (or of
    the task itself, when nothing queued it from a request)."""
    queued_by = getattr(getattr(task, "request", None), "request_id", None)
    token = request_id.set(request_id_from(queued_by) if queued_by else (task_id or NO_REQUEST))
    if task_id:
        _task_tokens[task_id] = token


def leave_task(task_id: str | None = None, **kwargs: Any) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        try:
            request_id.reset(token)
        except ValueError:  # set in another context (a pool that switched threads)
            request_id.set(NO_REQUEST)
