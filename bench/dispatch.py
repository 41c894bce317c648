"""bench/dispatch: a stream of packed orders dispatched among 100,000 couriers in one city.

- 100,000 couriers over Beijing (116.15–116.65 E, 39.75–40.10 N; two in three clustered round
  the busy districts, the rest anywhere): 85 % on shift, capacity 2–4, one in twenty already
  carrying one or two orders; 24 front warehouses. The courier users are written with one
  INSERT … SELECT over generate_series, the couriers with COPY.
- A stream of 1,000 packed orders (each within 3 km of a random warehouse, promised in 30
  minutes), one after another. Each is dispatched with
  `delivery.services.dispatch.dispatch_order`, the function the Celery task calls: the order's
  lock, the batching check, the task, the KNN candidate query, the scoring, the chosen
  courier's row lock, the offer, the commit and its after-commit effects. Timed per order.
- The couriers answer as they would: an offer is accepted (accept_offer, untimed) once 20
  newer orders have arrived, and a task is delivered (the courier then stands at the last
  door, free again) 50 orders after it was accepted; so about 20 offers are pending at any
  time, and some orders join a task already offered (batching).
- Beside it, interleaved in the same run, 300 more orders are dispatched with the same code
  but a brute-force candidate search (`EveryCourier` below): every courier's distance with
  ST_Distance and no index, a sequential scan, then the same filters and the same scoring.
- After-commit effects run for real but stay in the process: the offers' countdown messages
  go to Celery's in-memory broker (memory://: no Redis, no worker), the live pushes to
  Channels' in-memory layer (nobody listens here; bench/ingest measures pushes over Redis).

Target: p95 under 20 ms per order.
"""

import math
import os
import random
import sys
import time
from collections import deque
from datetime import timedelta
from pathlib import Path

# The countdown messages must not reach a real broker: nothing would consume them there.
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ["CELERY_RESULT_BACKEND"] = "cache+memory://"

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.conf import settings  # noqa: E402

# The live pushes stay in the process too (Channels' in-memory layer): nobody listens here.
settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

from datetime import time as clock  # noqa: E402

from django.contrib.gis.geos import Point, Polygon  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from djmoney.money import Money  # noqa: E402

from accounts.choices import Role  # noqa: E402
from accounts.models import User  # noqa: E402
from bench.baselines.every_courier import EVERY_COURIER_SQL, EveryCourier  # noqa: E402
from bench.support import percentile, report  # noqa: E402
from coldchain.choices import SiteKind  # noqa: E402
from coldchain.models import Site  # noqa: E402
from common import geo  # noqa: E402
from delivery import ranking  # noqa: E402
from delivery.exceptions import DispatchError  # noqa: E402
from delivery.models import (  # noqa: E402
    Courier,
    CourierStatus,
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    FrontWarehouse,
    OfferStatus,
    TaskOffer,
)
from delivery.rules import current_rules  # noqa: E402
from delivery.services import dispatch, offers  # noqa: E402

COURIERS = 100_000
ORDERS = int(os.environ.get("BENCH_DISPATCH_ORDERS", "1000"))
BASELINE_ORDERS = int(os.environ.get("BENCH_DISPATCH_BASELINE_ORDERS", "300"))
WARMUP = 20
WAREHOUSES = 24
ON_SHIFT = 0.85
CARRYING = 0.05
ORDER_RADIUS_KM = 3.0
ANSWER_AFTER = 20  # orders
DELIVER_AFTER = 50  # orders
SEED = 20261128
CITY = (116.15, 39.75, 116.65, 40.10)  # west, south, east, north
# Busy districts the couriers cluster round (longitude, latitude, spread in degrees).
HOTSPOTS = [
    (116.46, 39.92, 0.03),  # 国贸 / CBD
    (116.31, 39.98, 0.03),  # 中关村
    (116.40, 39.91, 0.03),  # 东城 / 西城
    (116.48, 40.00, 0.03),  # 望京
    (116.36, 39.86, 0.03),  # 丰台
    (116.55, 39.90, 0.03),  # 朝阳东 / 通州方向
]
USER_PREFIX = "bench.courier."
CONSUMER = "bench.dispatch.consumer"


def _courier_point(rng: random.Random) -> tuple[float, float]:
    west, south, east, north = CITY
    if rng.random() < 2 / 3:
        lon, lat, spread = rng.choice(HOTSPOTS)
        return (
            min(east, max(west, rng.gauss(lon, spread))),
            min(north, max(south, rng.gauss(lat, spread))),
        )
    return (rng.uniform(west, east), rng.uniform(south, north))


