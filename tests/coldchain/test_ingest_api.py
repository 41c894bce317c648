"""Loggers post readings over HTTP: `POST /api/coldchain/readings/` with
`Authorization: Device <device_id>:<secret>`, JSON or CSV. Every refusal says precisely what is
wrong and stores nothing."""

import json
import re
import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coldchain.models import DataLogger, Reading
from coldchain.services.registry import register_logger

URL = "/api/coldchain/readings/"
CSV_HEADER = "recorded_at,temperature_c,humidity_pct,latitude,longitude,battery_pct\n"


@pytest.fixture
def client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def post(client, shipment_logger, logger_secret):
    """post(body) as LOG-0001 (watching `shipment`); a dict is sent as JSON, a str as is."""

    def send(body, *, content_type="application/json", device="LOG-0001", secret=None, query=""):
        secret = logger_secret if secret is None else secret
        if isinstance(body, dict):
            body = json.dumps(body)
        return client.post(
            URL + query,
            body,
            content_type=content_type,
            headers={"Authorization": f"Device {device}:{secret}"},
        )

    return send


_test_started = {"at": timezone.now()}


@pytest.fixture(autouse=True)
def _now_of_this_test():
    # One "now" per test: a slow request must not turn a re-sent reading into a new one.
    _test_started["at"] = timezone.now().replace(microsecond=0)


def reading(minutes_ago: float, temperature_c: float = 3.2, **fields) -> dict:
    """A reading `minutes_ago` before the test began (the shipment has been watched for three
    hours)."""
    moment = _test_started["at"] - timedelta(minutes=minutes_ago)
    return {"recorded_at": moment.isoformat(), "temperature_c": temperature_c, **fields}


def stored_count() -> int:
    return Reading.objects.count()


# --- what a logger sends ----------------------------------------------------------------------


def test_logger_posts_a_json_batch_and_it_is_stored(post, shipment_logger):
    rows = [
        reading(2, humidity_pct=92.5, latitude=39.9, longitude=116.4, battery_pct=88),
        reading(1, temperature_c=3.4, device_id="LOG-0001"),
    ]

    response = post({"readings": rows})

    assert response.status_code == 201
    assert response.json() == {
        "received": 2,
        "stored": 2,
        "duplicates": 0,
        "late": 0,
        "rejected": [],
    }
    first, second = Reading.objects.filter(logger=shipment_logger).order_by("recorded_at")
    assert (first.temperature_c, first.humidity_pct, first.battery_pct) == (3.2, 92.5, 88)
    assert (first.position.x, first.position.y) == (116.4, 39.9)
    assert second.temperature_c == 3.4


def test_logger_uploads_a_csv_body(post):
    lines = [CSV_HEADER]
    lines += [f"{reading(m)['recorded_at']},3.{m},91,39.9,116.4,77\n" for m in range(5, 0, -1)]

    response = post("".join(lines), content_type="text/csv")

    assert response.status_code == 201
    assert response.json()["stored"] == 5
    assert sorted(Reading.objects.values_list("temperature_c", flat=True)) == [
        3.1,
        3.2,
        3.3,
        3.4,
        3.5,
    ]


def test_logger_uploads_a_csv_file_in_a_form(client, shipment_logger, logger_secret):
    content = (CSV_HEADER + f"{reading(3)['recorded_at']},2.5,,,,\n").encode()

    response = client.post(
        URL + "?accept_partial=false",
        {"file": SimpleUploadedFile("LOG-0001.csv", content, content_type="text/csv")},
        headers={"Authorization": f"Device LOG-0001:{logger_secret}"},
    )

    assert response.status_code == 201
    assert Reading.objects.get().temperature_c == 2.5


def test_a_gbk_csv_is_read_when_the_body_says_so(post):
    body = "recorded_at,temperature_c,备注\n" + f"{reading(3)['recorded_at']},2.5,冷库门开\n"

    # The test client encodes a str body in the charset the content type names.
    response = post(body, content_type="text/csv; charset=gbk")

    assert response.status_code == 201


