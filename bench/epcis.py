"""bench/epcis: one lot's whole journey exported as one EPCIS 2.0 document, through the real
export path, against a plain SQL json_build_object over the same rows as the raw limit.

The data is bench/tracing's lot TRACE-MAIN (bench/tracing/data.py), in a database of its own
(BENCH_EPCIS_DATABASE_URL, freshchain_bench_epcis by default), built once and reused: 9,680
marketplace order lines, 20,000 counter trades, 100 cold legs, 17,808 warehouse receipts
into 200 warehouses and 70,000 consumer picks (of packed, delivered orders), around 2,000
other lots. As EPCIS, 257,689 events: the harvest, one per order line, trade and receipt, two
per leg (shipping, and receiving with its temperature), three per pick (the sale, the
packing into the order's parcel, the delivery).

Timed, interleaved, after a warm-up (BENCH_EPCIS_RUNS, 5 each):
- export: GET /trace/lots/<id>/epcis.jsonld as the platform admin, through Django's test
  client: the view, traceability.epcis.journey.events_of_lot (the lot's trail read as
  tuples, the legs' temperature summaries), the document and its bytes (orjson);
- raw: on a plain psycopg connection, one statement building each event of the same rows (the
  trail's, and the picks' packing and delivery from their orders) with json_build_object
  (type, time, ID, action, step, disposition, quantity with its class and unit, location) as
  text, fetched, and the texts joined into the document's bytes.
events_per_s = events / export p50; raw_events_per_s = events / raw p50; ratio = their
quotient (target ≥ 0.3). A cProfile of one export run follows, to show where the time goes.
"""

import cProfile
import io
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_EPCIS_DATABASE_URL",
    "postgis://freshchain:freshchain@127.0.0.1:5432/freshchain_bench_epcis",
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.choices import Role  # noqa: E402
from accounts.consents import needs_consent  # noqa: E402
from accounts.models import User  # noqa: E402
from accounts.services.signup import give_consent  # noqa: E402
from bench.support import ensure_database, percentile, report  # noqa: E402

RUNS = int(os.environ.get("BENCH_EPCIS_RUNS", "5"))
WARMUP = 1
TARGET_RATIO = 0.3

# The same rows the export reads (traceability.epcis.forward.FORWARD_SQL), each made an
# event by PostgreSQL alone.
RAW_SQL = """
SELECT json_build_object(
         'type', 'ObjectEvent',
         'eventTime', to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'eventTimeZoneOffset', '+08:00',
         'eventID', %(site)s::text || '/epcis/events/' || e.kind || '/' || e.source_id,
         'action', 'OBSERVE',
         'bizStep', CASE e.kind WHEN 7 THEN 'retail_selling' WHEN 6 THEN 'receiving'
                                WHEN 4 THEN 'shipping' WHEN 8 THEN 'packing'
                                WHEN 9 THEN 'arriving' ELSE 'accepting' END,
         'disposition', CASE e.kind WHEN 7 THEN 'retail_sold' WHEN 4 THEN 'in_transit'
                                    ELSE 'sellable_accessible' END,
         'epcList', json_build_array(),
         'quantityList', json_build_array(json_build_object(
             'epcClass', %(lot_class)s::text, 'quantity', e.quantity_kg, 'uom', 'KGM')),
         'bizLocation', json_build_object(
             'id', %(site)s::text || '/epcis/locations/' || e.place))::text
  FROM (SELECT step AS kind, source_id, at, quantity_kg,
               coalesce(market_id, holder_id, parent_id) AS place
          FROM traceability_lottrail
         WHERE lot_id = %(lot)s AND step > 1 AND step <> 5  -- a stock lot is no event
        UNION ALL  -- each consumer order's packing and delivery, per pick
        SELECT k.kind, t.source_id,
               CASE k.kind WHEN 8 THEN o.packed_at ELSE o.delivered_at END, t.quantity_kg,
               t.parent_id
          FROM traceability_lottrail t
          CROSS JOIN (VALUES (8), (9)) AS k(kind)
          JOIN delivery_deliveryorderline l ON l.id = t.record_id
          JOIN delivery_deliveryorder o ON o.id = l.order_id
         WHERE t.lot_id = %(lot)s AND t.step = 7
           AND CASE k.kind WHEN 8 THEN o.packed_at ELSE o.delivered_at END IS NOT NULL) e
 ORDER BY e.at, e.kind, e.source_id
"""


