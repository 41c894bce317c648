"""Cold chain metrics: readings stored (new ones only), batches and rows refused, and the
excursions open now, read from the database when Prometheus asks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from coldchain import ingest
from coldchain.exceptions import IngestRejected


def readings(start, minutes: range, temperature_c: float = 3.0) -> list[dict]:
    return [
        {"recorded_at": (start + timedelta(minutes=m)).isoformat(), "temperature_c": temperature_c}
        for m in minutes
    ]


@pytest.mark.django_db
def test_stored_readings_are_counted_and_resent_ones_not(
    shipment_logger, metrics, django_capture_on_commit_callbacks
):
    start = timezone.now() - timedelta(hours=2)
    before = metrics.value("freshchain_readings_stored_total")

    with django_capture_on_commit_callbacks(execute=True):
        ingest.ingest_readings(logger=shipment_logger, rows=readings(start, range(10)))
        ingest.ingest_readings(logger=shipment_logger, rows=readings(start, range(5, 15)))

    assert metrics.value("freshchain_readings_stored_total") == before + 15


@pytest.mark.django_db
def test_refused_batches_and_rows_are_counted_by_reason(shipment_logger, metrics):
    start = timezone.now() - timedelta(hours=2)
    bad = [*readings(start, range(3)), {"recorded_at": "yesterday", "temperature_c": 3}]
    invalid = metrics.value("freshchain_ingest_refused_total", reason="invalid")
    rows = metrics.value("freshchain_ingest_refused_total", reason="rejected_rows")

    with pytest.raises(IngestRejected):
        ingest.ingest_readings(logger=shipment_logger, rows=bad)
    ingest.ingest_readings(logger=shipment_logger, rows=bad, accept_partial=True)

    assert metrics.value("freshchain_ingest_refused_total", reason="invalid") == invalid + 1
    assert metrics.value("freshchain_ingest_refused_total", reason="rejected_rows") == rows + 1


@pytest.mark.django_db
def test_excursions_open_are_read_when_asked(shipment_logger, metrics):
    start = timezone.now() - timedelta(hours=2)
    assert metrics.value("freshchain_excursions_open") == 0

    # 0–4 °C kept; 8 °C for 45 minutes is an excursion confirmed after 15.
    ingest.ingest_readings(logger=shipment_logger, rows=readings(start, range(45), 8.0))
    assert metrics.value("freshchain_excursions_open") == 1

    ingest.ingest_readings(logger=shipment_logger, rows=readings(start, range(45, 75), 2.0))
    assert metrics.value("freshchain_excursions_open") == 0
