"""`manage.py simulate_loggers`: the demo's data loggers, alive, through the real HTTP API.

Every demo logger (coldchain/demo.py: one in each truck, one in each cold store) posts its
readings to `POST /api/coldchain/readings/` with its `Authorization: Device` header, as a
gateway would:

1. Backfill: the last `--backfill-hours` hours (and at least the truck's trip so far), one
   reading a minute, in time order, in batches. Two faults happened in that past: the apple
   truck's compressor failed about 70 minutes into its trip (too warm for half an hour), and
   the cucumber truck's unit ran too cold for half an hour (chilling-sensitive produce). Both
   last longer than the demo shipments' excursion delay, so the screen shows their alerts
   right after start.
2. Live: every `--interval` seconds, one reading per logger, the trucks' positions moving
   along the road from origin to destination by the clock. `--failure-after` seconds after
   start the sweet-pepper truck's compressor fails: the temperature climbs past 10 °C and,
   five minutes later, becomes an excursion; twelve minutes after failing the compressor
   runs again, the temperature comes back and the excursion closes.

Normal readings follow a daily pattern round the setpoint (warmer in the afternoon), the
compressor's on/off cycle and sensor noise; doors open now and then (often at 新发地's store
in the trading hours, now and then on a truck at a roadside check), a spike towards the
outside air that is over within three or four minutes, shorter than any excursion delay.
Everything is a function of (--seed, logger, time), so a rerun posts the same values for the
same moments and the API counts them as duplicates.

A live reading the server did not take (server down, 5xx) stays in the logger's buffer and
goes with the next round, as a real logger's memory would. A 4xx answer is printed and its
batch dropped: sending it again would not help.
"""

import json
import math
import os
import random
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from coldchain import demo
from coldchain.exceptions import Refused, ServerAway
from coldchain.models import DataLogger, LoggerAssignment
from common.dates import BUSINESS_TIME_ZONE

INGEST_PATH = "/api/coldchain/readings/"
STEP = timedelta(minutes=1)  # backfill resolution, as loggers record
MAX_BUFFER = 10_000  # readings a logger keeps while the server is away (one batch's worth)
STATUS_EVERY = timedelta(minutes=5)  # a live status line this often


