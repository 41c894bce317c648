"""Instant delivery from the 望京 front warehouse: consumers order, the warehouse packs,
couriers on shift send their positions and answer the offers dispatch makes them.

The couriers do not ride: they wait near the warehouse (small moves, well under the speed the
server believes), pick up as soon as the bag is packed and deliver at once with the code the
consumer gives at the door (the consumers' users keep it in `delivery_codes`). Dispatch itself
(offers, their expiry, the sweep) is the server's and its worker's.
"""

import io
import math
import random
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from locust import constant_pacing, task
from locust.contrib.fasthttp import FastHttpUser
from PIL import Image

from .base import RATES, call, delivery_codes, now, pool, results, take

API = "/api/delivery/"
OPEN_TASK = ("assigned", "picked_up")
PORTIONS_KG = (Decimal("0.5"), Decimal("1"), Decimal("1"), Decimal("1.5"), Decimal("2"))
ACCEPT_SHARE = 0.9
WANDER_M = 300.0  # idle couriers stay this near the warehouse
STEP_M = 40.0  # between two fixes 10 s apart: 14 km/h
M_PER_DEGREE = 111_320.0


def _door_photo() -> bytes:
    image = Image.new("RGB", (320, 240), (150, 120, 90))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


DOOR_PHOTO = _door_photo()


def _token(account: dict) -> dict:
    return {"Authorization": f"Token {account['token']}"}