def test_resending_a_batch_stores_nothing_new(post):
    batch = {"readings": [reading(m) for m in range(30, 0, -1)]}
    assert post(batch).status_code == 201

    response = post(batch)

    assert response.status_code == 200
    assert response.json() == {
        "received": 30,
        "stored": 0,
        "duplicates": 30,
        "late": 0,
        "rejected": [],
    }
    assert stored_count() == 30


def test_out_of_order_and_late_batches_are_accepted(post):
    assert post({"readings": [reading(m) for m in (10, 12, 11)]}).status_code == 201

    late = post({"readings": [reading(m) for m in (60, 12, 45)]})

    assert late.status_code == 201
    # 60 and 45 minutes old: later than the shipment's 15 minutes of patience, flagged late.
    assert late.json() == {
        "received": 3,
        "stored": 2,
        "duplicates": 1,
        "late": 2,
        "rejected": [],
    }
    assert stored_count() == 5


def test_accept_partial_stores_the_good_rows_and_lists_the_bad_ones(post):
    rows = [reading(3), reading(2, humidity_pct=140), reading(1), {"temperature_c": 3}]

    response = post({"readings": rows, "accept_partial": True})

    assert response.status_code == 201
    assert response.json() == {
        "received": 4,
        "stored": 2,
        "duplicates": 0,
        "late": 0,
        "rejected": [
            {
                "index": 1,
                "field": "humidity_pct",
                "message": "140 is outside the plausible range 0 to 100.",
            },
            {"index": 3, "field": "recorded_at", "message": "Every reading needs this value."},
        ],
    }
    assert stored_count() == 2


def test_accept_partial_works_for_csv_in_the_query(post):
    body = CSV_HEADER + f"{reading(2)['recorded_at']},3,,,,\n" + "2026-11-28T04:00:00,3,,,,\n"

    response = post(body, content_type="text/csv", query="?accept_partial=true")

    assert response.status_code == 201
    assert response.json()["rejected"][0]["index"] == 1
    assert stored_count() == 1


def test_a_1000_reading_batch_is_one_insert(post, django_assert_max_num_queries):
    batch = {"readings": [reading(m / 10) for m in range(1000, 0, -1)]}

    # Device sign-in and one INSERT; the rest is monitoring's (a few statements per batch,
    # never one per reading).
    with (
        django_assert_max_num_queries(12),
        CaptureQueriesContext(connection) as queries,
    ):
        response = post(batch)

    assert response.status_code == 201
    assert response.json()["stored"] == 1000
    inserts = [q["sql"] for q in queries if "INSERT INTO coldchain_reading" in q["sql"]]
    assert len(inserts) == 1
    assert stored_count() == 1000


# --- who may post ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("Device LOG-9999:whatever", "Unknown logger or wrong secret."),
        ("Device LOG-0001:not-the-secret", "Unknown logger or wrong secret."),
        (
            "Device LOG-0001",
            "Malformed logger credentials; send Authorization: Device <device_id>:<secret>.",
        ),
        (
            None,
            "Readings are posted by loggers: send Authorization: Device <device_id>:<secret>.",
        ),
        (
            "Token 0123456789abcdef",
            "Readings are posted by loggers: send Authorization: Device <device_id>:<secret>.",
        ),
    ],
)
def test_unknown_logger_or_wrong_secret_is_401_and_stores_nothing(
    client, shipment_logger, authorization, message
):
    headers = {"Authorization": authorization} if authorization else {}

    response = client.post(
        URL, {"readings": [reading(1)]}, content_type="application/json", headers=headers
    )

    assert response.status_code == 401
    assert response.json() == {"detail": message}
    assert response.headers["WWW-Authenticate"] == 'Device realm="loggers"'
    assert stored_count() == 0


def test_an_unknown_logger_and_a_wrong_secret_get_the_same_answer(client, shipment_logger):
    answers = [
        client.post(
            URL,
            {"readings": [reading(1)]},
            content_type="application/json",
            headers={"Authorization": f"Device {device}:not-the-secret"},
        )
        for device in ("LOG-0001", "LOG-9999")
    ]

    known, unknown = answers
    assert (known.status_code, unknown.status_code) == (401, 401)
    assert known.content == unknown.content
    assert known.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"]
    assert "LOG-" not in unknown.content.decode()
    assert stored_count() == 0


