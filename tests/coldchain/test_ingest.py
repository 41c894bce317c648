"""Ingest as a service, without HTTP: reading JSON and CSV batches, checking every row, storing
each reading once, and handing only the new ones, in time order, to monitoring."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from coldchain import batch_files, ingest
from coldchain.exceptions import BatchTooLarge, ForeignReadings, IngestRejected, MalformedBatch
from coldchain.models import Reading
from coldchain.monitoring import ReadingIn
from common.exceptions import RefusalKind

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def at(minutes: float) -> str:
    return (NOW - timedelta(minutes=minutes)).isoformat()


def reading(minutes_ago: float = 10, temperature_c: float = 3.2, **fields) -> dict:
    return {"recorded_at": at(minutes_ago), "temperature_c": temperature_c, **fields}


def store(logger, rows, **options):
    return ingest.ingest_readings(logger=logger, rows=rows, now=NOW, **options)


# --- parsing -----------------------------------------------------------------------------------


def test_json_batch_gives_its_rows_and_option():
    batch = batch_files.parse_json_batch(
        b'{"readings": [{"temperature_c": 1}], "accept_partial": true}'
    )

    assert batch.rows == [{"temperature_c": 1}]
    assert batch.accept_partial is True


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", 'The body is empty: send {"readings": [...]}.'),
        (b'{"readings": [', "The body is not valid JSON: "),
        (b'{"readings": [{"t": 1},]}', "trailing comma is not allowed (line 1, column 23)"),
        (b"[1, 2]", 'Send a JSON object holding a list: {"readings": [...]}.'),
        (b'{"readings": {"t": 1}}', "Give the readings as a list of objects."),
        (b'{"readings": [], "accept_partial": "yes"}', "Must be true or false."),
    ],
)
def test_unreadable_json_is_refused_with_what_is_wrong(body, message):
    with pytest.raises(MalformedBatch) as refusal:
        batch_files.parse_json_batch(body)

    assert message in str(refusal.value.message)


def test_csv_file_gives_one_row_per_line_whatever_the_column_order_and_case():
    content = (
        "\ufeffTemperature_C, recorded_at ,battery_pct\r\n"
        "3.2,2026-11-28T04:00:00+00:00,88\r\n"
        "\r\n"
        "3.4,2026-11-28T04:01:00+00:00,\r\n"
    ).encode()

    rows = batch_files.parse_csv_batch(content)

    assert rows == [
        {"temperature_c": "3.2", "recorded_at": "2026-11-28T04:00:00+00:00", "battery_pct": "88"},
        {"temperature_c": "3.4", "recorded_at": "2026-11-28T04:01:00+00:00", "battery_pct": ""},
    ]


def test_csv_file_in_gbk_is_read_when_its_character_set_is_given():
    content = "recorded_at,temperature_c,备注\n2026-11-28T04:00:00+00:00,3.2,冷库\n".encode("gbk")

    rows = batch_files.parse_csv_batch(content, encoding="gbk")

    assert rows[0]["备注"] == "冷库"


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        (b"", None, "The CSV file is empty; its first line names the columns: recorded_at,"),
        (
            b"time,temperature_c\n",
            None,
            "The CSV header lacks recorded_at; it names time, temperature_c.",
        ),
        (
            b"recorded_at,temperature_c,temperature_c\n",
            None,
            "The CSV header names a column twice.",
        ),
        (
            b'recorded_at,temperature_c\n2026-11-28T04:00:00+00:00,"3.2\n',
            None,
            "The CSV file is malformed at line 2: unexpected end of data.",
        ),
        ("recorded_at,temperature_c\n温度".encode("gbk"), None, "The CSV file is not UTF-8 text"),
        (b"recorded_at,temperature_c\n", "klingon", "Unknown character set “klingon”."),
    ],
)
def test_unreadable_csv_is_refused_with_what_is_wrong(content, encoding, message):
    with pytest.raises(MalformedBatch) as refusal:
        batch_files.parse_csv_batch(content, encoding=encoding)

    assert message in str(refusal.value.message)


# --- checking every row --------------------------------------------------------------------------

SKEW = 300  # settings.COLDCHAIN_MAX_CLOCK_SKEW_SECONDS in the tests' settings


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"temperature_c": 3.2}, "recorded_at", "Every reading needs this value."),
        (
            {"recorded_at": "2026-11-28T03:50:00", "temperature_c": 3.2},
            "recorded_at",
            "“2026-11-28T03:50:00” has no UTC offset; add one, e.g. 2026-11-28T04:00:00+00:00, so the time is not guessed.",
        ),
        (
            {"recorded_at": "28/11/2026 03:50", "temperature_c": 3.2},
            "recorded_at",
            "Give the time in ISO 8601 with its UTC offset, e.g. 2026-11-28T04:00:00+00:00.",
        ),
        (
            {"recorded_at": 1795838400, "temperature_c": 3.2},
            "recorded_at",
            "Give the time in ISO 8601 with its UTC offset, e.g. 2026-11-28T04:00:00+00:00.",
        ),
        (
            {"recorded_at": "2027-11-28T04:00:00+00:00", "temperature_c": 3.2},
            "recorded_at",
            f"This time is 31536000 seconds ahead of the server's clock (at most {SKEW} allowed); check the logger's clock.",
        ),
        (
            {"recorded_at": "2025-11-01T04:00:00+08:00", "temperature_c": 3.2},
            "recorded_at",
            "2025-11-01T04:00:00+08:00 is more than a year ago; the logger's clock is probably not set.",
        ),
        (reading(temperature_c=None), "temperature_c", "Every reading needs this value."),
        (reading(temperature_c="3.2"), "temperature_c", "“3.2” is not a number."),
        (reading(temperature_c=True), "temperature_c", "“True” is not a number."),
        (
            reading(temperature_c=85.0),
            "temperature_c",
            "85 is outside the plausible range -50 to 70.",
        ),
        (
            reading(temperature_c=-273.15),
            "temperature_c",
            "-273.15 is outside the plausible range -50 to 70.",
        ),
        (reading(humidity_pct=101), "humidity_pct", "101 is outside the plausible range 0 to 100."),
        (reading(battery_pct=-1), "battery_pct", "-1 is outside the plausible range 0 to 100."),
        (reading(latitude=39.9), "longitude", "Give latitude and longitude together."),
        (reading(longitude=116.4), "latitude", "Give latitude and longitude together."),
        (
            reading(latitude=91, longitude=116.4),
            "latitude",
            "91 is outside the plausible range -90 to 90.",
        ),
        (
            reading(latitude=39.9, longitude=-181),
            "longitude",
            "-181 is outside the plausible range -180 to 180.",
        ),
        ("3.2 at 04:00", "reading", "Each reading must be an object."),
    ],
)
def test_a_bad_row_refuses_the_batch_naming_its_index_field_and_reason(
    data_logger, row, field, message
):
    rows = [reading(20), row]

    with pytest.raises(IngestRejected) as refusal:
        store(data_logger, rows)

    assert refusal.value.errors == [{"index": 1, "field": field, "message": message}]
    assert refusal.value.as_dict()["detail"] == "1 of 2 readings are not valid; nothing was stored."
    assert not Reading.objects.exists()


def test_every_bad_field_of_every_bad_row_is_listed(data_logger):
    rows = [
        reading(30, temperature_c=99, humidity_pct=-5),
        reading(20),
        {"recorded_at": "2026-11-28T03:00:00", "temperature_c": "warm"},
    ]

    with pytest.raises(IngestRejected) as refusal:
        store(data_logger, rows)

    assert [(error["index"], error["field"]) for error in refusal.value.errors] == [
        (0, "temperature_c"),
        (0, "humidity_pct"),
        (2, "recorded_at"),
        (2, "temperature_c"),
    ]
    assert not Reading.objects.exists()


def test_a_time_just_within_the_clock_skew_is_accepted(data_logger):
    result = store(
        data_logger,
        [{"recorded_at": (NOW + timedelta(seconds=SKEW)).isoformat(), "temperature_c": 3}],
    )

    assert result.stored == 1


def test_times_with_any_utc_offset_or_z_are_the_same_moment(data_logger):
    rows = [
        {"recorded_at": "2026-11-28T03:00:00Z", "temperature_c": 3.0},
        {"recorded_at": "2026-11-28T11:00:00+08:00", "temperature_c": 3.1},
    ]

    result = store(data_logger, rows)

    assert (result.stored, result.duplicates) == (1, 1)
    assert Reading.objects.get().temperature_c == 3.0  # the first one counts


def test_unknown_fields_are_ignored(data_logger):
    result = store(data_logger, [reading(rssi_dbm=-71, firmware="2.4.1")])

    assert result.stored == 1


def test_a_csv_line_with_too_few_values_is_a_bad_row(data_logger):
    rows = batch_files.parse_csv_batch(
        b"recorded_at,temperature_c,humidity_pct\n"
        + f"{at(10)},3.2,90\n".encode()
        + f"{at(9)},3.3\n".encode()
    )

    with pytest.raises(IngestRejected) as refusal:
        store(data_logger, rows, is_text=True)

    assert refusal.value.errors == [
        {"index": 1, "field": "line", "message": "Line 3 has 2 values; the header names 3."}
    ]


def test_csv_values_are_read_as_numbers_and_blanks_as_missing(data_logger):
    rows = batch_files.parse_csv_batch(
        b"recorded_at,temperature_c,humidity_pct,latitude,longitude,battery_pct\n"
        + f"{at(10)},3.25,,39.9,116.4, 87.6\n".encode()
        + f"{at(9)},abc,,,,\n".encode()
    )

    with pytest.raises(IngestRejected) as refusal:
        store(data_logger, rows, is_text=True)
    assert refusal.value.errors == [
        {"index": 1, "field": "temperature_c", "message": "“abc” is not a number."}
    ]

    result = store(data_logger, rows, is_text=True, accept_partial=True)

    stored = Reading.objects.get()
    assert result.stored == 1
    assert (stored.temperature_c, stored.humidity_pct, stored.battery_pct) == (3.25, None, 88)
    assert (stored.position.x, stored.position.y, stored.position.srid) == (116.4, 39.9, 4326)


# --- storing ----------------------------------------------------------------------------------


def test_readings_are_stored_as_sent(data_logger):
    result = store(
        data_logger,
        [
            reading(
                2,
                temperature_c=3.2,
                humidity_pct=92.5,
                latitude=39.9,
                longitude=116.4,
                battery_pct=88,
            ),
            reading(1, temperature_c=-1),
        ],
    )

    assert result.as_dict() == {
        "received": 2,
        "stored": 2,
        "duplicates": 0,
        "late": 0,
        "rejected": [],
    }
    first, second = Reading.objects.filter(logger=data_logger).order_by("recorded_at")
    assert first.recorded_at == NOW - timedelta(minutes=2)
    assert (first.temperature_c, first.humidity_pct, first.battery_pct) == (3.2, 92.5, 88)
    assert (first.position.x, first.position.y) == (116.4, 39.9)
    assert (second.temperature_c, second.humidity_pct, second.position, second.battery_pct) == (
        -1.0,
        None,
        None,
        None,
    )
    assert second.received_at >= timezone.now() - timedelta(minutes=1)


def test_a_resent_batch_adds_nothing(data_logger):
    rows = [reading(minutes) for minutes in range(50, 0, -1)]
    store(data_logger, rows)

    again = store(data_logger, rows)

    assert (again.received, again.stored, again.duplicates) == (50, 0, 50)
    assert Reading.objects.filter(logger=data_logger).count() == 50


def test_a_late_overlapping_batch_adds_only_what_is_new(data_logger):
    store(data_logger, [reading(minutes) for minutes in range(10, 0, -1)])

    late = store(data_logger, [reading(minutes) for minutes in range(15, 5, -1)])

    assert (late.stored, late.duplicates) == (5, 5)
    assert Reading.objects.filter(logger=data_logger).count() == 15


def test_the_same_moment_from_two_loggers_is_two_readings(data_logger, store_logger):
    store(data_logger, [reading(5)])
    store(store_logger, [reading(5)])

    assert Reading.objects.count() == 2


def test_accept_partial_stores_the_good_rows_and_lists_the_bad(data_logger):
    rows = [reading(3), reading(2, temperature_c=120), reading(1)]

    result = store(data_logger, rows, accept_partial=True)

    assert (result.received, result.stored, result.duplicates) == (3, 2, 0)
    assert result.rejected == [
        {
            "index": 1,
            "field": "temperature_c",
            "message": "120 is outside the plausible range -50 to 70.",
        }
    ]
    assert Reading.objects.filter(logger=data_logger).count() == 2


def test_a_row_for_another_logger_refuses_everything_even_with_accept_partial(data_logger):
    rows = [reading(2, device_id="LOG-0001"), reading(1, device_id="LOG-0002")]

    with pytest.raises(ForeignReadings) as refusal:
        store(data_logger, rows, accept_partial=True)

    assert refusal.value.kind == RefusalKind.FORBIDDEN
    assert str(refusal.value.message) == (
        "Reading 1 is for logger “LOG-0002”; logger “LOG-0001” may only send its own "
        "readings. Nothing was stored."
    )
    assert not Reading.objects.exists()


@override_settings(COLDCHAIN_MAX_BATCH_READINGS=3)
def test_a_batch_over_the_limit_is_refused_whole(data_logger):
    with pytest.raises(BatchTooLarge) as refusal:
        store(data_logger, [reading(minutes) for minutes in range(4)])

    assert refusal.value.kind == RefusalKind.TOO_LARGE
    assert str(refusal.value.message) == (
        "A batch holds at most 3 readings; this one has 4. Send it in parts."
    )
    assert not Reading.objects.exists()


def test_monitoring_gets_only_the_new_readings_in_time_order(data_logger, monkeypatch):
    # The hand-over to monitoring is a contract between two modules: record what crosses it.
    handed: list[tuple[int, list[ReadingIn]]] = []
    monkeypatch.setattr(
        ingest,
        "judge_readings",
        lambda *, logger_id, readings: handed.append((logger_id, readings)),
    )
    store(data_logger, [reading(3)])

    store(
        data_logger,
        [reading(1, latitude=39.9, longitude=116.4, battery_pct=80), reading(3), reading(2)],
    )
    store(data_logger, [reading(3)])  # nothing new: monitoring is not bothered

    assert handed[1:] == [
        (
            data_logger.pk,
            [
                ReadingIn(NOW - timedelta(minutes=2), 3.2),
                ReadingIn(NOW - timedelta(minutes=1), 3.2, None, 116.4, 39.9, 80),
            ],
        )
    ]