# The previous run's rows, children first: the status history points at offers, tasks and
# orders; offers at tasks.
_TASKS = "SELECT id FROM delivery_deliverytask WHERE warehouse_id = ANY(%(warehouses)s)"
_CLEAR_PREVIOUS_RUN = (
    "DELETE FROM delivery_taskofferevent WHERE offer_id IN"
    f" (SELECT id FROM delivery_taskoffer WHERE task_id IN ({_TASKS}))",
    f"DELETE FROM delivery_deliverytaskevent WHERE task_id IN ({_TASKS})",
    "DELETE FROM delivery_deliveryorderevent WHERE order_id IN"
    " (SELECT id FROM delivery_deliveryorder WHERE consumer_id = %(consumer)s)",
    f"DELETE FROM delivery_taskoffer WHERE task_id IN ({_TASKS})",
    "DELETE FROM delivery_deliveryorder WHERE consumer_id = %(consumer)s",
    "DELETE FROM delivery_deliverytask WHERE warehouse_id = ANY(%(warehouses)s)",
    "DELETE FROM delivery_courier WHERE user_id IN"
    " (SELECT id FROM accounts_user WHERE username LIKE %(couriers)s)",
)


def _clear_previous_run(consumer: User, warehouses: list[FrontWarehouse]) -> None:
    parameters = {
        "consumer": consumer.pk,
        "warehouses": [w.pk for w in warehouses],
        "couriers": USER_PREFIX + "%",
    }
    with connection.cursor() as cursor:
        for statement in _CLEAR_PREVIOUS_RUN:
            cursor.execute(statement, parameters)


def build_warehouses() -> list[FrontWarehouse]:
    west, south, east, north = CITY
    warehouses = []
    for n in range(WAREHOUSES):
        lon = west + 0.05 + (n % 6) * (east - west - 0.1) / 5
        lat = south + 0.05 + (n // 6) * (north - south - 0.1) / 3
        site, _ = Site.objects.get_or_create(
            name=f"BENCH 前置仓 {n}",
            defaults={"kind": SiteKind.FRONT_WAREHOUSE, "location": Point(lon, lat, srid=4326)},
        )
        zone = Polygon.from_bbox((lon - 0.04, lat - 0.04, lon + 0.04, lat + 0.04))
        zone.srid = 4326
        warehouse, _ = FrontWarehouse.objects.get_or_create(
            code=f"bench-{n}",
            defaults={
                "name": f"BENCH 前置仓 {n}",
                "site": site,
                "delivery_zone": zone,
                "opens_at": clock(0),
                "closes_at": clock(23, 59),
            },
        )
        warehouses.append(warehouse)
    return warehouses


def build_couriers(rng: random.Random) -> None:
    """100,000 courier users (kept between runs) and their couriers (written afresh)."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,
                                       email, is_staff, is_active, date_joined, role,
                                       display_name, weight_unit, must_change_password,
                                       large_text)
            SELECT '!', false, %(prefix)s || n, '', '', '', false, true, now(), %(role)s,
                   '骑手 ' || n, 'kg', false, false
              FROM generate_series(1, %(count)s) AS n
            ON CONFLICT (username) DO NOTHING
            """,
            {"prefix": USER_PREFIX, "role": Role.COURIER, "count": COURIERS},
        )
        cursor.execute(
            "SELECT id FROM accounts_user WHERE username LIKE %s ORDER BY id",
            [USER_PREFIX + "%"],
        )
        user_ids = [row[0] for row in cursor.fetchall()]
        now = timezone.now()
        with cursor.cursor.copy(
            "COPY delivery_courier (created_at, updated_at, user_id, is_on_shift, capacity,"
            " position, position_at, shift_started_at, status, vehicle_type) FROM STDIN"
        ) as copy:
            for user_id in user_ids:
                lon, lat = _courier_point(rng)
                on_shift = rng.random() < ON_SHIFT
                copy.write_row(
                    (
                        now,
                        now,
                        user_id,
                        on_shift,
                        rng.choice((2, 3, 3, 4)),
                        f"SRID=4326;POINT({lon:.6f} {lat:.6f})",
                        now,
                        now if on_shift else None,
                        CourierStatus.ACTIVE,
                        "",
                    )
                )
    print(f"built {len(user_ids)} couriers in {time.perf_counter() - started:.1f} s", flush=True)


def _order(
    number: str, consumer: User, warehouse: FrontWarehouse, rng, *, status, now
) -> DeliveryOrder:
    origin = warehouse.site.location
    distance_m = ORDER_RADIUS_KM * 1000 * math.sqrt(rng.random())
    lon, lat = geo.point_at((origin.x, origin.y), metres=distance_m, bearing=rng.uniform(0, 360))
    return DeliveryOrder(
        number=number,
        consumer=consumer,
        warehouse=warehouse,
        address="北京市 测试路",
        location=Point(lon, lat, srid=4326),
        status=status,
        total=Money("38.00", "CNY"),
        placed_at=now - timedelta(minutes=4),
        promised_by=now + timedelta(minutes=30),
        packed_at=now,
        assigned_at=now if status == DeliveryOrderStatus.ASSIGNED else None,
        delivery_code="1234",
    )


