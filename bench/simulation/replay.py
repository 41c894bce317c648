"""A day replayed through the real services, on the simulated clock, one event at a time.

The events, in order of their simulated time (a heap; ties in the order they were made):

- an order is placed: `place_order` as one of the day's consumers, at the day's door;
- packing ends: `pack_order` by the warehouse's staff; the warehouse's packers work the
  orders first come, first served (an order waits for a free packer);
- a Celery message falls due: the services' own messages (`dispatch_order` after packing,
  `expire_offer` after an offer's countdown), run in-process (`clock.held_messages`);
- the beat's dispatch sweep (`delivery.sweep_dispatch`, at its interval in config/celery.py);
- a courier answers an offer: `accept_offer` or `decline_offer` after his answer delay, or
  not at all (the offer runs out);
- a courier starts or ends his shift (`start_shift`, `end_shift` once he has no task), arrives
  at a warehouse (`pick_up`) or at a door (`deliver_with_code` with the order's code, read
  from the database), and his phone's position fixes (`record_position`) while he rides,
  every `position_fix_seconds` (interpolated on the straight line) and at every stop.

A courier decides only from what the database shows him, as his phone does: his pending offer,
his tasks and their orders. Having accepted, he rides to the task's warehouse; a route he is
already on is finished first (a task at the warehouse he is heading to and has not picked up
at yet is picked up on the same visit); at the warehouse he picks up every task of his that
is there, and waits while one is refused because its orders are still being packed (trying
again when one is packed); then he delivers, nearest door first. Idle, he stays where his last
delivery ended (`idle="stay"`) or rides back to his warehouse (`idle="return"`).

New offers are looked for after every event (pending offers to the day's couriers not yet
seen), and each is answered after the courier's answer delay.
"""

import heapq
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.db.models.signals import post_save
from django.test.utils import override_settings

from common.geo import LonLat, metres_between
from delivery.exceptions import DeliveryError, DispatchError, ShiftNotEnded, StepNotAllowed
from delivery.models import (
    Courier,
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    OfferStatus,
    TaskOffer,
    TaskOfferEvent,
)
from delivery.services import couriers as courier_services
from delivery.services import offers
from delivery.services.orders import pack_order, place_order

from .clock import Message, SimClock, beat_interval, held_messages
from .days import CourierSpec, Day, OrderSpec, hash_seed
from .metrics import Figures, measure
from .world import ORDER_KG, World, build, retire

SWEEP_TASK = "delivery.sweep_dispatch"
ACCEPT, DECLINE = "accept", "decline"
SIGNAL_UID = "bench.simulation.offers"
# The city is built this long before the first shift starts.
SETUP_AHEAD = timedelta(minutes=15)


@dataclass
class Leg:
    start: LonLat
    end: LonLat
    departs: datetime
    arrives: datetime
    token: int
    purpose: str  # "warehouse", "door", "home"
    target: int | None  # the warehouse's id, or the order's
    code: str = ""  # the order's delivery code, as the consumer will read it out


@dataclass
class Agent:
    """A courier in the simulation: where he is, what he is doing."""

    spec: CourierSpec
    courier: Courier
    position: LonLat
    home: LonLat
    rng: random.Random
    leg: Leg | None = None
    tokens: itertools.count = field(default_factory=itertools.count)
    busy_until: datetime | None = None  # handing over or loading
    waiting_at: int | None = None  # a warehouse's id: waiting for packing to end there
    off_duty: bool = False  # his shift's end has come
    on_shift: bool = False

    def where(self, now: datetime) -> LonLat:
        """His position now, on the straight line of the leg he is riding."""
        leg = self.leg
        if leg is None:
            return self.position
        span = (leg.arrives - leg.departs).total_seconds()
        share = 1.0 if span <= 0 else min(1.0, (now - leg.departs).total_seconds() / span)
        return (
            leg.start[0] + (leg.end[0] - leg.start[0]) * share,
            leg.start[1] + (leg.end[1] - leg.start[1]) * share,
        )


@dataclass
class Counts:
    placed: int = 0
    delivered: int = 0
    offers: int = 0
    accepted: int = 0
    declined: int = 0
    ignored: int = 0
    refused_answers: int = 0
    pickups_refused: int = 0
    fixes: int = 0
    sweeps: int = 0
    tasks_run: int = 0
    events: int = 0
    cancelled_at_end: int = 0  # not carried when the replay ended (see world.retire)
    problems: list[str] = field(default_factory=list)


