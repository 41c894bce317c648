"""Data loggers in the 望京 load store: each posts the readings it took since its last batch
(one a second, well inside the store's 0–8 °C range), as a logger's gateway does."""

import random
from datetime import UTC, datetime, timedelta

from locust import constant_pacing, task
from locust.contrib.fasthttp import FastHttpUser

from .base import RATES, call, take

INGEST = "/api/coldchain/readings/"


class Logger(FastHttpUser):
    fixed_count = RATES.loggers
    wait_time = constant_pacing(RATES.logger_every_s)

    def on_start(self) -> None:
        account = take("loggers")
        self.auth = {"Authorization": f"Device {account['device_id']}:{account['secret']}"}
        self.rng = random.Random(account["device_id"])
        self.temperature = self.rng.uniform(3.0, 5.0)
        self.last = datetime.now(UTC).replace(microsecond=0) - timedelta(
            seconds=RATES.readings_per_batch
        )

    @task
    def post_readings(self) -> None:
        end = datetime.now(UTC).replace(microsecond=0)
        readings = []
        moment = self.last + timedelta(seconds=1)
        while moment <= end:
            # A slow wander between 2 and 6 °C: the compressor cycling.
            self.temperature = min(6.0, max(2.0, self.temperature + self.rng.uniform(-0.1, 0.1)))
            readings.append(
                {
                    "recorded_at": moment.isoformat(),
                    "temperature_c": round(self.temperature, 2),
                    "humidity_pct": round(self.rng.uniform(85, 95), 1),
                    "battery_pct": 90,
                }
            )
            moment += timedelta(seconds=1)
        readings = readings[-10_000:]
        if not readings:
            return
        self.last = end
        call(
            self.client,
            "POST",
            INGEST,
            name="logger: post readings",
            json={"readings": readings},
            headers=self.auth,
        )