def default_url() -> str:
    host = os.environ.get("WEB_HOST", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: talk to it locally
        host = "127.0.0.1"
    return f"http://{host}:{os.environ.get('WEB_PORT', '8000')}"


# --- The physics ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """A refrigeration unit out of order from `start`: the temperature moves towards
    setpoint + `delta` at `rate` °C a minute; from `fixed_after` the unit works again and
    pulls it back at `return_rate` °C a minute."""

    name: str
    start: datetime
    delta: float
    rate: float
    fixed_after: timedelta
    return_rate: float

    def offset(self, moment: datetime) -> float:
        minutes = (moment - self.start).total_seconds() / 60
        if minutes <= 0:
            return 0.0
        fixed = self.fixed_after.total_seconds() / 60
        size = min(abs(self.delta), self.rate * min(minutes, fixed))
        if minutes > fixed:
            size = max(0.0, size - self.return_rate * (minutes - fixed))
        return math.copysign(size, self.delta)

    @property
    def over_by(self) -> datetime:
        """When the temperature is back at the setpoint."""
        peak = min(abs(self.delta), self.rate * self.fixed_after.total_seconds() / 60)
        return self.start + self.fixed_after + timedelta(minutes=peak / self.return_rate)


@dataclass(frozen=True)
class Doors:
    """Door openings: in each 10-minute slot of the `hours` (local time) a door opens with
    `chance`, for 60 s to `longest` seconds; the air inside moves towards the outside air."""

    hours: tuple[int, int]  # [from, to) local hours; (0, 24) all day
    chance: float
    longest: int  # seconds


def outside_c(moment: datetime) -> float:
    """Late-autumn air in North China: about 2 °C before dawn, 10 °C mid-afternoon."""
    return 6.0 + 4.0 * _daily(moment)


def _daily(moment: datetime) -> float:
    """+1 at 15:00 local time, −1 at 03:00."""
    local = moment.astimezone(BUSINESS_TIME_ZONE)
    hour = local.hour + local.minute / 60 + local.second / 3600
    return math.cos(2 * math.pi * (hour - 15) / 24)


@dataclass
class SimulatedLogger:
    """One demo logger and what it watches now."""

    device_id: str
    secret: str
    subject: str  # "shipment CC-…" / "store …", for the log
    setpoint: float
    humidity: float
    watched_since: datetime
    seed: int
    daily_c: float = 0.2
    cycle_c: float = 0.25
    cycle_minutes: float = 18.0
    noise_c: float = 0.05
    doors: Doors | None = None
    faults: list[Fault] = field(default_factory=list)
    route: list[tuple[float, float]] | None = None  # trucks: (lon, lat) from origin to end
    trip: tuple[datetime, datetime] | None = None  # trucks: departed, due
    pending: list[dict] = field(default_factory=list)

    def _rng(self, *key) -> random.Random:
        return random.Random(":".join(map(str, (self.seed, self.device_id, *key))))

    def door_effect(self, moment: datetime) -> float:
        """0 with the doors shut; up to 1 while one is open, fading within a minute after."""
        if self.doors is None:
            return 0.0
        epoch = moment.timestamp()
        effect = 0.0
        # This slot's opening, and the previous one's tail.
        for slot in (int(epoch // 600), int(epoch // 600) - 1):
            rng = self._rng("door", slot)
            if rng.random() >= self.doors.chance:
                continue
            opened = slot * 600 + rng.uniform(0, 600 - self.doors.longest)
            if not self._door_hours(opened):
                continue
            duration = rng.uniform(60, self.doors.longest)
            seconds = epoch - opened
            if 0 <= seconds <= duration:
                effect = max(effect, 1 - math.exp(-seconds / 40))
            elif seconds > duration:
                effect = max(
                    effect, (1 - math.exp(-duration / 40)) * math.exp(-(seconds - duration) / 45)
                )
        return effect

    def _door_hours(self, epoch: float) -> bool:
        start, end = self.doors.hours
        hour = datetime.fromtimestamp(epoch, BUSINESS_TIME_ZONE).hour
        return start <= hour < end

    def reading(self, moment: datetime) -> dict:
        rng = self._rng(int(moment.timestamp()))
        cycle = (moment.timestamp() / 60 / self.cycle_minutes) % 1
        door = self.door_effect(moment)
        temperature = (
            self.setpoint
            + self.daily_c * _daily(moment)
            + self.cycle_c * (4 * abs(cycle - 0.5) - 1)
            + rng.gauss(0, self.noise_c)
            + door * 0.45 * (outside_c(moment) - self.setpoint)
            + sum(fault.offset(moment) for fault in self.faults)
        )
        humidity = self.humidity + 1.0 * _daily(moment) + rng.gauss(0, 0.4) - 6 * door
        hours_on = max(0.0, (moment - self.watched_since).total_seconds() / 3600)
        row = {
            "recorded_at": moment.isoformat(),
            "temperature_c": round(temperature, 1),
            "humidity_pct": round(min(max(humidity, 0.0), 100.0), 1),
            "battery_pct": max(5, round(100 - hours_on * (0.4 if self.route else 0.05))),
        }
        if self.route is not None:
            departed, due = self.trip
            share = (moment - departed).total_seconds() / (due - departed).total_seconds()
            longitude, latitude = demo.position_along(self.route, share)
            row["longitude"] = round(longitude + rng.uniform(-1e-4, 1e-4), 5)
            row["latitude"] = round(latitude + rng.uniform(-1e-4, 1e-4), 5)
        return row


# --- The demo's loggers, from the database -------------------------------------------------

# Per logger: the pattern of its doors, its setpoint's place in the range, its faults.
TRUCK_DOORS = Doors(hours=(0, 24), chance=0.03, longest=120)  # a roadside check now and then
STORE_DOORS = {
    "DEMO-STORE-1": Doors(hours=(2, 10), chance=0.35, longest=180),  # 新发地 trades 03:00–08:30
    "DEMO-STORE-2": Doors(hours=(7, 18), chance=0.2, longest=180),
    "DEMO-STORE-3": Doors(hours=(8, 17), chance=0.15, longest=180),
}
APPLE_TRUCK, CUCUMBER_TRUCK, PEPPER_TRUCK = "DEMO-TRUCK-4", "DEMO-TRUCK-1", "DEMO-TRUCK-3"


def backfill_faults(device_id: str, since: datetime) -> list[Fault]:
    """The faults in the past, placed by the trip's start (`since`) so every rerun agrees."""
    if device_id == APPLE_TRUCK:
        return [
            Fault("compressor failure", since + timedelta(minutes=70), 7.5, 0.3,
                  timedelta(minutes=30), 0.4),
        ]  # fmt: skip
    if device_id == CUCUMBER_TRUCK:
        # The unit switched to cooling at a rest stop: cucumbers chill below 10 °C.
        return [
            Fault("unit running too cold", since + timedelta(minutes=100), -4.5, 0.3,
                  timedelta(minutes=25), 0.35),
        ]  # fmt: skip
    return []


def live_fault(started: datetime, after: float) -> Fault:
    return Fault("compressor failure", started + timedelta(seconds=after), 6.5, 1.0,
                 timedelta(minutes=12), 0.8)  # fmt: skip


def demo_loggers(*, seed: int, now: datetime, live: Fault | None) -> list[SimulatedLogger]:
    """The demo loggers that watch something now, with what they watch."""
    loggers = []
    for spec in demo.demo_loggers():
        logger = DataLogger.objects.filter(device_id=spec.device_id, is_active=True).first()
        assignment = (
            LoggerAssignment.objects.filter(logger=logger, starts_at__lte=now)
            .exclude(ends_at__lte=now)
            .select_related(
                "shipment__origin", "shipment__destination", "shipment__vehicle", "store"
            )
            .first()
            if logger
            else None
        )
        if assignment is None:
            continue
        subject = assignment.subject
        middle = float(subject.min_temperature_c + subject.max_temperature_c) / 2
        simulated = SimulatedLogger(
            device_id=spec.device_id,
            secret=spec.secret,
            subject=f"shipment {subject.code}" if assignment.shipment_id else f"store {subject}",
            setpoint=middle,
            humidity=90.0,
            watched_since=assignment.starts_at,
            seed=seed,
        )
        if assignment.shipment_id:
            shipment = assignment.shipment
            lot = shipment.lots.select_related("lot__product__storage_profile").first()
            if lot is not None:
                profile = lot.lot.product.storage_profile
                simulated.humidity = float(profile.min_humidity_pct + profile.max_humidity_pct) / 2
            simulated.doors = TRUCK_DOORS
            simulated.route = demo.route_of(shipment)
            simulated.trip = (
                shipment.departed_at or shipment.planned_departure_at,
                shipment.planned_arrival_at,
            )
            simulated.faults = backfill_faults(spec.device_id, assignment.starts_at)
            if live is not None and spec.device_id == PEPPER_TRUCK:
                simulated.faults.append(live)
        else:
            simulated.doors = STORE_DOORS.get(spec.device_id)
            simulated.daily_c, simulated.cycle_c, simulated.cycle_minutes = 0.3, 0.3, 25.0
        loggers.append(simulated)
    return loggers


# --- HTTP ------------------------------------------------------------------------------------


def post_readings(url: str, logger: SimulatedLogger, rows: list[dict]) -> dict:
    request = urllib.request.Request(
        url + INGEST_PATH,
        data=json.dumps({"readings": rows}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Device {logger.device_id}:{logger.secret}",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = _gist(error.read().decode(errors="replace"))
        if error.code >= 500:
            raise ServerAway(f"HTTP {error.code}: {body}") from error
        raise Refused(f"HTTP {error.code}: {body}") from error
    except (urllib.error.URLError, OSError) as error:
        raise ServerAway(str(getattr(error, "reason", error))) from error


def _gist(body: str) -> str:
    """An error answer in one line: the JSON as sent, or an HTML page's title."""
    title = re.search(r"<title>\s*(.*?)\s*</title>", body, re.S | re.I)
    text = title.group(1) if title else body
    return " ".join(text.split())[:500]


class Command(BaseCommand):
    help = (
        "Post the demo loggers' readings through the HTTP API: a backfill of the last hours, "
        "then live readings (with one compressor failure) until stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default=default_url(), help="The web server's base URL.")
        parser.add_argument("--interval", type=float, default=30, help="Seconds between rounds.")
        parser.add_argument("--backfill-hours", type=float, default=6)
        parser.add_argument("--once", action="store_true", help="Backfill, one round, exit.")
        parser.add_argument("--seed", type=int, default=20261128, help="Same seed, same values.")
        parser.add_argument(
            "--failure-after",
            type=float,
            default=60,
            help="Seconds after start the pepper truck's compressor fails (negative: never).",
        )
        parser.add_argument(
            "--wait-healthy",
            type=float,
            default=120,
            help="Seconds to wait for /healthz to answer 200 before starting anyway.",
        )
        parser.add_argument("--batch", type=int, default=240, help="Backfill readings a post.")
        parser.add_argument(
            "--retry-for",
            type=float,
            default=60,
            help="With --once: seconds to keep trying a server that does not answer.",
        )
        parser.add_argument(
            "--force", action="store_true", help="Run with DEBUG off (never in production)."
        )

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()  # honcho reads a pipe: show each line as it comes

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("simulate_loggers posts made-up readings; DEBUG is off.")
        self.url = options["url"].rstrip("/")
        self.once = options["once"]
        self.retry_for = options["retry_for"]
        started = timezone.now().replace(microsecond=0)
        failure = (
            live_fault(started, options["failure_after"]) if options["failure_after"] >= 0 else None
        )
        self.wait_until_healthy(options["wait_healthy"])
        loggers = self.wait_for_demo(options["seed"], failure, options["interval"])
        self.say(f"simulating {len(loggers)} demo loggers against {self.url}")
        self.backfill(loggers, options["backfill_hours"], options["batch"])
        if failure is not None and any(x.device_id == PEPPER_TRUCK for x in loggers):
            self.say(
                f"{PEPPER_TRUCK}: compressor fails at {_local(failure.start)}, runs again at "
                f"{_local(failure.start + failure.fixed_after)} (excursion expected once it "
                f"has been above the range for the shipment's excursion delay)"
            )
        rounds, last_status = 0, time.monotonic()
        tick = time.monotonic()
        while True:
            now = timezone.now().replace(microsecond=0)
            try:
                close_old_connections()
                current = demo_loggers(seed=options["seed"], now=now, live=failure)
            except Exception as error:  # the database restarting: keep the buffers, go on
                self.say(f"cannot read the demo loggers ({error}); trying again next round")
                current = loggers
            loggers = self.keep_buffers(loggers, current)
            stored = self.live_round(loggers, now)
            rounds += 1
            if self.once:
                self.say(f"live round: {stored} readings stored; done (--once)")
                return
            if time.monotonic() - last_status >= STATUS_EVERY.total_seconds() or rounds == 1:
                self.say(f"{_local(now)} live round {rounds}: {len(loggers)} loggers, {stored} new")
                last_status = time.monotonic()
            tick += options["interval"]
            time.sleep(max(0.0, tick - time.monotonic()))

    # --- start-up ---

    def wait_until_healthy(self, seconds: float) -> None:
        """/healthz answers 200 once the database, Redis and a worker are up. Readings need
        only the web server, so after `seconds` the simulator starts anyway."""
        if seconds <= 0:
            return
        deadline = time.monotonic() + seconds
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=15) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as error:
                last = f"HTTP {error.code}"
            except (urllib.error.URLError, OSError) as error:
                last = str(getattr(error, "reason", error))
            time.sleep(1)
        self.say(f"{self.url}/healthz is not healthy after {seconds:g} s ({last}); starting anyway")

    def wait_for_demo(self, seed: int, failure, interval: float) -> list[SimulatedLogger]:
        while True:
            loggers = demo_loggers(seed=seed, now=timezone.now(), live=failure)
            if loggers:
                return loggers
            message = "no demo logger is watching anything: run `manage.py seed_demo` first"
            if self.once:
                raise CommandError(message)
            # Exiting would make honcho stop the whole stack; wait for the seed instead.
            self.say(f"{message}; looking again in a minute")
            time.sleep(max(interval, 60))
            close_old_connections()

    # --- posting ---

    def send(self, logger: SimulatedLogger, rows: list[dict], *, patient: bool) -> dict | None:
        """Post one batch. A server that is away is waited for when `patient` (the backfill:
        --retry-for seconds with --once, for ever otherwise); returns None when it was not
        taken."""
        delay, waited = 1.0, 0.0
        while True:
            try:
                return post_readings(self.url, logger, rows)
            except Refused as error:
                self.say(f"{logger.device_id}: {len(rows)} readings refused: {error}")
                return {"stored": 0, "duplicates": 0, "refused": True}
            except ServerAway as error:
                if not patient or (self.once and waited >= self.retry_for):
                    if self.once:
                        raise CommandError(f"{self.url} does not answer: {error}") from error
                    return None
                if waited == 0:
                    self.say(f"waiting for {self.url} ({error})")
                time.sleep(delay)
                waited += delay
                delay = min(delay * 2, 10.0)

    def backfill(self, loggers: list[SimulatedLogger], hours: float, batch: int) -> None:
        now = timezone.now()
        for logger in loggers:
            since = now - timedelta(hours=hours)
            if logger.trip is not None:  # a truck's whole trip so far, however long ago
                since = min(since, logger.trip[0])
            since = max(since, logger.watched_since)
            moment = _next_minute(since)
            moments = []
            while moment <= now:
                moments.append(moment)
                moment += STEP
            stored = duplicates = 0
            for start in range(0, len(moments), batch):
                rows = [logger.reading(m) for m in moments[start : start + batch]]
                answer = self.send(logger, rows, patient=True)
                stored += answer["stored"]
                duplicates += answer["duplicates"]
            faults = ", ".join(
                f"{f.name} {_local(f.start)}–{_local(f.over_by)}"
                for f in logger.faults
                if f.start < now
            )
            self.say(
                f"{logger.device_id} ({logger.subject}): backfilled {len(moments)} readings "
                f"from {_local(moments[0]) if moments else '-'}: {stored} stored, "
                f"{duplicates} already there" + (f"; {faults}" if faults else "")
            )

    def live_round(self, loggers: list[SimulatedLogger], now: datetime) -> int:
        """One reading per logger, with whatever it still holds from rounds the server
        missed; returns how many the server stored."""
        stored, away = 0, None
        for logger in loggers:
            logger.pending = [*logger.pending, logger.reading(now)][-MAX_BUFFER:]
            answer = self.send(logger, logger.pending, patient=self.once)
            if answer is None:
                away = logger.device_id
                continue
            stored += answer["stored"]
            logger.pending = []
        if away is not None:
            held = sum(len(x.pending) for x in loggers)
            self.say(f"{self.url} is away; {held} readings held for the next round")
        return stored

    @staticmethod
    def keep_buffers(old: list[SimulatedLogger], new: list[SimulatedLogger]):
        """The fresh plan, with each logger's unsent readings carried over."""
        pending = {x.device_id: x.pending for x in old}
        for logger in new:
            logger.pending = pending.get(logger.device_id, [])
        return new


def _next_minute(moment: datetime) -> datetime:
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + STEP


def _local(moment: datetime) -> str:
    return moment.astimezone(BUSINESS_TIME_ZONE).strftime("%H:%M")
