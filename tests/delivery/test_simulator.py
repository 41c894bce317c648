"""`manage.py simulate_couriers`: couriers ride as dispatch reckons to the warehouse and the doors,
answer offers after a moment's thought, the consumer orders what is in stock, the manager packs
what has waited; and through a running ASGI server the demo comes alive: couriers on shift
with positions recorded, an order placed, packed, offered, accepted and picked up."""

import random
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO, StringIO
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from knox.models import AuthToken
from PIL import Image

from accounts import demo as accounts_demo
from accounts.models import User
from common.geo import metres_between
from delivery import demo
from delivery.management.commands import simulate_couriers as sim
from delivery.models import Courier, DeliveryOrder, DeliveryOrderStatus, TaskOffer
from delivery.rules import current_rules
from farms import demo as farms_demo

WAREHOUSE = (demo.WANGJING.longitude, demo.WANGJING.latitude)
HOME = (demo.CONSUMER_HOME.longitude, demo.CONSUMER_HOME.latitude)
BEHAVIOUR = sim.Behaviour()


def _courier(position=WAREHOUSE, **extra) -> sim.SimCourier:
    return sim.SimCourier(
        phone="13300000001", name="吴强", home=WAREHOUSE, position=position, on_shift=True, **extra
    )


def _task(status: str, *stops: tuple[int, tuple[float, float], str]) -> sim.TaskView:
    return sim.TaskView(
        id=7,
        status=status,
        warehouse_name="望京",
        warehouse=WAREHOUSE,
        drop_offs=tuple(
            sim.DropOff(order_id=n, number=f"N{n}", address=f"door {n}", point=p, status=s)
            for n, p, s in stops
        ),
    )


def _ride(courier, *, tasks, rounds: int, seconds: float = 5.0, rng=None, offer=None):
    """Rounds of plan_round `seconds` apart; the plans, and the fastest speed (km/h) between
    two rounds."""
    rng = rng or random.Random(1)
    plans, fastest, now = [], 0.0, 1000.0
    for _ in range(rounds):
        before = courier.position
        plan = sim.plan_round(courier, offer=offer, tasks=tasks, now=now, rng=rng,
                              behaviour=BEHAVIOUR)  # fmt: skip
        if courier.last_round_at is not None:
            speed = metres_between(before, plan.position) / (now - courier.last_round_at)
            fastest = max(fastest, speed * 3.6)
        courier.last_round_at = now
        courier.position = plan.position
        plans.append(plan)
        now += seconds
    return plans, fastest


# --- Geometry -------------------------------------------------------------------------------


def test_distances_and_steps_on_the_ground():
    zhongguancun = (demo.ZHONGGUANCUN.longitude, demo.ZHONGGUANCUN.latitude)
    assert 13_000 < metres_between(WAREHOUSE, zhongguancun) < 14_500
    assert metres_between(WAREHOUSE, WAREHOUSE) == 0
    step = sim.step_towards(WAREHOUSE, zhongguancun, 500)
    assert metres_between(WAREHOUSE, step) == pytest.approx(500, rel=0.01)
    assert sim.step_towards(WAREHOUSE, HOME, 50_000) == HOME  # never past the target
    rng = random.Random(4)
    points = [sim.point_near(rng, WAREHOUSE, 600) for _ in range(300)]
    assert max(metres_between(WAREHOUSE, p) for p in points) <= 601
    assert min(metres_between(WAREHOUSE, p) for p in points) < 200  # the whole disc


# --- The courier --------------------------------------------------------------------------


def test_a_courier_with_a_task_rides_to_the_warehouse_as_dispatch_reckons_and_picks_up_there():
    courier = _courier(position=HOME)  # 1.3 km away
    task = _task("assigned", (1, HOME, "packed"))
    plans, fastest = _ride(courier, tasks=[task], rounds=120)
    arrived = next(i for i, plan in enumerate(plans) if plan.pick_up is not None)
    assert plans[arrived].pick_up == task
    assert all(plan.pick_up is None for plan in plans[:arrived])
    assert metres_between(plans[arrived].position, WAREHOUSE) <= BEHAVIOUR.arrive_m
    # He arrives when dispatch's travel model says he would (rounds of five seconds): 1.3 km
    # in a straight line, 1.7 km of streets at 15 km/h, about seven minutes.
    reckoned = current_rules().travel_minutes(metres_between(HOME, WAREHOUSE) - BEHAVIOUR.arrive_m)
    assert arrived * 5 / 60 == pytest.approx(reckoned, abs=2 * 5 / 60)
    assert 75 <= arrived <= 90
    assert fastest <= BEHAVIOUR.speed_kmh * 1.001
    assert "望京" in plans[0].doing


