"""`manage.py simulate_couriers`: the delivery demo, alive, through the real HTTP API.

Each demo person signs in with the demo password (POST /api/auth/token/) and works the
server's API as a phone or a browser would:

- The couriers (delivery/demo.py: 吴强 and 郑磊 at 望京, 冯涛 at 中关村) go on shift and post
  their phones' positions every few seconds, riding an e-bike: to the warehouse when they have
  a task to fetch, then to each door, otherwise waiting near their warehouse and moving now and
  then. They answer an offer after a few seconds' thought (most accepted, some declined), pick
  up at the warehouse and deliver with the consumer's code (with a photo of the parcel at the
  door when they cannot have the code: an order placed by someone the simulator is not).
- The demo consumer, 林小姐, orders now and then (at most a few open at once): mostly to her
  home, sometimes to an address at the other warehouse; products and quantities picked from
  the shop's catalogue at that place. She reads each order's delivery code from its status.
- Each warehouse's manager (or, where the demo has none, the platform admin for it) packs a
  placed order a short while after it arrived; packing starts dispatch.

Dispatch needs the Celery worker (`make run` starts it). A server that is away (restarting,
5xx) is waited for with a growing pause; a refusal (4xx) is printed and the simulation goes
on. Ctrl-C (or SIGTERM from honcho) stops it; the couriers without a task go off shift.

The decisions (where a courier rides, which offer he takes, when he picks up and delivers,
what is ordered, what is packed) are plain functions of the state the API shows; `ApiClient`
only carries requests.
"""

import io
import json
import math
import os
import random
import re
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from common import geo
from common.dates import BUSINESS_TIME_ZONE
from common.geo import LonLat, metres_between
from delivery import demo
from delivery.models import Courier, FrontWarehouse, WarehouseStaff

API = "/api/delivery/"
STATUS_EVERY_S = 60.0  # a line of where everyone is, this often
ASSIGNED, PICKED_UP = "assigned", "picked_up"
OPEN_TASK = (ASSIGNED, PICKED_UP)
CLOSED_ORDER = ("delivered", "cancelled")