def test_a_switched_off_logger_is_401(post, shipment_logger):
    DataLogger.objects.filter(pk=shipment_logger.pk).update(is_active=False)

    response = post({"readings": [reading(1)]})

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Logger “LOG-0001” is switched off; a controller can switch it on again."
    }
    assert stored_count() == 0


def test_a_device_id_with_colons_signs_in(client, db, logger_secret):
    register_logger(device_id="gw:04:a1", secret=logger_secret)

    response = client.post(
        URL,
        {"readings": [reading(1)]},
        content_type="application/json",
        headers={"Authorization": f"Device gw:04:a1:{logger_secret}"},
    )

    assert response.status_code == 201


def test_a_signed_in_user_cannot_post_readings(client, shipment_logger, coldchain_controller):
    client.force_login(coldchain_controller)

    response = client.post(URL, {"readings": [reading(1)]}, content_type="application/json")

    assert response.status_code == 401
    assert stored_count() == 0


def test_a_logger_writing_for_another_is_403_and_stores_nothing(post, store_logger):
    rows = [reading(2), reading(1, device_id="LOG-STORE-1")]

    response = post({"readings": rows, "accept_partial": True})

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Reading 1 is for logger “LOG-STORE-1”; logger “LOG-0001” may only send "
        "its own readings. Nothing was stored."
    }
    assert stored_count() == 0


def test_a_logger_reads_nothing(client, shipment_logger, logger_secret, shipment):
    headers = {"Authorization": f"Device LOG-0001:{logger_secret}"}

    assert client.get(URL, headers=headers).status_code == 405
    assert client.get("/api/me/", headers=headers).status_code == 401
    assert client.get("/api/coldchain/screen/", headers=headers).status_code == 401
    assert (
        client.get(f"/api/coldchain/shipments/{shipment.pk}/readings/", headers=headers).status_code
        == 401
    )


# --- bad input ---------------------------------------------------------------------------------


def test_malformed_json_is_400_with_where(post):
    response = post(
        '{"readings": [{"recorded_at": "2026-11-28T04:00:00+00:00", "temperature_c": 3.2,}]}'
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("The body is not valid JSON: ")
    assert "(line 1, column " in response.json()["detail"]
    assert stored_count() == 0


def test_malformed_csv_is_400_with_where(post):
    body = CSV_HEADER + f'{reading(2)["recorded_at"]},"3.2,,,,\n'

    response = post(body, content_type="text/csv")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The CSV file is malformed at line 2: unexpected end of data."
    }
    assert stored_count() == 0


def test_a_csv_without_the_required_columns_is_400(post):
    response = post("time,temp\n2026-11-28T04:00:00+00:00,3\n", content_type="text/csv")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The CSV header lacks recorded_at, temperature_c; it names time, temp."
    }


def test_a_form_without_the_file_is_400(client, shipment_logger, logger_secret):
    response = client.post(
        URL, {"other": "x"}, headers={"Authorization": f"Device LOG-0001:{logger_secret}"}
    )

    assert response.status_code == 400
    assert response.json() == {"file": ["Attach the logger's CSV file in the form field “file”."]}


def test_another_content_type_is_415(post):
    response = post("<readings/>", content_type="application/xml")

    assert response.status_code == 415
    assert response.json() == {
        "detail": "Send readings as JSON (application/json), as CSV (text/csv) or as a CSV "
        "file in the multipart field “file”; not “application/xml”."
    }


