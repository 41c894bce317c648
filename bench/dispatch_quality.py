"""bench/dispatch_quality: whole days replayed through the real services, once per dispatch
policy, and how soon the orders reached their doors.

Each day (bench/simulation/days.py: `standard_days()`, 12 days: light, medium and heavy load,
a small city of one warehouse and a large one of three, two seeds each) is generated from its
parameters and replayed on a simulated clock (bench/simulation/replay.py) with each policy:
consumers order, staff pack, Celery's messages and the beat's dispatch sweep run when due,
couriers answer offers, ride, pick up and deliver. A policy is a set of Django settings
(bench/simulation/__init__.py: POLICIES); the bench never chooses a courier itself:

- greedy: the nearest idle courier (delivery.ranking.NearestIdleScorer), one order per task,
  asked once packing ends: the yardstick;
- freshchain: the settings of this checkout, as production runs them;
- balanced (only when asked for): delivery.ranking.BalancedScorer.

Printed per load band and overall, per policy: click-to-door mean and p90, % late against
the promise (undelivered orders count as late), ready-to-pickup wait, orders delivered per
courier-hour, % of orders on a task of two or more, % undelivered after the drain. Last
line: {"bench": "dispatch_quality", "ctd_mean_min", "greedy_ctd_mean_min", "late_pct",
"greedy_late_pct", "ratio": ctd_mean_min / greedy_ctd_mean_min, "late_ratio", and
"ratio_<band>" per load band}. Targets (issue 16): ratio ≤ 0.8 overall and < 1 in every
band, late_ratio ≤ 0.7.

Options (also as environment variables, for `make bench`):

    --days N           the first N standard days only (BENCH_DISPATCH_QUALITY_DAYS); the days
                       are ordered so that the first 6 hold one of each band and city
    --params FILE      your own days instead: a JSON object or a list of objects with
                       DayParams' fields (bench/simulation/days.py), e.g.
                       {"name": "hz-tuesday", "warehouses": 2, "zone_radius_m": 2500,
                        "orders_per_courier_hour": 2.0, "couriers_per_warehouse": 7,
                        "packing": [{"mean_minutes": 6, "sd_minutes": 2, "packers": 3}]}
                       (BENCH_DISPATCH_QUALITY_PARAMS)
    --policies A,B     which policies (BENCH_DISPATCH_QUALITY_POLICIES; greedy,freshchain)

Time: a replay costs some 0.3-0.5 s of wall-clock time per order (each order is a dozen
service calls and its courier's position fixes) and a few ms per sweep (every 20 simulated
seconds while an order is open; a greedy day under heavy load costs more: its unassigned tasks
are offered again at every sweep). Measured on the 2-core development machine while other
work kept its load average near 4: 997 s for the 12 standard days × 2 policies (744 orders
each); an idle machine should take about half.

Celery's messages stay in the process (memory:// broker; the replay holds them anyway) and
the live pushes go to Channels' in-memory layer (nobody listens here).
"""

import argparse
import math
import os
import sys
import time
import uuid
from pathlib import Path

# No message may reach a real broker: the replay runs them itself, on its clock.
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ["CELERY_RESULT_BACKEND"] = "cache+memory://"

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.conf import settings  # noqa: E402

settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# The cache in the process: its expiry reads time.time(), which the simulated clock drives, so
# what the services cache for ten minutes (the learned travel speeds) lasts ten simulated
# minutes, not the whole replay as it would in Redis.
settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# A replay commits tens of thousands of small transactions; waiting for each one's WAL flush
# would measure the disk, not dispatch (nothing here needs to survive a crash).
settings.DATABASES["default"]["OPTIONS"]["options"] = "-c synchronous_commit=off"

from bench.simulation import POLICIES  # noqa: E402
from bench.simulation.days import DayParams, generate_day, load_params, standard_days  # noqa: E402
from bench.simulation.metrics import Figures  # noqa: E402
from bench.simulation.replay import replay_day  # noqa: E402
from bench.simulation.world import retire_all  # noqa: E402
from bench.support import report  # noqa: E402

