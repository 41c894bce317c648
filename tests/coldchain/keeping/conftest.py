"""Years of readings: a shipment watched by one logger over a long past, readings written
straight into the table (ingest refuses readings older than a year), and the partitions seen
from the catalogue."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from coldchain.models import Reading
from coldchain.services.registry import assign_logger, register_logger
from tests.coldchain.factories import ShipmentFactory
from tests.coldchain.fixtures import LOGGER_SECRET


@pytest.fixture
def old_leg(db):
    """A shipment whose logger watched it from 2023 to 2026 (the raw window holds only the
    end), and the logger."""
    shipment = ShipmentFactory()
    logger, _secret = register_logger(device_id="LOG-YEARS-1", secret=LOGGER_SECRET)
    assign_logger(
        logger=logger,
        subject=shipment,
        starts_at=datetime(2023, 1, 1, tzinfo=UTC),
        ends_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    return shipment, logger


@pytest.fixture
def put_readings():
    """put_readings(logger, [(recorded_at, °C, RH % or None)], received_at=…, late=False)."""

    def put(logger, rows, *, received_at=None, late=False):
        Reading.objects.bulk_create(
            [
                Reading(
                    logger=logger,
                    recorded_at=recorded_at,
                    temperature_c=temperature_c,
                    humidity_pct=humidity_pct,
                    late=late,
                    **({"received_at": received_at} if received_at else {}),
                )
                for recorded_at, temperature_c, humidity_pct in rows
            ]
        )

    return put


@pytest.fixture
def rows_in():
    """rows_in("coldchain_reading_2031_05") → how many readings that partition holds."""

    def count(table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # a test's own table name
            return cursor.fetchone()[0]

    return count