def default_url() -> str:
    host = os.environ.get("WEB_HOST", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: talk to it locally
        host = "127.0.0.1"
    return f"http://{host}:{os.environ.get('WEB_PORT', '8000')}"


# --- Geometry -------------------------------------------------------------------------------


def step_towards(here: LonLat, there: LonLat, metres: float) -> LonLat:
    """`metres` of the way from here to there (a straight line: at a few kilometres the
    difference from the great circle is centimetres); there itself when it is closer."""
    total = metres_between(here, there)
    if total <= max(metres, 0.0) or total == 0:
        return there
    share = max(metres, 0.0) / total
    return (here[0] + (there[0] - here[0]) * share, here[1] + (there[1] - here[1]) * share)


def point_near(rng: random.Random, centre: LonLat, radius_m: float) -> LonLat:
    """A random point within `radius_m` of the centre, evenly over the disc."""
    distance = radius_m * math.sqrt(rng.random())
    return geo.point_at(centre, metres=distance, bearing=rng.uniform(0, 360))


# --- What the API shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class OfferView:
    id: int
    task_id: int
    seconds_left: float
    order_count: int
    distance_m: float
    warehouse: str

    @classmethod
    def from_api(cls, data: dict) -> "OfferView":
        return cls(
            id=int(data["id"]),
            task_id=int(data["task_id"]),
            seconds_left=float(data.get("seconds_left") or 0),
            order_count=int(data.get("order_count") or 1),
            distance_m=float(data.get("distance_m") or 0),
            warehouse=str((data.get("warehouse") or {}).get("name", "")),
        )


@dataclass(frozen=True)
class DropOff:
    order_id: int
    number: str
    address: str
    point: LonLat
    status: str


@dataclass(frozen=True)
class TaskView:
    id: int
    status: str
    warehouse_name: str
    warehouse: LonLat
    drop_offs: tuple[DropOff, ...]

    @classmethod
    def from_api(cls, data: dict) -> "TaskView":
        warehouse = data.get("warehouse") or {}
        return cls(
            id=int(data["id"]),
            status=str(data["status"]),
            warehouse_name=str(warehouse.get("name", "")),
            warehouse=(float(warehouse["longitude"]), float(warehouse["latitude"])),
            drop_offs=tuple(
                DropOff(
                    order_id=int(stop["id"]),
                    number=str(stop.get("number", stop["id"])),
                    address=str(stop.get("address", "")),
                    point=(float(stop["longitude"]), float(stop["latitude"])),
                    status=str(stop["status"]),
                )
                for stop in data.get("orders") or ()
            ),
        )

    @property
    def doors_to_go(self) -> list[DropOff]:
        return [stop for stop in self.drop_offs if stop.status == PICKED_UP]


# --- The courier's mind ---------------------------------------------------------------------


@dataclass(frozen=True)
class Behaviour:
    """How the demo's couriers ride and answer. They ride as dispatch and the warehouse page
    reckon (`common.geo`): `speed_kmh` along streets `detour_factor` times the straight line
    (settings DELIVERY_COURIER_SPEED_KMH and DELIVERY_DETOUR_FACTOR), so a courier reaches a
    door when the estimates say he would. The server refuses fixes implying more than
    DELIVERY_MAX_COURIER_SPEED_KMH in a straight line."""

    speed_kmh: float = field(default_factory=lambda: settings.DELIVERY_COURIER_SPEED_KMH)
    detour_factor: float = field(default_factory=lambda: settings.DELIVERY_DETOUR_FACTOR)
    idle_speed_share: float = 0.4  # moving about near the warehouse, unhurried
    accept_share: float = 0.85
    think_s: float = 6.0  # on average, before answering an offer
    answer_margin_s: float = 5.0  # answer at once when the offer runs out this soon
    arrive_m: float = 40.0  # close enough to the door or the warehouse's entrance
    wander_m: float = 600.0  # idle couriers stay this near their warehouse
    rest_s: tuple[float, float] = (20.0, 90.0)  # waiting at a spot before moving on

    def metres_in(self, seconds: float) -> float:
        """How much nearer, in a straight line, he gets to where he is going in `seconds`."""
        return geo.metres_covered(
            seconds, speed_kmh=self.speed_kmh, detour_factor=self.detour_factor
        )


@dataclass
class OfferAnswer:
    answer_at: float  # monotonic seconds
    accept: bool


@dataclass
class SimCourier:
    """A demo courier as the simulator remembers him between rounds."""

    phone: str
    name: str
    home: LonLat  # his warehouse
    position: LonLat
    on_shift: bool = False
    task_ids: set[int] = field(default_factory=set)
    answers: dict[int, OfferAnswer] = field(default_factory=dict)
    wander_to: LonLat | None = None
    resting_until: float = 0.0
    last_round_at: float | None = None
    last_fix_at: float | None = None
    doing: str = "off shift"


@dataclass(frozen=True)
class Plan:
    """A courier's round: where he is at its end, and what he does there."""

    position: LonLat
    answer: tuple[OfferView, bool] | None = None  # (offer, accept)
    pick_up: TaskView | None = None
    deliver: DropOff | None = None
    doing: str = ""


def offer_answer(
    courier: SimCourier, offer: OfferView, *, now: float, rng: random.Random, behaviour: Behaviour
) -> bool | None:
    """True to accept, False to decline, None to think a little longer. The answer is drawn
    once per offer, the first time he sees it; he gives it after his thinking time, or at
    once when the offer is about to run out."""
    answer = courier.answers.get(offer.id)
    if answer is None:
        answer = OfferAnswer(
            answer_at=now + behaviour.think_s * rng.uniform(0.5, 1.5),
            accept=rng.random() < behaviour.accept_share,
        )
        # One offer waits for him at a time: the answers to earlier ones are of no more use.
        courier.answers = {offer.id: answer}
    if now >= answer.answer_at or offer.seconds_left <= behaviour.answer_margin_s:
        return answer.accept
    return None


def plan_round(
    courier: SimCourier,
    *,
    offer: OfferView | None,
    tasks: list[TaskView],
    now: float,
    rng: random.Random,
    behaviour: Behaviour,
) -> Plan:
    """The courier's next move. With a task to fetch he rides to its warehouse and picks it
    up on arrival; with orders in his box he rides to the nearest door and delivers there;
    otherwise he waits near his warehouse, moving to another spot now and then. He moves
    at most his speed times the time since his last round."""
    elapsed = 0.0 if courier.last_round_at is None else max(0.0, now - courier.last_round_at)
    reach = behaviour.metres_in(elapsed)
    answer = None
    if offer is not None:
        decision = offer_answer(courier, offer, now=now, rng=rng, behaviour=behaviour)
        if decision is not None:
            answer = (offer, decision)

    open_tasks = [task for task in tasks if task.status in OPEN_TASK]
    to_fetch = [task for task in open_tasks if task.status == ASSIGNED]
    doors = [stop for task in open_tasks if task.status == PICKED_UP for stop in task.doors_to_go]
    here = courier.position
    if to_fetch:
        task = to_fetch[0]
        position = step_towards(here, task.warehouse, reach)
        left = metres_between(position, task.warehouse)
        arrived = left <= behaviour.arrive_m
        return Plan(
            position=position,
            answer=answer,
            pick_up=task if arrived else None,
            doing=f"at {task.warehouse_name}"
            if arrived
            else f"to {task.warehouse_name} ({left:,.0f} m)",
        )
    if doors:
        stop = min(doors, key=lambda door: metres_between(here, door.point))
        position = step_towards(here, stop.point, reach)
        left = metres_between(position, stop.point)
        arrived = left <= behaviour.arrive_m
        return Plan(
            position=position,
            answer=answer,
            deliver=stop if arrived else None,
            doing=f"at {stop.address}" if arrived else f"to {stop.address} ({left:,.0f} m)",
        )
    return Plan(position=_wander(courier, now=now, reach=reach, rng=rng, behaviour=behaviour),
                answer=answer, doing="waiting for an offer")  # fmt: skip


def _wander(
    courier: SimCourier, *, now: float, reach: float, rng: random.Random, behaviour: Behaviour
) -> LonLat:
    """Far from his warehouse (after a delivery) he rides back; near it he waits at a spot,
    then moves unhurried to another."""
    here = courier.position
    far = metres_between(here, courier.home) > behaviour.wander_m * 1.5
    if courier.wander_to is None:
        if now < courier.resting_until and not far:
            return here
        radius = behaviour.wander_m / 2 if far else behaviour.wander_m
        courier.wander_to = point_near(rng, courier.home, radius)
    position = step_towards(
        here, courier.wander_to, reach * (1.0 if far else behaviour.idle_speed_share)
    )
    if metres_between(position, courier.wander_to) <= 1.0:
        courier.wander_to = None
        courier.resting_until = now + rng.uniform(*behaviour.rest_s)
    return position


# --- The consumer's and the manager's decisions ---------------------------------------------


@dataclass
class SimConsumer:
    phone: str
    name: str
    next_order_at: float = 0.0  # monotonic seconds
    open_orders: dict[int, str] = field(default_factory=dict)  # id -> status
    codes: dict[int, str] = field(default_factory=dict)  # order id -> delivery code
    # An order sent while the server was away goes again with the same key (no double order).
    pending: tuple[str, dict] | None = None
    caught_up: bool = False  # her open orders from before the simulator started are known


def wants_to_order(consumer: SimConsumer, *, now: float, max_open: int) -> bool:
    return now >= consumer.next_order_at and len(consumer.open_orders) < max_open


def next_order_in(rng: random.Random, mean_s: float) -> float:
    """Seconds to the next order: irregular (exponential), but neither a burst nor an hour's
    silence."""
    if mean_s <= 0:
        return 0.0
    return min(max(rng.expovariate(1 / mean_s), mean_s / 3), mean_s * 3)


PORTIONS_KG = (Decimal("0.5"), Decimal("1"), Decimal("1"), Decimal("1.5"), Decimal("2"))


def choose_basket(catalogue: list[dict], rng: random.Random) -> list[tuple[int, Decimal]]:
    """One to three different products the shop has, each in a usual portion it has enough
    of; empty when nothing is in stock."""
    in_stock = [item for item in catalogue if Decimal(str(item["available_kg"])) >= PORTIONS_KG[0]]
    if not in_stock:
        return []
    size = min(len(in_stock), rng.choices((1, 2, 3), (3, 4, 3))[0])
    basket = []
    for item in rng.sample(in_stock, size):
        limit = min(rng.choice(PORTIONS_KG), Decimal(str(item["available_kg"])))
        portion = max(p for p in PORTIONS_KG if p <= limit)
        basket.append((int(item["product_id"]), portion))
    return basket


def choose_place(places: list[tuple[demo.Place, float]], rng: random.Random) -> demo.Place:
    return rng.choices([p for p, _ in places], [w for _, w in places])[0]


def orders_to_pack(open_orders: list[dict], *, now: datetime, after_s: float) -> list[int]:
    """The placed orders that have waited `after_s` seconds (picking takes a moment)."""
    due = now - timedelta(seconds=after_s)
    return [
        int(order["id"])
        for order in open_orders
        if order.get("status") == "placed" and _parse_time(order["placed_at"]) <= due
    ]


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- HTTP -------------------------------------------------------------------------------------


class ServerAway(Exception):
    """No answer, or a 5xx: worth trying again later."""


class Refused(Exception):
    """A 4xx: the server said no; the message says why."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


def gist(body: bytes) -> str:
    """An error answer in one line: DRF's {field: [messages]} or {"detail": …}, or an HTML
    page's title."""
    text = body.decode(errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        title = re.search(r"<title>\s*(.*?)\s*</title>", text, re.S | re.I)
        return " ".join((title.group(1) if title else text).split())[:300]
    if isinstance(data, dict):
        parts = []
        for key, value in data.items():
            messages = value if isinstance(value, list) else [value]
            parts.append(f"{key}: {' '.join(str(m) for m in messages)}")
        return "; ".join(parts)[:300]
    return str(data)[:300]


class ApiClient:
    """One demo person's session with the API: a token from the phone and password, JSON in
    and out, a new token when the server no longer knows the old one."""

    def __init__(self, base_url: str, phone: str, password: str, *, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.phone = phone
        self.password = password
        self.timeout = timeout
        self.token: str | None = None

    def sign_in(self) -> None:
        answer = self._send("POST", "/api/auth/token/", json_body={
            "username": self.phone, "password": self.password,
        }, auth=False)  # fmt: skip
        self.token = answer["token"]

    def get(self, path: str, **params):
        return self.call("GET", path, params=params)

    def post(self, path: str, body: dict | None = None, *, headers: dict | None = None, **params):
        return self.call("POST", path, json_body=body or {}, headers=headers, params=params)

    def post_photo(self, path: str, photo: bytes, filename: str = "door.jpg"):
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
                f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'
            ).encode()
            + photo
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.call("POST", path, raw=(body, f"multipart/form-data; boundary={boundary}"))

    def call(self, method: str, path: str, **kwargs):
        if self.token is None:
            self.sign_in()
        try:
            return self._send(method, API + path, **kwargs)
        except Refused as error:
            if error.status != 401:
                raise
            self.sign_in()  # the token was dropped (a fresh database): sign in again
            return self._send(method, API + path, **kwargs)

    def _send(self, method, path, *, params=None, json_body=None, raw=None, headers=None,
              auth=True):  # fmt: skip
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        request_headers = {"Accept": "application/json", "Accept-Language": "en"}
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            request_headers["Content-Type"] = "application/json"
        elif raw is not None:
            data, request_headers["Content-Type"] = raw
        if auth and self.token:
            request_headers["Authorization"] = f"Token {self.token}"
        request_headers.update(headers or {})
        request = urllib.request.Request(url, data=data, headers=request_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            message = gist(error.read())
            if error.code >= 500:
                raise ServerAway(f"HTTP {error.code}: {message}") from error
            raise Refused(error.code, message) from error
        except (urllib.error.URLError, OSError) as error:
            raise ServerAway(str(getattr(error, "reason", error))) from error
        return json.loads(body) if body else None


def door_photo() -> bytes:
    """A small JPEG standing for the photo of a parcel left at the door."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 120), (214, 226, 206))
    draw = ImageDraw.Draw(image)
    draw.rectangle((50, 45, 110, 100), fill=(176, 132, 84), outline=(120, 86, 50))
    draw.line((50, 62, 110, 62), fill=(120, 86, 50), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


# --- The command ----------------------------------------------------------------------------


@dataclass
class Packer:
    """Who packs a warehouse's orders: its manager, or the admin on its behalf."""

    warehouse_id: int
    warehouse: str
    client: ApiClient
    params: dict  # ?warehouse=<id> for the admin


class Command(BaseCommand):
    help = (
        "Keep the delivery demo alive through the HTTP API: couriers on shift moving and "
        "answering offers, the demo consumer ordering, managers packing. Ctrl-C stops."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default=default_url(), help="The web server's base URL.")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds per round.")
        parser.add_argument("--iterations", type=int, default=0, help="Rounds, then exit.")
        parser.add_argument("--once", action="store_true", help="One round, then exit.")
        parser.add_argument("--seed", type=int, default=None, help="Same seed, same choices.")
        parser.add_argument(
            "--couriers",
            default="",
            help="Comma-separated phones of the demo couriers to ride (default: all), so a "
            "person can work one of them in a browser.",
        )
        parser.add_argument(
            "--speed-kmh",
            type=float,
            default=None,
            help="Riding speed along streets (default: settings.DELIVERY_COURIER_SPEED_KMH).",
        )
        parser.add_argument("--accept-share", type=float, default=Behaviour.accept_share)
        parser.add_argument(
            "--think", type=float, default=Behaviour.think_s, help="Seconds before answering."
        )
        parser.add_argument(
            "--order-every",
            type=float,
            default=150.0,
            help="Mean seconds between the consumer's orders (negative: she never orders).",
        )
        parser.add_argument("--max-open-orders", type=int, default=3)
        parser.add_argument(
            "--home-only",
            action="store_true",
            help="The consumer orders only to her home (望京), never to the other addresses.",
        )
        parser.add_argument(
            "--pack-after",
            type=float,
            default=20.0,
            help="Seconds a placed order waits before it is packed (negative: never packed).",
        )
        parser.add_argument("--password", default=DEMO_PASSWORD)
        parser.add_argument(
            "--wait-healthy",
            type=float,
            default=120.0,
            help="Seconds to wait for /healthz before starting anyway.",
        )
        parser.add_argument(
            "--force", action="store_true", help="Run with DEBUG off (never in production)."
        )

    def say(self, line: str) -> None:
        stamp = datetime.now(BUSINESS_TIME_ZONE).strftime("%H:%M:%S")
        self.stdout.write(f"{stamp} {line}")
        self.stdout.flush()  # honcho reads a pipe: show each line as it comes

    # --- start-up ---

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("simulate_couriers signs in with the demo password; DEBUG is off.")
        self.url = options["url"].rstrip("/")
        self.options = options
        self.rng = random.Random(options["seed"])
        # Well under the server's limit (a straight-line speed): a fix's time and the ride
        # behind it differ by the moments a round's requests take.
        limit = settings.DELIVERY_MAX_COURIER_SPEED_KMH * 0.75 * settings.DELIVERY_DETOUR_FACTOR
        speed_kmh = options["speed_kmh"] or settings.DELIVERY_COURIER_SPEED_KMH
        self.behaviour = Behaviour(
            speed_kmh=min(speed_kmh, limit),
            accept_share=options["accept_share"],
            think_s=options["think"],
        )
        self.min_fix_s = settings.DELIVERY_POSITION_MIN_SECONDS + 0.5
        rounds = 1 if options["once"] else max(options["iterations"], 0)
        previous = _on_sigterm(_stop_on_sigterm)
        try:
            self.wait_until_healthy(options["wait_healthy"])
            self.set_up(bounded=rounds > 0)
            self.run(rounds)
        except KeyboardInterrupt:
            self.say("stopping")
            self.off_shift()
        finally:
            if previous is not None:
                _on_sigterm(previous)

    def wait_until_healthy(self, seconds: float) -> None:
        if seconds <= 0:
            return
        deadline = time.monotonic() + seconds
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=10) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as error:
                last = f"HTTP {error.code}"
            except (urllib.error.URLError, OSError) as error:
                last = str(getattr(error, "reason", error))
            time.sleep(1)
        self.say(f"{self.url}/healthz is not healthy after {seconds:g} s ({last}); starting anyway")

    def set_up(self, *, bounded: bool) -> None:
        """The demo's people and places, from the database (the seed made them)."""
        while True:
            problem = self.read_demo()
            if problem is None:
                break
            message = f"{problem}: run `manage.py seed_demo` first"
            if bounded:
                raise CommandError(message)
            # Exiting would make honcho stop the whole stack; wait for the seed instead.
            self.say(f"{message}; looking again in a minute")
            time.sleep(60)
            close_old_connections()
        couriers = ", ".join(c.name for c in self.couriers) or "nobody"
        ordering = self.consumer.name if self.options["order_every"] >= 0 else "nobody"
        packing = ", ".join(f"{p.warehouse} ({p.client.phone})" for p in self.packers)
        if self.options["pack_after"] < 0 or not packing:
            packing = "nobody"
        self.say(f"against {self.url}: riding {couriers}; ordering {ordering}; packing "
                 f"{packing}")  # fmt: skip

    def read_demo(self) -> str | None:
        password = self.options["password"]
        wanted = {p.strip() for p in self.options["couriers"].split(",") if p.strip()}
        warehouses = {w.code: w for w in FrontWarehouse.objects.select_related("site")}
        if not all(spec.code in warehouses for spec in demo.WAREHOUSES):
            return "the demo's front warehouses are missing"
        self.couriers, self.clients = [], {}
        for spec in demo.WAREHOUSES:
            home = warehouses[spec.code].site.location
            for username, *_ in spec.couriers:
                courier = Courier.objects.filter(user__username=username).select_related("user")
                courier = courier.first()
                if courier is None:
                    return f"the demo courier {username} is missing"
                phone = _phone(courier.user)
                if wanted and phone not in wanted and courier.user.username not in wanted:
                    continue
                position = courier.position or home
                self.couriers.append(
                    SimCourier(phone=phone, name=str(courier.user), home=(home.x, home.y),
                               position=(position.x, position.y))
                )  # fmt: skip
                self.clients[phone] = ApiClient(self.url, phone, password)
        consumer = User.objects.filter(username=demo.CONSUMER).first()
        if consumer is None:
            return "the demo consumer is missing"
        self.consumer = SimConsumer(phone=_phone(consumer), name=str(consumer))
        self.consumer_client = ApiClient(self.url, self.consumer.phone, password)
        admin = User.objects.filter(username="admin").first()
        self.packers, self.places = [], []
        for spec in demo.WAREHOUSES:
            warehouse = warehouses[spec.code]
            staff = WarehouseStaff.objects.filter(warehouse=warehouse).select_related("user")
            staff = staff.order_by("pk").first()
            if staff is not None:
                client, params = ApiClient(self.url, _phone(staff.user), password), {}
            elif admin is not None:
                client = ApiClient(self.url, _phone(admin), password)
                params = {"warehouse": warehouse.pk}
            else:
                continue
            self.packers.append(Packer(warehouse.pk, warehouse.name, client, params))
            # Her home first and most often; the other warehouse's addresses now and then.
            for place in demo.DROP_OFFS[spec.code]:
                if self.options["home_only"] and place != demo.CONSUMER_HOME:
                    continue
                weight = 6.0 if place == demo.CONSUMER_HOME else (
                    1.0 if spec is demo.WANGJING else 0.6
                )  # fmt: skip
                self.places.append((place, weight))
        return None

    # --- the loop ---

    def run(self, rounds: int) -> None:
        """`rounds` rounds (0: until stopped). A bounded run the server never answered is an
        error."""
        done, answered, pause, away_since = 0, 0, 1.0, None
        last_status = time.monotonic()
        tick = time.monotonic()
        while rounds == 0 or done < rounds:
            try:
                self.play_round()
                if away_since is not None:
                    self.say(f"{self.url} answers again")
                away_since, pause = None, 1.0
            except ServerAway as error:
                if away_since is None:
                    away_since = time.monotonic()
                    self.say(f"{self.url} is away ({error}); trying again")
                done += 1
                if rounds and done >= rounds:
                    if not answered:
                        raise CommandError(f"{self.url} does not answer: {error}") from error
                    break
                time.sleep(pause)
                pause = min(pause * 2, 30.0)
                tick = time.monotonic()
                continue
            done += 1
            answered += 1
            if time.monotonic() - last_status >= STATUS_EVERY_S:
                self.say(" | ".join(f"{c.name} {c.doing}" for c in self.couriers))
                last_status = time.monotonic()
            if rounds and done >= rounds:
                break
            tick += self.options["interval"]
            time.sleep(max(0.0, tick - time.monotonic()))

    def play_round(self) -> None:
        for courier in self.couriers:
            self.guarded(courier.name, self.courier_round, courier)
        if self.options["order_every"] >= 0:
            self.guarded(self.consumer.name, self.consumer_round)
        if self.options["pack_after"] >= 0:
            for packer in self.packers:
                self.guarded(packer.warehouse, self.packer_round, packer)

    def guarded(self, who: str, step, *args) -> None:
        """One person's turn; a refusal or a surprise is printed and the others go on. A server
        that is away ends the round."""
        try:
            step(*args)
        except ServerAway:
            raise
        except Refused as error:
            self.say(f"{who}: refused: {error}")
        except Exception as error:  # a shape the simulator did not expect: say it, go on
            self.say(f"{who}: {type(error).__name__}: {error}")

    # --- a courier's round ---

    def courier_round(self, courier: SimCourier) -> None:
        api = self.clients[courier.phone]
        now, wall = time.monotonic(), datetime.now(UTC)
        if not courier.on_shift:
            api.post("courier/shift/", {"on_shift": True})
            courier.on_shift = True
            courier.doing = "waiting for an offer"
            self.say(f"{courier.name} goes on shift")
        offers = [OfferView.from_api(item) for item in api.get("courier/offers/")]
        listed = {int(t["id"]) for t in api.get("courier/tasks/") if t["status"] in OPEN_TASK}
        tasks = []
        for task_id in sorted(courier.task_ids | listed):
            try:
                task = TaskView.from_api(api.get(f"courier/tasks/{task_id}/"))
            except Refused:
                task = None
            if task is None or task.status not in OPEN_TASK:
                courier.task_ids.discard(task_id)
            else:
                courier.task_ids.add(task_id)
                tasks.append(task)

        plan = plan_round(courier, offer=offers[0] if offers else None, tasks=tasks, now=now,
                          rng=self.rng, behaviour=self.behaviour)  # fmt: skip
        courier.last_round_at = now
        courier.position = plan.position
        courier.doing = plan.doing
        if courier.last_fix_at is None or now - courier.last_fix_at >= self.min_fix_s:
            self.send_fix(courier, api, now, wall)
        if plan.answer is not None:
            self.answer(courier, api, *plan.answer)
        if plan.pick_up is not None:
            api.post(f"courier/tasks/{plan.pick_up.id}/pick-up/")
            numbers = ", ".join(stop.number for stop in plan.pick_up.drop_offs)
            self.say(f"{courier.name} picks up task {plan.pick_up.id} at "
                     f"{plan.pick_up.warehouse_name}: {numbers}")  # fmt: skip
        if plan.deliver is not None:
            self.deliver(courier, api, plan.deliver)

    def send_fix(self, courier: SimCourier, api: ApiClient, now: float, wall: datetime) -> None:
        """Where the phone is, stamped with the moment the round's ride ended."""
        longitude, latitude = courier.position
        body = {
            "longitude": round(longitude, 6),
            "latitude": round(latitude, 6),
            "at": wall.isoformat(),
            "accuracy_m": round(self.rng.uniform(5, 20), 1),
        }
        try:
            answer = api.post("courier/positions/", body)
        except Refused as error:
            # Refused (a jump, a clock gone back): start again from the server's fix.
            self.say(f"{courier.name}: position refused: {error}")
            close_old_connections()
            row = Courier.objects.filter(user__phone=_normalised(courier.phone)).first()
            if row is not None and row.position is not None:
                courier.position = (row.position.x, row.position.y)
            courier.last_fix_at = now
            return
        courier.last_fix_at = now
        if answer and answer.get("reason") == "off_shift":
            courier.on_shift = False  # taken off shift elsewhere: back on next round

    def answer(self, courier: SimCourier, api: ApiClient, offer: OfferView, accept: bool) -> None:
        if not accept:
            api.post(f"courier/offers/{offer.id}/decline/")
            self.say(f"{courier.name} declines task {offer.task_id} from {offer.warehouse}")
            return
        route = api.post(f"courier/offers/{offer.id}/accept/")
        courier.task_ids.add(int(route["id"]) if route and "id" in route else offer.task_id)
        self.say(f"{courier.name} accepts task {offer.task_id} at {offer.warehouse}: "
                 f"{offer.order_count} order(s), {offer.distance_m:,.0f} m away")  # fmt: skip

    def deliver(self, courier: SimCourier, api: ApiClient, stop: DropOff) -> None:
        code = self.code_of(stop.order_id)
        path = f"courier/orders/{stop.order_id}/deliver/"
        if code:
            api.post(path, {"code": code})
            self.say(f"{courier.name} delivers {stop.number} to {stop.address} with code {code}")
        else:
            api.post_photo(path, door_photo())
            self.say(f"{courier.name} leaves {stop.number} at {stop.address} (photo)")
        self.consumer.open_orders.pop(stop.order_id, None)

    def code_of(self, order_id: int) -> str | None:
        """The code the consumer tells at the door: known for the simulator's own orders; for
        another of hers, read from her order's status."""
        if order_id not in self.consumer.codes:
            try:
                order = self.consumer_client.get(f"orders/{order_id}/")
            except Refused:  # someone else's order: there is nobody to ask
                return None
            if order.get("delivery_code"):
                self.consumer.codes[order_id] = order["delivery_code"]
        return self.consumer.codes.get(order_id)

    # --- the consumer's round ---

    def consumer_round(self) -> None:
        consumer, api = self.consumer, self.consumer_client
        now = time.monotonic()
        if not consumer.caught_up:
            page = api.get("orders/")
            for order in page.get("results", []) if isinstance(page, dict) else page:
                if order["status"] not in CLOSED_ORDER:
                    consumer.open_orders[int(order["id"])] = order["status"]
            consumer.caught_up = True
        for order_id in list(consumer.open_orders):
            order = api.get(f"orders/{order_id}/")
            if order["status"] in CLOSED_ORDER:
                consumer.open_orders.pop(order_id)
                consumer.codes.pop(order_id, None)
            else:
                consumer.open_orders[order_id] = order["status"]
        if consumer.pending is None:
            if not wants_to_order(consumer, now=now, max_open=self.options["max_open_orders"]):
                return
            consumer.next_order_at = now + next_order_in(self.rng, self.options["order_every"])
            body = self.new_order()
            if body is None:
                return
            consumer.pending = (uuid.uuid4().hex, body)
        key, body = consumer.pending
        try:
            order = api.post("orders/", body, headers={"Idempotency-Key": key})
        except Refused as error:
            consumer.pending = None
            self.say(f"{consumer.name}: order refused: {error}")
            return
        consumer.pending = None
        consumer.open_orders[int(order["id"])] = order["status"]
        if order.get("delivery_code"):
            consumer.codes[int(order["id"])] = order["delivery_code"]
        items = ", ".join(f"{line['name']} {Decimal(line['quantity_kg']).normalize():f} kg"
                          for line in order.get("lines", []))  # fmt: skip
        self.say(f"{consumer.name} orders {order['number']} to {body['address']}: {items}; "
                 f"¥{order['total']}, code {order.get('delivery_code')}")  # fmt: skip

    def new_order(self) -> dict | None:
        if not self.places:  # no warehouse has anyone to pack its orders
            return None
        place = choose_place(self.places, self.rng)
        shop = self.consumer_client.get("shop/", longitude=place.longitude, latitude=place.latitude)
        warehouse = shop["warehouse"]
        if not warehouse.get("open_now", True):
            self.say(f"{self.consumer.name}: {warehouse['name']} is closed now; no order")
            return None
        basket = choose_basket(shop["catalogue"], self.rng)
        if not basket:
            self.say(f"{self.consumer.name}: {warehouse['name']} has nothing in stock")
            return None
        return {
            "longitude": place.longitude,
            "latitude": place.latitude,
            "address": place.address,
            "lines": [
                {"product_id": product_id, "quantity_kg": f"{kg:.3f}"} for product_id, kg in basket
            ],
        }

    # --- the manager's round ---

    def packer_round(self, packer: Packer) -> None:
        orders = packer.client.get("warehouse/orders/", **packer.params)
        if isinstance(orders, dict):  # paginated
            orders = orders.get("results", [])
        now = datetime.now(UTC)
        for order_id in orders_to_pack(orders, now=now, after_s=self.options["pack_after"]):
            packed = packer.client.post(f"warehouse/orders/{order_id}/pack/", **packer.params)
            number = packed.get("number", order_id) if packed else order_id
            self.say(f"{packer.warehouse} packs {number}")

    # --- stopping ---

    def off_shift(self) -> None:
        """Couriers with nothing in hand go off shift; the server may be stopping too, so
        one quick try each."""
        for courier in self.couriers if hasattr(self, "couriers") else ():
            if not courier.on_shift or courier.task_ids:
                continue
            api = self.clients[courier.phone]
            api.timeout = 2.0
            try:
                api.post("courier/shift/", {"on_shift": False})
                self.say(f"{courier.name} goes off shift")
            except (ServerAway, Refused):
                pass


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def _on_sigterm(handler):
    """Honcho stops its processes with SIGTERM: stop as on Ctrl-C. Only the main thread may
    set a handler; elsewhere (a test's thread) the default stays."""
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:
        return None


def _phone(user: User) -> str:
    """The demo sign-in: the mobile number without +86, as people type it."""
    phone = user.phone or ""
    return phone[3:] if phone.startswith("+86") else (phone or user.username)


def _normalised(phone: str) -> str:
    return phone if phone.startswith("+") else f"+86{phone}"