def prepare() -> None:
    ensure_database()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=os.environ.copy(),
        check=True,
    )


def _connect() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"] or 5432,
        autocommit=True,
    )


def _key_of(event: dict) -> tuple[str, str]:
    """The (time key, eventID) a page token carries, of an exported event."""
    from datetime import datetime

    from traceability.epcis.events import time_key

    moment = datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00"))
    return time_key(moment), event["eventID"]


def admin_client() -> Client:
    admin, _created = User.objects.get_or_create(
        username="bench-epcis-admin", defaults={"role": Role.ADMIN}
    )
    if needs_consent(admin):
        give_consent(user=admin, address="127.0.0.1")
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    return client


def main() -> None:
    prepare()
    from bench.tracing.data import Scale, build
    from traceability.epcis.events import lot_epc_class

    lot = build(Scale())
    client = admin_client()
    url = reverse("traceability:lot_epcis", args=[lot.pk])
    raw_connection = _connect()
    raw_connection.execute("VACUUM ANALYZE traceability_lottrail")
    params = {"lot": lot.pk, "site": settings.SITE_URL, "lot_class": lot_epc_class(lot)}

    def export() -> bytes:
        answer = client.get(url)
        assert answer.status_code == 200, answer.status_code
        return answer.content

    def raw() -> bytes:
        with raw_connection.cursor() as cursor:
            cursor.execute(RAW_SQL, params)
            texts = [row[0] for row in cursor.fetchall()]
        return b'{"eventList":[' + ",".join(texts).encode() + b"]}"

    import orjson

    document = orjson.loads(export())
    events = len(document["epcisBody"]["eventList"])
    raw_events = raw().count(b'"eventID"')
    print(f"lot {lot.lot_code}: {events} events exported ({raw_events} rows in the raw SQL)")

    timings: dict[str, list[float]] = {"export": [], "raw": []}
    for n in range(WARMUP + RUNS):
        for name, run in (("export", export), ("raw", raw)):
            started = time.perf_counter()
            run()
            if n >= WARMUP:
                timings[name].append(time.perf_counter() - started)
    for name, samples in timings.items():
        print(
            f"{name:7s} p50 {percentile(samples, 50) * 1000:8.0f} ms   "
            f"max {max(samples) * 1000:8.0f} ms   ({len(samples)} runs)"
        )

    # A query's page over the same lot (not a target): the first page, and one deep in.
    from urllib.parse import urlencode

    from traceability.epcis.query import page_token

    middle = document["epcisBody"]["eventList"][events // 2]
    page_url = "/epcis/events?" + urlencode({"perPage": 500, "MATCH_epcClass": params["lot_class"]})
    deep_url = page_url + "&" + urlencode({"nextPageToken": page_token(_key_of(middle))})
    pages: dict[str, list[float]] = {"first": [], "deep": []}
    for _n in range(3):
        for name, page in (("first", page_url), ("deep", deep_url)):
            started = time.perf_counter()
            answer = client.get(page)
            pages[name].append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.content[:500]
    print(
        f"a query's page of 500: first {percentile(pages['first'], 50) * 1000:.0f} ms, "
        f"from the middle of the lot {percentile(pages['deep'], 50) * 1000:.0f} ms"
    )

    profiler = cProfile.Profile()
    profiler.enable()
    export()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    print("one export, by time in each function:")
    print("\n".join(out.getvalue().splitlines()[:40]))

    events_per_s = events / percentile(timings["export"], 50)
    raw_events_per_s = raw_events / percentile(timings["raw"], 50)
    ratio = events_per_s / raw_events_per_s
    print(f"ratio {ratio:.2f} (target ≥ {TARGET_RATIO})")
    raw_connection.close()
    report(
        "epcis",
        events_per_s=round(events_per_s),
        raw_events_per_s=round(raw_events_per_s),
        ratio=round(ratio, 2),
        events=events,
        export_p50_ms=round(percentile(timings["export"], 50) * 1000),
        raw_p50_ms=round(percentile(timings["raw"], 50) * 1000),
        query_page_p50_ms=round(percentile(pages["first"], 50) * 1000),
        query_deep_page_p50_ms=round(percentile(pages["deep"], 50) * 1000),
    )


if __name__ == "__main__":
    main()