def load_some_couriers(consumer, warehouses, rng) -> int:
    """One courier on shift in twenty already carries one or two orders (an accepted task)."""
    couriers = list(
        Courier.objects.filter(is_on_shift=True, user__username__startswith=USER_PREFIX)
        .order_by("?")
        .values_list("pk", flat=True)[: int(COURIERS * CARRYING)]
    )
    now = timezone.now()
    tasks = DeliveryTask.objects.bulk_create(
        DeliveryTask(
            warehouse=rng.choice(warehouses),
            courier_id=courier_id,
            status=DeliveryTaskStatus.ASSIGNED,
            accepted_at=now,
        )
        for courier_id in couriers
    )
    orders = []
    for task in tasks:
        for n in range(rng.choice((1, 1, 2))):
            order = _order(
                f"BL-{task.pk}-{n}",
                consumer,
                task.warehouse,
                rng,
                status=DeliveryOrderStatus.ASSIGNED,
                now=now,
            )
            order.task = task
            orders.append(order)
    DeliveryOrder.objects.bulk_create(orders, batch_size=5000)
    return len(tasks)


def _explain(sql: str, params: dict) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        return "\n".join("    " + row[0] for row in cursor.fetchall())


def _deliver(task_id: int) -> None:
    """The courier hands every order over and stands at the last door, free again."""
    with transaction.atomic():
        orders = list(DeliveryOrder.objects.filter(task_id=task_id).order_by("pk"))
        DeliveryOrder.objects.filter(task_id=task_id).update(
            status=DeliveryOrderStatus.DELIVERED, delivered_at=timezone.now()
        )
        task = DeliveryTask.objects.get(pk=task_id)
        DeliveryTask.objects.filter(pk=task_id).update(
            status=DeliveryTaskStatus.DONE, completed_at=timezone.now()
        )
        last = orders[-1].location
        Courier.objects.filter(pk=task.courier_id).update(
            position=Point(last.x, last.y, srid=4326), position_at=timezone.now()
        )


