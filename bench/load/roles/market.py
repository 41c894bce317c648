"""The wholesale market's counters record and settle trades; marketplace buyers search.

Counters: each load operator at 新发地 weighs a lot and records the trade with one of the
load buyers' cards and one of the demo's sellers (a product that seller brings, a price in
the month's band), with an Idempotency-Key as the counter page sends; now and then she
looks at the day's trades. A card short of the amount is the product's refusal (400 on
buyer_card, its balance shown): the buyer tops up at the cashier, so the counter goes on.

Buyers: searches as *Find produce* sends them, from a Chinese city, by name, pinyin
initials, category or price, nearest or cheapest first, sometimes within a radius.
"""

import random
import uuid
from decimal import Decimal
from urllib.parse import urlencode

from locust import constant_pacing, task
from locust.contrib.fasthttp import FastHttpUser

from .base import RATES, call, pool, take

CITIES = (
    (116.40, 39.90),  # Beijing
    (117.20, 39.13),  # Tianjin
    (118.78, 36.86),  # Shouguang
    (121.47, 31.23),  # Shanghai
    (113.26, 23.13),  # Guangzhou
    (108.94, 34.34),  # Xi'an
    (104.07, 30.67),  # Chengdu
)
QUERIES = ("", "", "黄瓜", "番茄", "苹果", "hg", "xhs", "tomato", "pepper", "白菜")
ORDERINGS = ("distance", "distance", "price", "-price", "-harvest_date")
CATEGORIES = ("", "", "", "fruit_vegetable", "leafy_vegetable", "pome_fruit")
RADII = ("", "", "", "200", "500")


def _token(account: dict) -> dict:
    return {"Authorization": f"Token {account['token']}"}


def _card_short(status: int, text: str) -> bool:
    return status == 400 and "buyer_card" in text and "balance" in text.lower()


class Counter(FastHttpUser):
    fixed_count = RATES.counters
    wait_time = constant_pacing(RATES.counter_every_s)

    def on_start(self) -> None:
        account = take("operators")
        self.auth = _token(account)
        self.rng = random.Random(account["username"])
        self.cards = pool()["buyer_cards"]
        self.lines = pool()["lines"]
        self.recorded = 0

    @task
    def record_trade(self) -> None:
        line = self.rng.choice(self.lines)
        low, high = Decimal(line["low"]), Decimal(line["high"])
        price = low + (high - low) * Decimal(self.rng.random())
        gross = Decimal(self.rng.randrange(50, 600))
        body = {
            "buyer_card": self.rng.choice(self.cards),
            "seller_card": line["seller_card"],
            "product": line["product"],
            "gross_kg": f"{gross:.1f}",
            "tare_kg": f"{gross * Decimal('0.012'):.1f}",  # crates and pallets
            "unit_price": f"{price:.2f}",
        }
        call(
            self.client,
            "POST",
            "/api/market/trades/",
            name="counter: settle trade",
            json=body,
            headers={**self.auth, "Idempotency-Key": uuid.uuid4().hex},
            refusals=_card_short,
        )
        self.recorded += 1
        if self.recorded % 10 == 0:
            call(
                self.client,
                "GET",
                "/api/market/trades/",
                name="counter: today's trades",
                headers=self.auth,
            )


class Buyer(FastHttpUser):
    fixed_count = RATES.buyers
    wait_time = constant_pacing(RATES.buyer_every_s)

    def on_start(self) -> None:
        account = take("buyers")
        self.auth = _token(account)
        self.rng = random.Random(account["username"])

    @task
    def search(self) -> None:
        lon, lat = self.rng.choice(CITIES)
        params = {
            "near": f"{lon:.2f},{lat:.2f}",
            "q": self.rng.choice(QUERIES),
            "ordering": self.rng.choice(ORDERINGS),
            "category": self.rng.choice(CATEGORIES),
            "radius_km": self.rng.choice(RADII),
            "page_size": "20",
        }
        query = urlencode({key: value for key, value in params.items() if value})
        page = call(
            self.client,
            "GET",
            f"/api/listings/?{query}",
            name="buyer: search listings",
            headers=self.auth,
        )
        if isinstance(page, dict) and page.get("next") and self.rng.random() < 0.3:
            call(
                self.client,
                "GET",
                f"/api/listings/?{query}&page=2",
                name="buyer: search, next page",
                headers=self.auth,
            )
