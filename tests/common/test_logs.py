"""Request ids: each response says its id; every log line made for the request carries it, as
do the log lines of a task the request queued, run by a real Celery worker; LOG_FORMAT=json
writes one JSON object a line."""

import json
import logging
import time

import pytest

from common.logs import JsonFormatter, TextFormatter, request_id


@pytest.fixture(autouse=True)
def _no_health_cache(settings):
    settings.HEALTH_CACHE_SECONDS = 0


@pytest.mark.django_db
def test_a_request_keeps_the_id_it_came_with(client):
    response = client.get("/sign-in/", HTTP_X_REQUEST_ID="lb-7f3a.42")

    assert response["X-Request-ID"] == "lb-7f3a.42"


@pytest.mark.django_db
def test_a_request_without_an_id_gets_a_new_one_each_time(client):
    first = client.get("/sign-in/")["X-Request-ID"]
    second = client.get("/sign-in/")["X-Request-ID"]

    assert len(first) == 32
    assert first != second


@pytest.mark.django_db
@pytest.mark.parametrize("offered", ["", "a b", "x" * 129, "id\nforged log line", "<script>"])
def test_an_id_unfit_for_a_log_line_is_replaced(client, offered):
    response = client.get("/sign-in/", HTTP_X_REQUEST_ID=offered)

    assert response["X-Request-ID"] != offered
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_log_lines_made_during_a_request_carry_its_id(client, caplog):
    caplog.set_level(logging.WARNING, logger="django.request")

    client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404")

    records = [each for each in caplog.records if each.name == "django.request"]
    assert [each.request_id for each in records] == ["req-404"]
    assert request_id.get() == "-"  # and the id does not outlive the request


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_a_request_logs_with_the_request_id(client, celery_worker_live, caplog):
    caplog.set_level(logging.INFO, logger="celery.app.trace")

    # /healthz queues a ping task that a worker must answer.
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-ping-1")

    assert response.status_code == 200
    deadline = time.monotonic() + 10
    while not (done := [r for r in caplog.records if finished("common.ping", r)]):
        assert time.monotonic() < deadline, "the worker logged nothing"
        time.sleep(0.05)
    assert done[0].request_id == "req-ping-1"


def finished(task: str, record: logging.LogRecord) -> bool:
    """The worker's line for a task that ran (written while it runs, in the worker's thread)."""
    message = record.getMessage()
    return record.name == "celery.app.trace" and task in message and "succeeded" in message


def record(message: str, **extra) -> logging.LogRecord:
    entry = logging.makeLogRecord({"name": "coldchain.ingest", "levelname": "WARNING",
                                   "levelno": logging.WARNING, "msg": message, **extra})  # fmt: skip
    entry.created = 1796580000.25  # 2026-12-06 18:00:00.25 UTC
    return entry


def test_json_lines_carry_time_level_logger_message_and_request_id():
    line = JsonFormatter().format(record("batch from %s refused", request_id="req-9", device="L-1"))

    entry = json.loads(line)
    assert entry == {
        "time": "2026-12-06T18:00:00.250+00:00",
        "level": "WARNING",
        "logger": "coldchain.ingest",
        "message": "batch from %s refused",
        "request_id": "req-9",
        "device": "L-1",
    }


def test_json_lines_keep_the_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        entry = json.loads(JsonFormatter().format(record("failed", exc_info=sys.exc_info())))

    assert entry["exception"].endswith("ValueError: boom")


def test_text_lines_stay_readable_with_the_request_id():
    line = TextFormatter().format(record("stored", request_id="req-9"))

    assert line == "2026-12-06T18:00:00Z WARNING coldchain.ingest [req-9] stored"


def test_json_logs_are_chosen_by_log_format(monkeypatch):
    import importlib

    import config.settings

    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("DJANGO_DEBUG", "true")
    try:
        reloaded = importlib.reload(config.settings)
        assert reloaded.LOGGING["handlers"]["console"]["formatter"] == "json"
        monkeypatch.setenv("LOG_FORMAT", "xml")
        with pytest.raises(Exception, match="LOG_FORMAT must be text or json"):
            importlib.reload(config.settings)
    finally:
        monkeypatch.delenv("LOG_FORMAT")
        importlib.reload(config.settings)