def test_a_body_without_a_content_type_is_415(client, shipment_logger, logger_secret):
    response = client.generic(
        "POST",
        URL,
        b'{"readings": []}',
        content_type="",
        headers={"Authorization": f"Device LOG-0001:{logger_secret}"},
    )

    assert response.status_code == 415
    assert response.json() == {
        "detail": "Say what the body is: Content-Type application/json, text/csv or "
        "multipart/form-data."
    }


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (
            reading(1, temperature_c=80.5),
            "temperature_c",
            "80.5 is outside the plausible range -50 to 70.",
        ),
        (
            reading(1, humidity_pct=-3),
            "humidity_pct",
            "-3 is outside the plausible range 0 to 100.",
        ),
        (
            reading(1, latitude=39.9, longitude=216.4),
            "longitude",
            "216.4 is outside the plausible range -180 to 180.",
        ),
        (
            reading(1, battery_pct=180),
            "battery_pct",
            "180 is outside the plausible range 0 to 100.",
        ),
        (
            reading(-60),
            "recorded_at",
            "This time is 3600 seconds ahead of the server's clock (at most 300 allowed); check "
            "the logger's clock.",
        ),
        (
            {"recorded_at": "2026-11-28T04:00:00", "temperature_c": 3},
            "recorded_at",
            "“2026-11-28T04:00:00” has no UTC offset; add one, e.g. 2026-11-28T04:00:00+00:00, "
            "so the time is not guessed.",
        ),
    ],
    ids=["temperature", "humidity", "longitude", "battery", "far future", "naive time"],
)
def test_a_bad_row_is_400_with_its_index_field_and_message(post, row, field, message):
    response = post({"readings": [reading(3), reading(2), row]})

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "1 of 3 readings are not valid; nothing was stored."
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert (error["index"], error["field"]) == (2, field)
    # The future's distance is counted from the server's clock as the request arrives.
    assert error["message"].split(" seconds")[-1] == message.split(" seconds")[-1]
    assert stored_count() == 0


def test_a_batch_over_the_limit_is_413(post):
    start = timezone.now() - timedelta(days=1)
    rows = [
        {"recorded_at": (start + timedelta(seconds=s)).isoformat(), "temperature_c": 3}
        for s in range(10_001)
    ]

    response = post({"readings": rows})

    assert response.status_code == 413
    assert response.json() == {
        "detail": "A batch holds at most 10000 readings; this one has 10001. Send it in parts."
    }
    assert stored_count() == 0


@override_settings(COLDCHAIN_MAX_BATCH_READINGS=10)
def test_a_body_too_big_for_any_batch_is_413_before_it_is_read(post):
    response = post("x" * 5000, content_type="text/csv")

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The body has 5000 bytes; a batch holds at most 10 readings and 4000 bytes. "
        "Send it in parts."
    }


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_batches_at_once_store_each_reading_once(shipment_logger, logger_secret):
    """A gateway's retry can race its first attempt, rows in another order: neither fails
    (no deadlock) and every reading is stored once."""
    rows = [reading(m / 10) for m in range(600, 0, -1)]
    bodies = [json.dumps({"readings": rows}), json.dumps({"readings": rows[::-1]})]
    start = threading.Barrier(2)
    answers = []

    def send(body):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        start.wait()
        answers.append(
            client.post(
                URL,
                body,
                content_type="application/json",
                headers={"Authorization": f"Device LOG-0001:{logger_secret}"},
            )
        )
        connections.close_all()

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answer.status_code for answer in answers) in ([200, 201], [201, 201])
    assert sum(answer.json()["stored"] for answer in answers) == 600
    assert stored_count() == 600


# --- faults ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ingest_stores_readings_while_redis_is_down(post):
    closed_port = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    rows = [reading(m, temperature_c=9.5) for m in range(40, 0, -1)]  # too warm: an excursion

    with override_settings(CHANNEL_LAYERS=closed_port):
        response = post({"readings": rows})

    assert response.status_code == 201
    assert response.json()["stored"] == 40
    assert stored_count() == 40


# --- the indexes -------------------------------------------------------------------------------


def test_explain_readings_shows_both_plans_and_leaves_nothing(db, capsys):
    call_command("explain_readings", "--sample", "20000", "--hours", "1")

    output = capsys.readouterr().out
    assert "1. History of shipment EXPLAIN-SAMPLE (subject_readings)" in output
    # The key of the month the sample falls in (the table is partitioned by month).
    assert re.search(r"coldchain_reading_\d{4}_\d{2}_pkey", output)
    assert "2. Every logger's readings from " in output
    assert output.count("Execution Time:") == 2
    assert not Reading.objects.exists()
    assert not DataLogger.objects.filter(device_id__startswith="EXPLAIN-SAMPLE").exists()