SLOTS = 40  # places on the map, taken in turn (bench/simulation/world.py)
COLUMNS = (  # key, heading, width, decimals
    ("orders", "orders", 7, 0),
    ("ctd_mean_min", "ctd mean", 9, 1),
    ("ctd_p90_min", "p90", 6, 1),
    ("late_pct", "late %", 8, 1),
    ("pickup_wait_min", "wait", 6, 1),
    ("orders_per_courier_hour", "ord/c-h", 8, 2),
    ("batched_pct", "batch %", 8, 1),
    ("undelivered_pct", "undeliv %", 10, 1),
)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--days", type=int, default=int(os.environ.get("BENCH_DISPATCH_QUALITY_DAYS", "0"))
    )
    parser.add_argument("--params", default=os.environ.get("BENCH_DISPATCH_QUALITY_PARAMS", ""))
    parser.add_argument(
        "--policies", default=os.environ.get("BENCH_DISPATCH_QUALITY_POLICIES", "greedy,freshchain")
    )
    return parser.parse_args(argv)


def _days(arguments: argparse.Namespace) -> list[DayParams]:
    if arguments.params:
        return load_params(Path(arguments.params))
    days = standard_days()
    return days[: arguments.days] if arguments.days else days


def _table(title: str, by_policy: dict[str, Figures]) -> None:
    print(f"  {title}")
    print("    " + f"{'policy':<11}" + "".join(f"{h:>{w}}" for _k, h, w, _d in COLUMNS))
    for policy, figures in by_policy.items():
        summary = figures.summary()
        cells = "".join(f"{summary[k]:>{w}.{d}f}" for k, _h, w, d in COLUMNS)
        print(f"    {policy:<11}{cells}")


def _ratio(numerator: float, denominator: float) -> float | None:
    if not denominator or math.isnan(numerator) or math.isnan(denominator):
        return None
    return round(numerator / denominator, 4)


def main(argv: list[str]) -> None:
    arguments = _arguments(argv)
    policies = [p.strip() for p in arguments.policies.split(",") if p.strip()]
    unknown = [p for p in policies if p not in POLICIES]
    if unknown:
        raise SystemExit(f"unknown policy {', '.join(unknown)}; known: {', '.join(POLICIES)}")
    days = _days(arguments)
    left = retire_all()
    if left:
        print(f"took {left} warehouses of an interrupted run off the map", flush=True)
    run = uuid.uuid4().hex[:6]
    started = time.perf_counter()
    # figures[band][policy], pooled over the band's days
    figures: dict[str, dict[str, Figures]] = {}
    print(f"{len(days)} days × {len(policies)} policies ({', '.join(policies)})", flush=True)
    slot = 0
    for params in days:
        day = generate_day(params)
        band = params.band or "custom"
        for policy in policies:
            outcome = replay_day(
                day, policy=POLICIES[policy], tag=f"{run}.{slot}", slot=slot % SLOTS
            )
            slot += 1
            pooled = figures.setdefault(band, {}).setdefault(policy, Figures())
            figures[band][policy] = pooled + outcome.figures
            summary = outcome.figures.summary()
            counts = outcome.counts
            print(
                f"  {params.name:<16} {policy:<10} {summary['orders']:>4} orders, "
                f"{len(day.couriers):>2} couriers: ctd {summary['ctd_mean_min']:5.1f} min, "
                f"late {summary['late_pct']:5.1f} %, undelivered {summary['undelivered_pct']:4.1f} %"
                f"  [{counts.events} events, {counts.offers} offers, {counts.fixes} fixes, "
                f"{counts.sweeps} sweeps, {counts.cancelled_at_end} left; {outcome.seconds:.1f} s]",
                flush=True,
            )
            for problem in counts.problems[:5]:
                print(f"    ! {problem}", flush=True)
    overall: dict[str, Figures] = {}
    for by_policy in figures.values():
        for policy, pooled in by_policy.items():
            overall[policy] = overall.get(policy, Figures()) + pooled
    print(f"replayed in {time.perf_counter() - started:.0f} s")
    for band, by_policy in figures.items():
        _table(f"load {band}", by_policy)
    _table("overall", overall)

    ours = overall.get("freshchain", Figures()).summary()
    greedy = overall.get("greedy", Figures()).summary()
    extra = {}
    for band, by_policy in figures.items():
        if "freshchain" in by_policy and "greedy" in by_policy:
            extra[f"ratio_{band}"] = _ratio(
                by_policy["freshchain"].summary()["ctd_mean_min"],
                by_policy["greedy"].summary()["ctd_mean_min"],
            )
    report(
        "dispatch_quality",
        ctd_mean_min=ours["ctd_mean_min"],
        greedy_ctd_mean_min=greedy["ctd_mean_min"],
        late_pct=ours["late_pct"],
        greedy_late_pct=greedy["late_pct"],
        ratio=_ratio(ours["ctd_mean_min"], greedy["ctd_mean_min"]),
        late_ratio=_ratio(ours["late_pct"], greedy["late_pct"]),
        days=len(days),
        **extra,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
