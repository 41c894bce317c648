"""The API, the health check, metrics and static files, through nginx in front of two web
processes that reach PostgreSQL only through PgBouncer (transaction mode)."""

import uuid

import requests

URL = "http://127.0.0.1:8080"  # nginx (scripts/cluster.py)


def a_listing_of(seller_id: int, buyer) -> dict:
    listings = buyer.get(f"{URL}/api/listings/", params={"page_size": 100}, timeout=10).json()
    return next(each for each in listings["results"] if each["seller"] == seller_id)


def test_a_buyer_orders_through_the_api_and_a_retry_places_it_once(ops):
    buyer, farmer = ops.api("buyer"), ops.api("farmer")
    farmer_id = farmer.get(f"{URL}/api/me/", timeout=10).json()["id"]
    listing = a_listing_of(farmer_id, buyer)
    key = uuid.uuid4().hex
    order = {"lines": [{"listing_id": listing["id"], "quantity_kg": listing["minimum_order_kg"]}]}

    first = buyer.post(f"{URL}/api/orders/", json=order, headers={"Idempotency-Key": key})
    retry = buyer.post(f"{URL}/api/orders/", json=order, headers={"Idempotency-Key": key})

    assert first.status_code == 201, first.text
    assert retry.json()["id"] == first.json()["id"]
    selling = farmer.get(f"{URL}/api/orders/", params={"side": "selling", "page_size": 100})
    assert first.json()["id"] in [each["id"] for each in selling.json()["results"]]
    ops.log(f"order {first.json()['id']} placed through nginx, retried once, stored once")


def test_health_reaches_database_redis_and_a_realtime_worker_through_nginx(ops):
    answer = requests.get(f"{URL}/healthz", timeout=30)

    assert answer.status_code == 200
    assert answer.json()["status"] == "up"


def test_metrics_need_the_token_and_add_up_every_process(ops):
    without = requests.get(f"{URL}/metrics", timeout=10)
    answer = requests.get(
        f"{URL}/metrics",
        headers={"Authorization": f"Bearer {ops.cluster.METRICS_TOKEN}"},
        timeout=10,
    )

    assert without.status_code == 401
    assert answer.status_code == 200
    assert "freshchain_orders_placed_total" in answer.text
    assert 'freshchain_task_queue_length{queue="realtime"}' in answer.text
    assert 'freshchain_task_queue_length{queue="batch"}' in answer.text


def test_nginx_serves_the_static_files_for_a_year_and_passes_request_ids(ops):
    page = requests.get(f"{URL}/sign-in/", headers={"X-Request-ID": "cluster-test-1"}, timeout=10)
    stylesheet = page.text.split('href="/static/css/app.', 1)[1].split('"', 1)[0]
    static = requests.get(f"{URL}/static/css/app.{stylesheet}", timeout=10)

    assert page.headers["X-Request-ID"] == "cluster-test-1"
    assert static.status_code == 200
    assert static.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert static.headers["Server"].startswith("nginx")


def test_a_private_file_is_sent_by_nginx_once_the_app_has_checked_who_asks(ops, database):
    """The app answers with X-Accel-Redirect and no body; nginx sends the file from /_private/."""
    [application, name] = database.execute(
        "SELECT id, licence FROM farms_cooperativeapplication WHERE licence <> '' LIMIT 1"
    ).fetchone()
    admin = ops.session_cookie("admin", URL)
    page = f"{URL}/cooperatives/applications/{application}/licence/"

    licence = requests.get(page, headers={"Cookie": f"sessionid={admin}"}, timeout=10)
    direct = requests.get(f"{URL}/_private/{name}", timeout=10)

    stored = (ops.cluster.VAR / "private" / name).read_bytes()
    assert licence.status_code == 200
    assert licence.content == stored
    assert "X-Accel-Redirect" not in licence.headers
    assert direct.status_code == 404