def test_with_orders_in_his_box_he_delivers_at_the_nearest_door_first_then_the_next():
    near = sim.point_near(random.Random(2), WAREHOUSE, 300)
    courier = _courier()
    tasks = [_task("picked_up", (1, HOME, "picked_up"), (2, near, "picked_up"))]
    plans, fastest = _ride(courier, tasks=tasks, rounds=20)
    first = next(plan for plan in plans if plan.deliver is not None)
    assert first.deliver.order_id == 2
    # Delivered: the next round heads for the other door.
    tasks = [_task("picked_up", (1, HOME, "picked_up"), (2, near, "delivered"))]
    plans, fastest = _ride(courier, tasks=tasks, rounds=80)
    delivered = [plan.deliver.order_id for plan in plans if plan.deliver is not None]
    assert delivered[0] == 1
    assert fastest <= BEHAVIOUR.speed_kmh * 1.001


def test_a_task_to_fetch_comes_before_the_doors():
    courier = _courier(position=HOME)
    fetch = sim.TaskView(id=8, status="assigned", warehouse_name="望京", warehouse=WAREHOUSE,
                         drop_offs=())  # fmt: skip
    carrying = _task("picked_up", (1, HOME, "picked_up"))
    plan = sim.plan_round(courier, offer=None, tasks=[carrying, fetch], now=0.0,
                          rng=random.Random(1), behaviour=BEHAVIOUR)  # fmt: skip
    assert plan.deliver is None  # at the door of order 1, but the new task is fetched first
    assert plan.doing.startswith("to 望京")


def test_an_idle_courier_waits_near_his_warehouse_and_moves_now_and_then():
    courier = _courier()
    plans, fastest = _ride(courier, tasks=[], rounds=900, rng=random.Random(9))
    positions = [plan.position for plan in plans]
    assert max(metres_between(WAREHOUSE, p) for p in positions) <= BEHAVIOUR.wander_m + 1
    assert len(set(positions)) > 50  # he moves...
    still = sum(1 for a, b in pairwise(positions) if a == b)
    assert still > 60  # ...and waits
    assert fastest <= BEHAVIOUR.speed_kmh * BEHAVIOUR.idle_speed_share * 1.001
    assert all(plan.pick_up is None and plan.deliver is None for plan in plans)


def test_after_a_far_delivery_he_rides_back_towards_his_warehouse():
    far = sim.point_near(random.Random(3), WAREHOUSE, 10)
    far = (far[0] + 0.03, far[1])  # about 2.6 km east
    courier = _courier(position=far)
    plans, _ = _ride(courier, tasks=[], rounds=40)
    distances = [metres_between(WAREHOUSE, plan.position) for plan in plans]
    # 39 rides of 5 s at 15 km/h along streets 1.3 times the straight line: ~620 m nearer.
    assert distances[0] - distances[-1] > 0.9 * BEHAVIOUR.metres_in(39 * 5) > 500


def _offer(offer_id: int = 1, seconds_left: float = 40) -> sim.OfferView:
    return sim.OfferView(id=offer_id, task_id=5, seconds_left=seconds_left, order_count=1,
                         distance_m=400, warehouse="望京")  # fmt: skip


def test_an_offer_is_answered_after_a_moment_and_always_the_same_way():
    courier = _courier()
    rng = random.Random(5)
    behaviour = sim.Behaviour(think_s=6.0)
    first = sim.offer_answer(courier, _offer(), now=100.0, rng=rng, behaviour=behaviour)
    assert first is None  # he reads it first
    answers = {
        sim.offer_answer(courier, _offer(), now=100.0 + t, rng=rng, behaviour=behaviour)
        for t in (9.1, 12, 30)
    }
    assert len(answers) == 1
    assert answers != {None}
    # About to run out: answered at once.
    answer = sim.offer_answer(courier, _offer(2, seconds_left=3), now=500.0, rng=rng,
                              behaviour=behaviour)  # fmt: skip
    assert answer is not None