class Replay:
    def __init__(self, day: Day, world: World, clock: SimClock) -> None:
        self.day, self.world, self.clock = day, world, clock
        self.params = day.params
        self.heap: list[tuple[datetime, int, Callable, tuple]] = []
        self.sequence = itertools.count()
        self.counts = Counts()
        self.warehouse_index = {w.pk: i for i, w in enumerate(world.warehouses)}
        self.packers: dict[int, list[datetime]] = {}
        self.last_offer_pk = (
            TaskOffer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        )
        self.courier_ids = [c.pk for c in world.couriers]
        self.agents: dict[int, Agent] = {}
        for spec, courier in zip(day.couriers, world.couriers, strict=True):
            home = world.warehouses[spec.warehouse].site.location
            self.agents[courier.pk] = Agent(
                spec=spec,
                courier=Courier.objects.select_related("user").get(pk=courier.pk),
                position=(home.x, home.y),
                home=(home.x, home.y),
                rng=random.Random(hash_seed(self.params.seed, "courier", spec.index)),
            )
        self.ends_at = day.last_order + timedelta(minutes=self.params.drain_minutes)
        self.sweep_every = beat_interval(SWEEP_TASK)
        self.offers_moved = False

    # --- The loop ---------------------------------------------------------------------------

    def at(self, moment: datetime, handler: Callable, *args: Any) -> None:
        heapq.heappush(self.heap, (moment, next(self.sequence), handler, args))

    def deliver_message(self, message: Message) -> None:
        """A Celery message the services sent: run when due (never before the moment it was
        sent, which is now)."""
        self.at(max(message.due or self.clock.now, self.clock.now), self.run_message, message)

    def run(self) -> Counts:
        for spec in self.day.orders:
            self.at(spec.at, self.place, spec)
        for agent in self.agents.values():
            self.at(agent.spec.shift_start, self.start_shift, agent)
            self.at(agent.spec.shift_end, self.end_shift, agent)
        self.at(self.day.starts, self.sweep)
        total = len(self.day.orders)
        post_save.connect(self.offer_moved, sender=TaskOfferEvent, dispatch_uid=SIGNAL_UID)
        try:
            while self.heap:
                moment, _n, handler, args = heapq.heappop(self.heap)
                if moment > self.ends_at:
                    break
                self.clock.advance_to(moment)
                handler(*args)
                self.counts.events += 1
                if self.offers_moved:
                    self.look_for_offers()
                if self.counts.placed == total and self.counts.delivered == total:
                    break
        finally:
            post_save.disconnect(sender=TaskOfferEvent, dispatch_uid=SIGNAL_UID)
        return self.counts

    def offer_moved(self, **_kwargs) -> None:
        """An offer's history moved (transitions writes every move): new offers may wait."""
        self.offers_moved = True

    def run_message(self, message: Message) -> None:
        self.counts.tasks_run += 1
        message.run()
        self.offers_moved = True  # dispatch ran: look, whatever the signal said

    def sweep(self) -> None:
        """The beat's sweep, on its interval. While the city has no order between placed and
        delivered it has nothing to find here, and is not run (it would only meet what other
        replays left behind)."""
        if self.counts.placed > self.counts.delivered:
            self.counts.sweeps += 1
            Message(SWEEP_TASK, ()).run()
        self.at(self.clock.now + self.sweep_every, self.sweep)

    # --- Consumers and staff ----------------------------------------------------------------

    def place(self, spec: OrderSpec) -> None:
        world = self.world
        longitude, latitude = world.place(spec.door_east_m, spec.door_north_m)
        order = place_order(
            consumer=world.consumers[spec.index % len(world.consumers)],
            longitude=longitude,
            latitude=latitude,
            address=f"模拟路 {spec.index + 1} 号",
            lines=[(world.product.pk, ORDER_KG)],
            idempotency_key=f"{world.tag}-{spec.index}",
        )
        self.counts.placed += 1
        # First come, first served on the warehouse's packers.
        warehouse = self.warehouse_index[order.warehouse_id]
        packing = self.params.packing[warehouse % len(self.params.packing)]
        free = self.packers.setdefault(warehouse, [self.clock.now] * packing.packers)
        starts = max(self.clock.now, heapq.heappop(free))
        done = starts + timedelta(minutes=spec.packing_minutes)
        heapq.heappush(free, done)
        self.at(done, self.pack, order.pk, warehouse)

    def pack(self, order_id: int, warehouse: int) -> None:
        pack_order(by=self.world.staff[warehouse], order_id=order_id)
        warehouse_id = self.world.warehouses[warehouse].pk
        for agent in self.agents.values():
            if agent.waiting_at == warehouse_id:
                self.pick_up(agent, warehouse_id)

    # --- Offers -----------------------------------------------------------------------------

    def look_for_offers(self) -> None:
        self.offers_moved = False
        fresh = list(
            TaskOffer.objects.filter(pk__gt=self.last_offer_pk, courier_id__in=self.courier_ids)
            .order_by("pk")
            .values_list("pk", "courier_id", "status")
        )
        for offer_id, courier_id, status in fresh:
            self.last_offer_pk = max(self.last_offer_pk, offer_id)
            if status != OfferStatus.PENDING:
                continue
            self.counts.offers += 1
            agent = self.agents[courier_id]
            draw = agent.rng.random()
            delay = agent.rng.uniform(*self.params.answer_seconds)
            if agent.off_duty or draw < self.params.decline_share:
                choice = DECLINE
            elif draw < self.params.decline_share + self.params.timeout_share:
                self.counts.ignored += 1
                continue
            else:
                choice = ACCEPT
            self.at(self.clock.now + timedelta(seconds=delay), self.answer, agent, offer_id, choice)

    def answer(self, agent: Agent, offer_id: int, choice: str) -> None:
        try:
            if choice == ACCEPT:
                offers.accept_offer(courier=agent.courier, offer_id=offer_id)
                self.counts.accepted += 1
                self.plan(agent)
            else:
                offers.decline_offer(courier=agent.courier, offer_id=offer_id)
                self.counts.declined += 1
        except DispatchError:
            # Withdrawn, expired or over capacity meanwhile: the phone shows the refusal.
            self.counts.refused_answers += 1

    # --- Shifts -----------------------------------------------------------------------------

    def start_shift(self, agent: Agent) -> None:
        agent.courier = courier_services.start_shift(courier=agent.courier)
        agent.on_shift = True
        self.fix(agent)
        self.plan(agent)

    def end_shift(self, agent: Agent) -> None:
        agent.off_duty = True
        self.plan(agent)

    # --- Riding -----------------------------------------------------------------------------

    def fix(self, agent: Agent) -> None:
        if not agent.on_shift:
            return
        longitude, latitude = agent.where(self.clock.now)
        courier_services.record_position(
            courier=agent.courier, longitude=longitude, latitude=latitude
        )
        self.counts.fixes += 1

    def ride(
        self, agent: Agent, end: LonLat, purpose: str, target: int | None, code: str = ""
    ) -> None:
        now = self.clock.now
        start = agent.where(now)
        minutes = metres_between(start, end) / self.params.speed_m_per_min
        arrives = now + timedelta(minutes=minutes)
        leg = Leg(start, end, now, arrives, next(agent.tokens), purpose, target, code)
        agent.leg, agent.position = leg, start
        self.at(leg.arrives, self.arrive, agent, leg.token)
        self.next_fix(agent, leg)

    def next_fix(self, agent: Agent, leg: Leg) -> None:
        moment = self.clock.now + timedelta(seconds=self.params.position_fix_seconds)
        if moment < leg.arrives:
            self.at(moment, self.fix_on_leg, agent, leg.token)

    def fix_on_leg(self, agent: Agent, token: int) -> None:
        if agent.leg is None or agent.leg.token != token:
            return
        self.fix(agent)
        self.next_fix(agent, agent.leg)

    def arrive(self, agent: Agent, token: int) -> None:
        leg = agent.leg
        if leg is None or leg.token != token:
            return  # a leg he left for another
        agent.position, agent.leg = leg.end, None
        self.fix(agent)
        if leg.purpose == "warehouse":
            assert leg.target is not None
            self.pick_up(agent, leg.target)
        elif leg.purpose == "door":
            assert leg.target is not None
            self.hand_over(agent, leg.target, leg.code)
        else:
            self.plan(agent)

    def stay(self, agent: Agent, minutes: float) -> None:
        agent.busy_until = self.clock.now + timedelta(minutes=minutes)
        self.at(agent.busy_until, self.free, agent)

    def free(self, agent: Agent) -> None:
        if agent.busy_until is not None and agent.busy_until <= self.clock.now:
            agent.busy_until = None
            self.plan(agent)

    # --- At the warehouse and the door ------------------------------------------------------

    def pick_up(self, agent: Agent, warehouse_id: int) -> None:
        """Every task of his waiting at this warehouse; he stays while one is refused because
        some of its orders are still being packed."""
        waiting = picked = refused = False
        for task_id in (
            DeliveryTask.objects.filter(
                courier=agent.courier, warehouse_id=warehouse_id, status=DeliveryTaskStatus.ASSIGNED
            )
            .order_by("accepted_at", "pk")
            .values_list("pk", flat=True)
        ):
            try:
                courier_services.pick_up(courier=agent.courier, task_id=task_id)
                picked = True
            except StepNotAllowed as refusal:
                self.counts.pickups_refused += 1
                # Still being packed: placed, or assigned to him before its packing ended.
                if DeliveryOrder.objects.filter(
                    task_id=task_id,
                    packed_at__isnull=True,
                    status__in=(DeliveryOrderStatus.PLACED, DeliveryOrderStatus.ASSIGNED),
                ).exists():
                    waiting = True
                else:
                    refused = True
                    self.counts.problems.append(f"pick-up of task {task_id} refused: {refusal}")
        agent.waiting_at = warehouse_id if waiting else None
        if waiting:
            return
        if picked:
            self.stay(agent, self.params.warehouse_service_minutes)
        elif refused:
            self.stay(agent, 1.0)  # not at the same instant again: the replay would never end
        else:
            self.plan(agent)

    def hand_over(self, agent: Agent, order_id: int, code: str) -> None:
        try:
            courier_services.deliver_with_code(courier=agent.courier, order_id=order_id, code=code)
        except DeliveryError as refusal:
            self.counts.problems.append(f"delivery of order {order_id} refused: {refusal}")
            self.plan(agent)
            return
        self.counts.delivered += 1
        self.stay(agent, self.params.door_service_minutes)

    # --- What next --------------------------------------------------------------------------

    def plan(self, agent: Agent) -> None:
        """His next move, from what his phone shows him."""
        now = self.clock.now
        if not agent.on_shift or agent.waiting_at is not None:
            return
        if agent.busy_until is not None and agent.busy_until > now:
            return  # the end of his stay plans again
        if agent.leg is not None and agent.leg.purpose != "home":
            return  # he finishes the route he is on
        here = agent.where(now)
        orders = list(
            DeliveryOrder.objects.filter(
                task__courier=agent.courier,
                task__status__in=(DeliveryTaskStatus.ASSIGNED, DeliveryTaskStatus.PICKED_UP),
            )
            .filter(
                Q(status=DeliveryOrderStatus.PICKED_UP)
                | Q(task__status=DeliveryTaskStatus.ASSIGNED)
            )
            .select_related("task", "warehouse__site")
            .order_by("task__accepted_at", "task_id", "pk")
        )
        carried = [o for o in orders if o.status == DeliveryOrderStatus.PICKED_UP]
        if carried:
            door = min(carried, key=lambda o: metres_between(here, (o.location.x, o.location.y)))
            point = (door.location.x, door.location.y)
            self.ride(agent, point, "door", door.pk, door.delivery_code)
            return
        if orders:
            warehouse = orders[0].warehouse
            site = warehouse.site.location
            self.ride(agent, (site.x, site.y), "warehouse", warehouse.pk)
            return
        if agent.off_duty:
            try:
                courier_services.end_shift(courier=agent.courier)
            except ShiftNotEnded:
                return  # a task was accepted meanwhile: he goes on
            agent.on_shift = False
            agent.leg = None
            agent.position = here
            return
        if self.params.idle == "return" and metres_between(here, agent.home) > 50:
            if agent.leg is None:
                self.ride(agent, agent.home, "home", None)
            return
        if agent.leg is not None:  # riding home, nothing new: ride on
            return
        agent.position = here


# --- One replay -----------------------------------------------------------------------------


@dataclass
class Outcome:
    figures: Figures
    counts: Counts
    world: World
    seconds: float  # of wall-clock time


def replay_day(day: Day, *, policy: dict, tag: str, slot: int) -> Outcome:
    """The day replayed with `policy` (Django settings for this replay only) in a city of
    its own (`tag` names its rows, `slot` is its place on the map); its figures."""
    started = time.perf_counter()
    held: list[Message] = []
    replay: list[Replay] = []

    def deliver(message: Message) -> None:
        if replay:
            replay[0].deliver_message(message)
        else:
            held.append(message)  # sent while the city was built

    with (
        override_settings(**policy),
        SimClock(day.starts - SETUP_AHEAD) as clock,
        held_messages(deliver),
    ):
        world = build(day, tag=tag, slot=slot, now=clock.now)
        replay.append(Replay(day, world, clock))
        for message in held:
            replay[0].deliver_message(message)
        counts = replay[0].run()
        figures = measure(day, world)
        counts.cancelled_at_end = retire(world)
    return Outcome(figures, counts, world, time.perf_counter() - started)
