"""Debian's Prometheus scrapes /metrics of a running web process with the bearer token, loads
the alert rules, and sees a trade settled in another process counted."""

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

TOKEN = "scrape-me-0123456789"
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def web_with_token(monkeypatch):
    """The asgi_server fixture's process reads METRICS_TOKEN from its environment."""
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)


@pytest.fixture
def prometheus(web_with_token, asgi_server, celery_worker_live, tmp_path):
    """Prometheus scraping the web process every two seconds, with deploy/'s rules; yields its
    URL. A worker answers the health check's ping, which every scrape reads."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: scripts/services.sh --browser installs it"
    (tmp_path / "token").write_text(TOKEN)
    config = (DEPLOY / "prometheus.yml").read_text()
    config = config.replace("/etc/prometheus/freshchain-metrics-token", str(tmp_path / "token"))
    config = config.replace("scrape_interval: 15s", "scrape_interval: 2s")
    config = config.replace("127.0.0.1:8000", asgi_server.removeprefix("http://"))
    (tmp_path / "prometheus.yml").write_text(config)
    shutil.copy(DEPLOY / "alerts.yml", tmp_path / "alerts.yml")
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    server = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get(f"{url}/-/ready", raw=True), "Prometheus did not start", tmp_path)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def get(url: str, *, raw: bool = False):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read()
    except OSError:
        return None
    return body if raw else json.loads(body)


def query(prometheus: str, expression: str) -> float | None:
    answer = get(f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expression}))
    if not answer or not answer["data"]["result"]:
        return None
    return float(answer["data"]["result"][0]["value"][1])


def wait_for(
    condition, message: str, tmp_path: Path | None = None, seconds: float = 60, detail=None
):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        if time.monotonic() > deadline:
            log = (tmp_path / "prometheus.log").read_text() if tmp_path else ""
            pytest.fail(f"{message}\n{log[-3000:]}\n{detail() if detail else ''}")
        time.sleep(0.25)
    return found


@pytest.mark.django_db(transaction=True)
def test_prometheus_scrapes_the_business_metrics_and_loads_the_rules(prometheus, settle):
    wait_for(
        lambda: query(prometheus, 'up{job="freshchain"}') == 1,
        "never scraped",
        detail=lambda: get(f"{prometheus}/api/v1/targets"),
    )
    before = wait_for(
        lambda: (
            (value := query(prometheus, "freshchain_trades_settled_total")) is not None and (value,)
        ),
        "no trade counter",
    )[0]

    settle("t1")  # in this process; the page is served by the other one

    wait_for(
        lambda: query(prometheus, "freshchain_trades_settled_total") == before + 1,
        "the trade was never counted",
    )
    rules = get(f"{prometheus}/api/v1/rules")["data"]["groups"]
    loaded = [rule for group in rules for rule in group["rules"]]
    assert len(loaded) == 11
    assert {rule["health"] for rule in loaded} <= {"ok", "unknown"}