class Courier(FastHttpUser):
    fixed_count = RATES.couriers
    wait_time = constant_pacing(RATES.courier_every_s)

    def on_start(self) -> None:
        account = take("couriers")
        self.auth = _token(account)
        self.rng = random.Random(account["username"])
        home = pool()["warehouse"]
        self.home = (home["longitude"], home["latitude"])
        self.position = self.home
        self.last_fix = -math.inf
        self.task_ids: set[int] = set()
        self.answered: set[int] = set()
        call(
            self.client,
            "POST",
            f"{API}courier/shift/",
            name="courier: go on shift",
            json={"on_shift": True},
            headers=self.auth,
        )
        # Tasks left open by an earlier run are finished first (their doors by photo).
        listed = call(
            self.client, "GET", f"{API}courier/tasks/", name="courier: tasks", headers=self.auth
        )
        self.task_ids = {int(t["id"]) for t in results(listed) if t["status"] in OPEN_TASK}

    def on_stop(self) -> None:
        if not self.task_ids:
            call(
                self.client,
                "POST",
                f"{API}courier/shift/",
                name="courier: go off shift",
                json={"on_shift": False},
                headers=self.auth,
                refusals=(409,),
            )

    def _move(self) -> None:
        """A few dozen metres in some direction, drawn back towards the warehouse."""
        lon, lat = self.position
        east = (lon - self.home[0]) * M_PER_DEGREE * math.cos(math.radians(lat))
        north = (lat - self.home[1]) * M_PER_DEGREE
        bearing = self.rng.uniform(0, 2 * math.pi)
        if math.hypot(east, north) > WANDER_M:
            bearing = math.atan2(-east, -north)
        east += STEP_M * math.sin(bearing)
        north += STEP_M * math.cos(bearing)
        self.position = (
            self.home[0] + east / (M_PER_DEGREE * math.cos(math.radians(lat))),
            self.home[1] + north / M_PER_DEGREE,
        )

    @task
    def work(self) -> None:
        if now() - self.last_fix >= RATES.position_every_s:
            self._move()
            self.last_fix = now()
            body = {
                "longitude": round(self.position[0], 6),
                "latitude": round(self.position[1], 6),
                "at": datetime.now(UTC).isoformat(),
                "accuracy_m": 10,
            }
            answer = call(
                self.client,
                "POST",
                f"{API}courier/positions/",
                name="courier: send position",
                json=body,
                headers=self.auth,
            )
            if isinstance(answer, dict) and answer.get("reason") == "off_shift":
                call(
                    self.client,
                    "POST",
                    f"{API}courier/shift/",
                    name="courier: go on shift",
                    json={"on_shift": True},
                    headers=self.auth,
                )
        offers = call(
            self.client, "GET", f"{API}courier/offers/", name="courier: offers", headers=self.auth
        )
        for offer in results(offers):
            if offer["id"] in self.answered:
                continue
            self.answered.add(offer["id"])
            self._answer(offer)
        for task_id in sorted(self.task_ids):
            self._work_task(task_id)

    def _answer(self, offer: dict) -> None:
        # An offer may run out, or go to another, between the list and the answer: 409.
        if self.rng.random() < ACCEPT_SHARE:
            route = call(
                self.client,
                "POST",
                f"{API}courier/offers/{offer['id']}/accept/",
                name="courier: accept offer",
                headers=self.auth,
                refusals=(409,),
            )
            if isinstance(route, dict):
                self.task_ids.add(int(route.get("id", offer["task_id"])))
        else:
            call(
                self.client,
                "POST",
                f"{API}courier/offers/{offer['id']}/decline/",
                name="courier: decline offer",
                headers=self.auth,
                refusals=(409,),
            )

    def _work_task(self, task_id: int) -> None:
        route = call(
            self.client,
            "GET",
            f"{API}courier/tasks/{task_id}/",
            name="courier: task",
            headers=self.auth,
        )
        if not isinstance(route, dict) or route["status"] not in OPEN_TASK:
            self.task_ids.discard(task_id)
            return
        if route["status"] == "assigned":
            if not route.get("can_pick_up"):
                return  # still being packed: the next round looks again
            # Packed between the look and the tap by nobody else: 409 would be a surprise.
            route = call(
                self.client,
                "POST",
                f"{API}courier/tasks/{task_id}/pick-up/",
                name="courier: pick up",
                headers=self.auth,
            )
            if not isinstance(route, dict):
                return
        for stop in route.get("orders", ()):
            if stop["status"] != "picked_up":
                continue
            path = f"{API}courier/orders/{stop['id']}/deliver/"
            code = delivery_codes.pop(int(stop["id"]), None)
            if code is not None:
                call(
                    self.client,
                    "POST",
                    path,
                    name="courier: deliver with code",
                    json={"code": code},
                    headers=self.auth,
                )
                continue
            # Nobody to tell the code (an order of an earlier run, or of the demo's
            # simulator): a photo of the parcel at the door, as the courier's page allows.
            boundary = uuid.uuid4().hex
            body = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
                f'filename="door.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
            ).encode()
            body += DOOR_PHOTO + f"\r\n--{boundary}--\r\n".encode()
            call(
                self.client,
                "POST",
                path,
                name="courier: deliver with photo",
                data=body,
                headers={**self.auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            )


class Consumer(FastHttpUser):
    fixed_count = RATES.consumers
    wait_time = constant_pacing(RATES.consumer_every_s)

    def on_start(self) -> None:
        account = take("consumers")
        self.auth = _token(account)
        self.rng = random.Random(account["username"])
        self.home = pool()["home"]
        self.open: set[int] = set()

    @task
    def order(self) -> None:
        for order_id in sorted(self.open):
            order = call(
                self.client,
                "GET",
                f"{API}orders/{order_id}/",
                name="consumer: follow order",
                headers=self.auth,
            )
            if not isinstance(order, dict) or order["status"] in ("delivered", "cancelled"):
                self.open.discard(order_id)
        if len(self.open) >= 3:
            return  # she waits for what she ordered
        # A few metres from home, as a phone's location is.
        lon = self.home["longitude"] + self.rng.uniform(-0.0005, 0.0005)
        lat = self.home["latitude"] + self.rng.uniform(-0.0005, 0.0005)
        shop = call(
            self.client,
            "GET",
            f"{API}shop/?longitude={lon:.6f}&latitude={lat:.6f}",
            name="consumer: shop",
            headers=self.auth,
        )
        if not isinstance(shop, dict) or not shop.get("warehouse", {}).get("open_now", True):
            return
        stocked = [i for i in shop["catalogue"] if Decimal(str(i["available_kg"])) >= 2]
        if not stocked:
            return
        basket = self.rng.sample(stocked, min(len(stocked), self.rng.choice((1, 2, 3))))
        body = {
            "longitude": round(lon, 6),
            "latitude": round(lat, 6),
            "address": self.home["address"],
            "lines": [
                {
                    "product_id": item["product_id"],
                    "quantity_kg": f"{self.rng.choice(PORTIONS_KG):.3f}",
                }
                for item in basket
            ],
        }
        # Sold out between the shop's page and the order: 409, as the shop tells her.
        order = call(
            self.client,
            "POST",
            f"{API}orders/",
            name="consumer: place order",
            json=body,
            headers={**self.auth, "Idempotency-Key": uuid.uuid4().hex},
            refusals=(409,),
        )
        if isinstance(order, dict):
            self.open.add(int(order["id"]))
            if order.get("delivery_code"):
                delivery_codes[int(order["id"])] = order["delivery_code"]


class Packer(FastHttpUser):
    """The warehouse's staff: every order that needs packing is packed."""

    fixed_count = RATES.packers
    wait_time = constant_pacing(RATES.packer_every_s)

    def on_start(self) -> None:
        self.auth = _token(pool()["packer"])

    @task
    def pack(self) -> None:
        orders = call(
            self.client,
            "GET",
            f"{API}warehouse/orders/",
            name="warehouse: open orders",
            headers=self.auth,
        )
        for order in results(orders):
            if order.get("needs_packing"):
                # Cancelled or packed meanwhile: 409.
                call(
                    self.client,
                    "POST",
                    f"{API}warehouse/orders/{order['id']}/pack/",
                    name="warehouse: pack order",
                    headers=self.auth,
                    refusals=(409,),
                )
