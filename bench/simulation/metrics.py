"""What a replayed day shows, read back from the database (the orders' own timestamps).

Per order: click to door (delivered_at − placed_at), late (delivered after promised_by, or
not delivered by the end of the replay: a promise is broken either way), ready-to-pickup
wait (picked_up_at − packed_at), batched (its task carried two orders or more). Per day:
the orders delivered per courier-hour on shift (the shifts' hours while the shop takes
orders, the same for every policy), and the share not delivered by the end of the drain.
Days are pooled order by order: a busy day weighs by its orders.
"""

from collections import Counter
from dataclasses import dataclass, field

from bench.support import percentile
from delivery.models import DeliveryOrder, DeliveryOrderStatus

from .days import Day
from .world import World


@dataclass
class Figures:
    """Samples of one or more days, in minutes."""

    orders: int = 0
    delivered: int = 0
    late: int = 0
    batched: int = 0
    courier_hours: float = 0.0
    click_to_door: list[float] = field(default_factory=list)
    pickup_wait: list[float] = field(default_factory=list)

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(
            orders=self.orders + other.orders,
            delivered=self.delivered + other.delivered,
            late=self.late + other.late,
            batched=self.batched + other.batched,
            courier_hours=self.courier_hours + other.courier_hours,
            click_to_door=self.click_to_door + other.click_to_door,
            pickup_wait=self.pickup_wait + other.pickup_wait,
        )

    def summary(self) -> dict[str, float]:
        def mean(values: list[float]) -> float:
            return sum(values) / len(values) if values else float("nan")

        def share(count: int, of: int) -> float:
            return 100 * count / of if of else float("nan")

        return {
            "orders": self.orders,
            "ctd_mean_min": round(mean(self.click_to_door), 2),
            "ctd_p90_min": round(percentile(self.click_to_door, 90), 2)
            if self.click_to_door
            else float("nan"),
            "late_pct": round(share(self.late, self.orders), 2),
            "pickup_wait_min": round(mean(self.pickup_wait), 2),
            "orders_per_courier_hour": round(self.delivered / self.courier_hours, 3)
            if self.courier_hours
            else float("nan"),
            "batched_pct": round(share(self.batched, self.delivered), 2),
            "undelivered_pct": round(share(self.orders - self.delivered, self.orders), 2),
        }


def _minutes(delta) -> float:
    return delta.total_seconds() / 60


def measure(day: Day, world: World) -> Figures:
    rows = list(
        DeliveryOrder.objects.filter(warehouse__in=world.warehouses).values(
            "task_id",
            "status",
            "placed_at",
            "promised_by",
            "packed_at",
            "picked_up_at",
            "delivered_at",
        )
    )
    per_task = Counter(r["task_id"] for r in rows if r["task_id"] is not None)
    figures = Figures(orders=len(rows), courier_hours=day.courier_hours)
    for row in rows:
        delivered = row["status"] == DeliveryOrderStatus.DELIVERED
        if not delivered or row["delivered_at"] > row["promised_by"]:
            figures.late += 1
        if row["packed_at"] and row["picked_up_at"]:
            figures.pickup_wait.append(_minutes(row["picked_up_at"] - row["packed_at"]))
        if not delivered:
            continue
        figures.delivered += 1
        figures.click_to_door.append(_minutes(row["delivered_at"] - row["placed_at"]))
        if per_task[row["task_id"]] >= 2:
            figures.batched += 1
    return figures