def main() -> None:
    rng = random.Random(SEED)
    consumer, _ = User.objects.get_or_create(
        username=CONSUMER, defaults={"role": Role.CONSUMER, "password": "!"}
    )
    warehouses = build_warehouses()
    _clear_previous_run(consumer, warehouses)
    build_couriers(rng)
    carrying = load_some_couriers(consumer, warehouses, rng)
    with connection.cursor() as cursor:
        for table in ("delivery_courier", "delivery_deliverytask", "delivery_deliveryorder"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    on_shift = Courier.objects.filter(
        is_on_shift=True, user__username__startswith=USER_PREFIX
    ).count()
    print(
        f"{COURIERS} couriers over Beijing, {on_shift} on shift, {carrying} carrying orders; "
        f"{len(warehouses)} warehouses",
        flush=True,
    )

    total = WARMUP + ORDERS + BASELINE_ORDERS
    now = timezone.now()
    stream = DeliveryOrder.objects.bulk_create(
        (
            _order(
                f"BS-{n}",
                consumer,
                rng.choice(warehouses),
                rng,
                status=DeliveryOrderStatus.PACKED,
                now=now,
            )
            for n in range(total)
        ),
        batch_size=2000,
    )
    # Interleaved: after the warm-up, three orders in thirteen go to the baseline.
    plan = ["warmup"] * WARMUP
    real_left, base_left = ORDERS, BASELINE_ORDERS
    while real_left or base_left:
        if base_left and (not real_left or base_left * ORDERS > real_left * BASELINE_ORDERS):
            plan.append("baseline")
            base_left -= 1
        else:
            plan.append("real")
            real_left -= 1
    brute_force = EveryCourier()
    timings: dict[str, list[float]] = {
        "real": [],
        "baseline": [],
        "real new task": [],
        "real batched": [],
    }
    outcome = {"new_task": 0, "batched": 0, "offered": 0, "unassigned": 0, "refused": 0}
    known_tasks: set[int] = set()
    seen_offers: set[int] = set()
    waiting_offers: deque[tuple[int, int]] = deque()  # (offer, courier), oldest first
    accepted: deque[tuple[int, int]] = deque()  # (task, order number when accepted)
    statements: list[int] = []
    python_ms: list[float] = []  # this process's CPU time: less at the mercy of other load
    counted = [0]

    def count_statements(execute, sql, params, many, context):
        counted[0] += 1
        return execute(sql, params, many, context)

    for n, (order, kind) in enumerate(zip(stream, plan, strict=True)):
        search = brute_force if kind == "baseline" else None
        counted[0] = 0
        with connection.execute_wrapper(count_statements):
            started, cpu_started = time.perf_counter(), time.process_time()
            task = dispatch.dispatch_order(order_id=order.pk, search=search)
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() - cpu_started) * 1000
        if kind != "warmup":
            timings[kind].append(elapsed)
        is_batched = task.pk in known_tasks
        if kind == "real":
            statements.append(counted[0])
            python_ms.append(cpu)
            timings["real batched" if is_batched else "real new task"].append(elapsed)
        outcome["batched" if is_batched else "new_task"] += 1
        known_tasks.add(task.pk)
        offer = TaskOffer.objects.filter(task=task, status=OfferStatus.PENDING).first()
        if offer is None:
            outcome["unassigned"] += 1
        elif offer.pk not in seen_offers:
            seen_offers.add(offer.pk)
            waiting_offers.append((offer.pk, offer.courier_id))
            outcome["offered"] += 1
        while len(waiting_offers) > ANSWER_AFTER:
            offer_id, courier_id = waiting_offers.popleft()
            courier = Courier.objects.get(pk=courier_id)
            try:
                answered = offers.accept_offer(courier=courier, offer_id=offer_id)
            except DispatchError as refusal:
                outcome["refused"] += 1
                print(f"  offer {offer_id} could not be accepted: {refusal}", flush=True)
                continue
            accepted.append((answered.pk, n))
        while accepted and accepted[0][1] <= n - DELIVER_AFTER:
            _deliver(accepted.popleft()[0])

    print(
        f"{len(stream)} packed orders: {outcome['new_task']} new tasks, "
        f"{outcome['batched']} batched onto a task already offered; "
        f"{outcome['offered']} offers, {outcome['unassigned']} left unassigned",
        flush=True,
    )
    sample = warehouses[0].site.location
    params = brute_force.params(
        longitude=sample.x,
        latitude=sample.y,
        orders=1,
        task_id=0,
        cool_down_since=timezone.now(),
        rules=current_rules(),
    )
    print("  EXPLAIN candidate search (KNN, GiST index)")
    print(_explain(ranking.CANDIDATES_SQL, params))
    print("  EXPLAIN brute-force baseline")
    print(_explain(EVERY_COURIER_SQL, params))

    figures = {
        "couriers": COURIERS,
        "p50_ms": round(percentile(timings["real"], 50), 2),
        "p95_ms": round(percentile(timings["real"], 95), 2),
        "baseline_p50_ms": round(percentile(timings["baseline"], 50), 2),
        "baseline_p95_ms": round(percentile(timings["baseline"], 95), 2),
    }
    figures["ratio"] = round(figures["p95_ms"] / figures["baseline_p95_ms"], 4)
    print(
        f"dispatch ({len(timings['real'])} orders)   p50 {figures['p50_ms']:7.2f} ms"
        f"   p95 {figures['p95_ms']:7.2f} ms   (target p95 < 20 ms)"
    )
    print(
        f"brute force ({len(timings['baseline'])} orders) p50 {figures['baseline_p50_ms']:7.2f} ms"
        f"   p95 {figures['baseline_p95_ms']:7.2f} ms"
    )
    print(f"ratio p95 / baseline p95 = {figures['ratio']:.3f}")
    for kind in ("real new task", "real batched"):
        samples = timings[kind]
        if samples:
            print(
                f"  of which {kind[5:]} ({len(samples)}): p50 {percentile(samples, 50):.2f} ms, "
                f"p95 {percentile(samples, 95):.2f} ms"
            )
    print(
        f"  Python (this process's CPU) per dispatch: p50 {percentile(python_ms, 50):.2f} ms, "
        f"p95 {percentile(python_ms, 95):.2f} ms; machine load {os.getloadavg()[0]:.1f}"
    )
    round_trips = []
    with connection.cursor() as cursor:
        for _ in range(200):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            round_trips.append((time.perf_counter() - started) * 1000)
    print(
        f"for scale: a dispatch runs {sorted(statements)[len(statements) // 2]} SQL statements "
        f"(median) besides BEGIN and COMMIT; one SELECT 1 round trip here takes "
        f"{percentile(round_trips, 50):.2f} ms (p50), {percentile(round_trips, 95):.2f} ms (p95)"
    )
    report(
        "dispatch",
        couriers=figures["couriers"],
        p50_ms=figures["p50_ms"],
        p95_ms=figures["p95_ms"],
        baseline_p95_ms=figures["baseline_p95_ms"],
        ratio=figures["ratio"],
    )


if __name__ == "__main__":
    main()
