"""A day simulator for dispatch: whole days of orders replayed through the real services.

- `days`: a day's parameters (`DayParams`) and the day they generate (`generate_day`,
  deterministic from the seed); `standard_days()` is the set bench/dispatch_quality runs.
- `world`: a day's city written into the database (warehouses, stock, consumers, staff,
  couriers), new rows for every replay.
- `clock`: the one simulated clock every service reads through `timezone.now()`, and the
  Celery messages the services send, held until their simulated time.
- `replay`: the discrete-event loop: consumers order, staff pack, the Celery tasks and the
  beat's dispatch sweep run, couriers answer offers, ride, pick up and deliver.
- `metrics`: what a replayed day shows, read back from the database.

A dispatch policy is only a set of Django settings (`POLICIES`); the simulator never decides
who carries what. Dev tooling: it uses time-machine (a dev dependency).
"""

# Django settings overrides, one set per policy; applied for one replay.
POLICIES: dict[str, dict] = {
    # The yardstick: the nearest idle courier, one order per task, asked once packing ends.
    "greedy": {
        "DELIVERY_SCORER": "delivery.ranking.NearestIdleScorer",
        "DELIVERY_BATCH_MAX_ORDERS": 1,
        "DELIVERY_DISPATCH_AHEAD": False,
    },
    # Whatever the settings of the checkout say.
    "freshchain": {},
    # For information: the scorer main had before the policy work of issue 16.
    "balanced": {"DELIVERY_SCORER": "delivery.ranking.BalancedScorer"},
}