def test_most_offers_are_accepted_some_declined():
    courier = _courier()
    rng = random.Random(11)
    answers = [  # each about to run out, so answered at first sight
        sim.offer_answer(courier, _offer(n, seconds_left=2), now=1e6, rng=rng, behaviour=BEHAVIOUR)
        for n in range(400)
    ]
    assert None not in answers
    assert 0.78 < sum(answers) / len(answers) < 0.92


def test_the_plan_carries_the_answer_while_he_rides():
    courier = _courier(position=HOME)
    behaviour = sim.Behaviour(think_s=0, accept_share=1.0)
    plan = sim.plan_round(courier, offer=_offer(), tasks=[], now=0.0, rng=random.Random(1),
                          behaviour=behaviour)  # fmt: skip
    assert plan.answer == (_offer(), True)


# --- The consumer and the manager -----------------------------------------------------------


def _item(product_id: int, kg: str) -> dict:
    return {"product_id": product_id, "name": "x", "price_per_kg": "9.80", "available_kg": kg}


def test_a_basket_holds_one_to_three_products_in_portions_there_is_stock_for():
    catalogue = [_item(1, "120.000"), _item(2, "0.700"), _item(3, "0.200"), _item(4, "35.5")]
    rng = random.Random(6)
    for _ in range(200):
        basket = sim.choose_basket(catalogue, rng)
        ids = [product_id for product_id, _ in basket]
        assert 1 <= len(basket) <= 3
        assert len(set(ids)) == len(ids)
        assert 3 not in ids  # 200 g is less than the smallest portion
        for product_id, kg in basket:
            available = Decimal(
                next(i["available_kg"] for i in catalogue if i["product_id"] == product_id)
            )
            assert Decimal("0.5") <= kg <= available
    assert sim.choose_basket([_item(1, "0.3")], rng) == []
    assert sim.choose_basket([], rng) == []


def test_the_consumer_orders_at_her_pace_and_never_too_many_at_once():
    consumer = sim.SimConsumer(phone="13100000001", name="林小姐", next_order_at=50.0)
    assert not sim.wants_to_order(consumer, now=49.0, max_open=3)
    assert sim.wants_to_order(consumer, now=50.0, max_open=3)
    consumer.open_orders = {1: "placed", 2: "packed", 3: "assigned"}
    assert not sim.wants_to_order(consumer, now=60.0, max_open=3)
    rng = random.Random(8)
    delays = [sim.next_order_in(rng, 150) for _ in range(500)]
    assert min(delays) >= 50
    assert max(delays) <= 450
    assert 110 < sum(delays) / len(delays) < 190
    assert sim.next_order_in(rng, 0) == 0


def test_the_manager_packs_placed_orders_that_have_waited():
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    orders = [
        {"id": 1, "status": "placed", "placed_at": "2026-11-28T09:59:30Z"},
        {"id": 2, "status": "placed", "placed_at": "2026-11-28T17:59:50+08:00"},  # 10 s ago
        {"id": 3, "status": "packed", "placed_at": "2026-11-28T09:50:00Z"},
    ]
    assert sim.orders_to_pack(orders, now=now, after_s=20) == [1]
    assert sim.orders_to_pack(orders, now=now, after_s=0) == [1, 2]


def test_the_couriers_task_as_the_api_shows_it():
    data = {
        "id": 12, "status": "picked_up", "accepted_at": None, "picked_up_at": None,
        "completed_at": None, "earnings": "0.00", "currency": "CNY", "picked_up": True,
        "warehouse": {"id": 1, "name": "鲜链望京前置仓", "address": "x",
                      "longitude": 116.4705, "latitude": 39.9962},
        "orders": [
            {"id": 31, "number": "261128-AAAAAA", "address": "door", "longitude": 116.48,
             "latitude": 40.0, "status": "picked_up", "promised_by": "2026-11-28T10:30:00Z",
             "delivered_at": None, "tries_left": 5, "code_locked": False},
            {"id": 32, "number": "261128-BBBBBB", "address": "door 2", "longitude": 116.47,
             "latitude": 40.01, "status": "delivered", "promised_by": "2026-11-28T10:30:00Z",
             "delivered_at": "2026-11-28T10:20:00Z", "tries_left": 5, "code_locked": False},
        ],
    }  # fmt: skip
    task = sim.TaskView.from_api(data)
    assert task.warehouse == (116.4705, 39.9962)
    assert [stop.order_id for stop in task.doors_to_go] == [31]


