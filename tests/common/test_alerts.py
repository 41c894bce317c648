"""deploy/prometheus: the alert rules and the scrape configuration are what Prometheus accepts
(Debian's promtool, installed by scripts/services.sh --browser), and every metric the rules
name is one /metrics serves."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from common.backups import BACKUP_SUCCEEDED_AT
from settlement.metrics import record_verification

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
METRIC = re.compile(r"\b((?:freshchain|django)_[a-z_]+)\b")


def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: scripts/services.sh --browser installs Debian's prometheus"
    return found


def test_the_alert_rules_are_valid_prometheus_rules():
    done = subprocess.run(
        [promtool(), "check", "rules", str(DEPLOY / "alerts.yml")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 11 rules found" in done.stdout


def test_the_scrape_configuration_is_valid(tmp_path):
    token = tmp_path / "token"
    token.write_text("secret\n")
    config = (DEPLOY / "prometheus.yml").read_text()
    (tmp_path / "prometheus.yml").write_text(
        config.replace("/etc/prometheus/freshchain-metrics-token", str(token))
    )
    shutil.copy(DEPLOY / "alerts.yml", tmp_path / "alerts.yml")

    done = subprocess.run(
        [promtool(), "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr


def alert_expressions() -> dict[str, str]:
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    return {
        rule["alert"]: rule["expr"] + str(rule.get("annotations", ""))
        for group in rules["groups"]
        for rule in group["rules"]
    }


def test_the_alerts_cover_what_operators_must_hear_about():
    assert {
        "FreshChainDown",
        "FreshChainUnhealthy",
        "TaskQueueStalled",
        "IngestErrors",
        "LedgerVerificationFailed",
        "EndOfDayLate",
        "BackupTooOld",
    } <= set(alert_expressions())


@pytest.mark.django_db
def test_every_metric_the_alerts_name_is_served(client, metrics):
    from prometheus_client.parser import text_string_to_metric_families

    client.get("/sign-in/")  # django-prometheus's request counters get a first sample
    client.get("/no-such-page/")
    record_verification(ok=True)  # set once a night; present from then on
    BACKUP_SUCCEEDED_AT.set(1.0)
    served = {
        sample.name
        for family in text_string_to_metric_families(metrics.text_of())
        for sample in family.samples
    }

    named = {name for expr in alert_expressions().values() for name in METRIC.findall(expr)}

    assert named
    assert sorted(named - served) == []