def test_the_door_photo_is_a_small_jpeg():
    photo = sim.door_photo()
    assert photo.startswith(b"\xff\xd8")
    assert len(photo) < 10_000
    assert Image.open(BytesIO(photo)).size == (160, 120)


def test_an_error_answer_reads_as_one_line():
    assert (
        sim.gist(b'{"quantity_kg": ["Only 2 kg in stock."]}') == "quantity_kg: Only 2 kg in stock."
    )
    assert sim.gist(b'{"detail": "Not found."}') == "detail: Not found."
    assert sim.gist(b"<html><title>Server Error (500)</title></html>") == "Server Error (500)"


# --- Through a running server ---------------------------------------------------------------


@pytest.fixture
def demo_seeded(transactional_db, settings, tmp_path):
    """The delivery demo on the demo people and farms (without the market and the cold chain,
    which the simulator does not need)."""
    settings.MEDIA_ROOT = tmp_path
    context: dict = {}
    accounts_demo.seed(context)
    farms_demo.seed(context)
    demo.seed(context)
    return context


def _simulate(url: str, *extra: str) -> str:
    out = StringIO()
    call_command("simulate_couriers", "--force", "--url", url, "--wait-healthy", "0", *extra,
                 stdout=out)  # fmt: skip
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_rounds_through_the_server_bring_couriers_on_shift_and_an_order_to_pick_up(
    demo_seeded, asgi_server, celery_worker_live
):
    # The couriers wait at their warehouses' doors, so the pick-up comes within the rounds.
    for courier in Courier.objects.select_related("home_warehouse__site"):
        courier.position = courier.home_warehouse.site.location
        courier.save(update_fields=["position"])
    started = timezone.now()

    out = _simulate(
        asgi_server, "--iterations", "6", "--interval", "3.5", "--seed", "3", "--home-only",
        "--order-every", "0", "--max-open-orders", "1", "--pack-after", "0", "--think", "0",
        "--accept-share", "1",
    )  # fmt: skip

    # On shift, each followed on the map from his first fix on.
    for courier in Courier.objects.select_related("user"):
        assert courier.is_on_shift, out
        assert courier.position_at >= started, out
        assert f"{courier.user} goes on shift" in out
    # 林小姐's order: placed to her home, paid, packed by 周敏, taken and picked up.
    consumer = User.objects.get(username="consumer")
    order = DeliveryOrder.objects.exclude(number__startswith=demo.HISTORY_PREFIX).get(
        consumer=consumer
    )
    assert order.address == demo.CONSUMER_HOME.address
    assert order.payment_entry_id is not None
    assert order.packed_at is not None
    assert order.status == DeliveryOrderStatus.PICKED_UP, out
    offer = TaskOffer.objects.get(task=order.task, status="accepted")
    assert order.task.courier == offer.courier
    assert offer.courier.home_warehouse.code == demo.WANGJING.code
    for line in (f"林小姐 orders {order.number}", f"packs {order.number}",
                 f"accepts task {order.task_id}", f"picks up task {order.task_id}"):  # fmt: skip
        assert line in out


@pytest.mark.django_db(transaction=True)
def test_a_refusal_is_printed_and_the_others_go_on(demo_seeded, asgi_server):
    courier = User.objects.get(username="courier3")
    courier.set_password("changed")
    courier.save(update_fields=["password"])

    out = _simulate(asgi_server, "--once", "--order-every", "-1", "--pack-after", "-1")

    assert "冯涛: refused: HTTP 400: password:" in out
    assert not Courier.objects.get(user=courier).is_on_shift
    assert Courier.objects.filter(is_on_shift=True).count() == 2

    # A token the server forgot (a fresh database) is replaced by signing in again.
    client = sim.ApiClient(asgi_server, "13300000001", accounts_demo.DEMO_PASSWORD)
    assert client.get("courier/day/")["task_count"] == 0
    first = client.token
    AuthToken.objects.all().delete()
    assert client.get("courier/day/")["task_count"] == 0
    assert client.token not in (None, first)


@pytest.mark.django_db(transaction=True)
def test_a_server_that_never_answers_ends_a_bounded_run(demo_seeded):
    with pytest.raises(CommandError, match="does not answer"):
        _simulate("http://127.0.0.1:9", "--iterations", "2", "--interval", "0")


def test_without_the_demo_a_bounded_run_says_to_seed_it(db):
    with pytest.raises(CommandError, match="seed_demo"):
        _simulate("http://127.0.0.1:9", "--once")
