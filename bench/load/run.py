"""`make load`: the whole platform under mixed load for LOAD_MINUTES (10), then the report.

    python bench/load/run.py [--url http://127.0.0.1:8080] [--minutes 10] [--no-prepare]
                             [--web-pids 1,2] [--worker-pids 3]

1. `manage.py prepare_load` makes the load's accounts on top of the demo, in the database
   the environment names (DATABASE_URL: the served stack's), and writes their credentials
   to var/load/accounts.json (--no-prepare reuses the file).
2. Finds the web and worker processes: var/cluster/pids/*.pid (`make cluster`: web1, web2,
   worker-realtime, worker-batch, beat) when present, else --web-pids/--worker-pids, else
   this checkout's `uvicorn config.asgi` serving the URL's port and `celery -A config`
   processes. A process's memory is its resident set with its children's (uvicorn's and
   Celery's worker processes).
3. Runs locust headless (bench/load/locustfile.py) at the rates of roles/base.py (LOAD_*),
   printed first; memory is read before the load, after the warm-up (LOAD_WARMUP_S, 60 s:
   "start") and just before the end ("end").
4. Prints per operation its count, throughput and p95, the refusals the product intended,
   the errors (5xx, timeouts, unexpected 4xx, sockets lost), the sockets held and pushes
   received, and memory; then one JSON line. Exit 1 with an error or memory grown ≥ 10 %.
"""

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from bench.load.rates import Rates  # noqa: E402

OUT = ROOT / "var" / "load"
PIDFILES = ROOT / "var" / "cluster" / "pids"
MAX_GROWTH_PCT = 10.0
WATCHED = ("web", "worker", "beat")


def stack_environment() -> dict[str, str]:
    """The environment the served stack reads, for prepare_load: the same database and secret
    key (a session's hash is keyed by it). `make cluster`'s, when it is the one running here
    (scripts/cluster.py), else this process's own."""
    env = {**os.environ}
    if PIDFILES.is_dir() and (ROOT / "scripts" / "cluster.py").exists():
        try:
            from scripts.cluster import app_environment
        except ImportError:
            return env
        env.update(app_environment())
    return env


def processes(url: str, web_pids: str, worker_pids: str, beat_pid: str = "") -> dict[str, int]:
    """Name -> pid of the web and worker processes to watch."""
    import psutil

    if PIDFILES.is_dir() and any(PIDFILES.glob("*.pid")):
        found = {}
        for pidfile in sorted(PIDFILES.glob("*.pid")):
            if not pidfile.stem.startswith(WATCHED):
                continue  # nginx, PgBouncer: not the application's memory
            pid = int(pidfile.read_text().split()[0])
            if psutil.pid_exists(pid):
                found[pidfile.stem] = pid
        return found
    if web_pids or worker_pids:
        named = [(f"web{i}", p) for i, p in enumerate(web_pids.split(","), 1) if p]
        named += [(f"worker{i}", p) for i, p in enumerate(worker_pids.split(","), 1) if p]
        named += [("beat", beat_pid)] if beat_pid else []
        return {name: int(pid) for name, pid in named}
    port = str(urlsplit(url).port or 80)
    found, workers = {}, 0
    for process in psutil.process_iter(["pid", "cmdline", "cwd"]):
        command = " ".join(process.info["cmdline"] or ())
        if process.info["cwd"] != str(ROOT):
            continue  # another checkout's stack on the same machine
        parent = process.parent()
        if parent is not None and " ".join(parent.cmdline()) == command:
            continue  # a child of one already counted (Celery's pool)
        if "uvicorn" in command and "config.asgi" in command and f"--port {port}" in command:
            found[f"web{len([n for n in found if n.startswith('web')]) + 1}"] = process.pid
        elif "celery" in command and "-A config" in command and " worker" in command:
            workers += 1
            found[f"worker{workers}"] = process.pid
        elif "celery" in command and "-A config" in command and " beat" in command:
            found["beat"] = process.pid
    return found


def rss_mb(pid: int) -> dict[str, float]:
    """The process's resident memory with its children's ("" key), and each one's, in MB."""
    import psutil

    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    each = {}
    for process in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            each[f"/{process.pid}"] = round(process.memory_info().rss / 1e6, 1)
    return {"": round(sum(each.values()), 1), **(each if len(each) > 1 else {})}


def sample(watched: dict[str, int]) -> dict[str, float]:
    """name -> MB of the process with its children, and name/pid -> MB of each of them (a
    uvicorn's and a Celery worker's pool)."""
    return {f"{name}{key}": mb for name, pid in watched.items() for key, mb in rss_mb(pid).items()}


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def read_stats(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["Name"] != "Aggregated"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("LOAD_URL", "http://127.0.0.1:8080"))
    parser.add_argument(
        "--minutes", type=float, default=float(os.environ.get("LOAD_MINUTES", "10"))
    )
    parser.add_argument("--no-prepare", action="store_true")
    parser.add_argument("--web-pids", default="")
    parser.add_argument("--worker-pids", default="")
    parser.add_argument("--beat-pid", default="")
    args = parser.parse_args()
    rates = Rates.from_env()
    seconds = int(args.minutes * 60)
    warmup = min(float(os.environ.get("LOAD_WARMUP_S", "60")), seconds / 3)
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOAD_SUMMARY": str(OUT / "summary.json")}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    if not args.no_prepare:
        print("== preparing the load's accounts (manage.py prepare_load)", flush=True)
        # In the served stack's database, with its secret key; DEBUG for this command alone
        # (prepare_load, like seed_demo, refuses to run in production).
        prepare_env = {**stack_environment(), "DJANGO_DEBUG": "true"}
        subprocess.run(
            [sys.executable, "manage.py", "prepare_load"], cwd=ROOT, env=prepare_env, check=True
        )
    watched = processes(args.url, args.web_pids, args.worker_pids, args.beat_pid)
    if not watched:
        print("no web or worker process found: give --web-pids/--worker-pids")
        return 2
    print(f"== mixed load on {args.url} for {args.minutes:g} min (warm-up {warmup:.0f} s)")
    print(
        f"   loggers      {rates.loggers:>3}, a batch of {rates.readings_per_batch} readings "
        f"every {rates.logger_every_s:g} s"
    )
    print(
        f"   couriers     {rates.couriers:>3} on shift, offers and tasks every "
        f"{rates.courier_every_s:g} s, a position every {rates.position_every_s:g} s"
    )
    print(
        f"   consumers    {rates.consumers:>3}, an order every {rates.consumer_every_s:g} s "
        f"(at most 3 open each)"
    )
    print(f"   packers      {rates.packers:>3}, packing every {rates.packer_every_s:g} s")
    print(f"   counters     {rates.counters:>3}, a trade every {rates.counter_every_s:g} s")
    print(f"   buyers       {rates.buyers:>3}, a search every {rates.buyer_every_s:g} s")
    print(
        f"   screens      {rates.screens:>3} sockets (controller, warehouse, couriers, consumers)"
    )
    print(f"   users        {rates.users:>3}, spawned {rates.spawn_rate:g}/s")
    print(f"   watching     {', '.join(f'{n} ({p})' for n, p in watched.items())}", flush=True)

    samples = {"before": sample(watched)}
    load_seen = {"start": loadavg()}
    prefix = OUT / "run"
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench/load/locustfile.py"),
        "--headless",
        "--host",
        args.url,
        "-u",
        str(rates.users),
        "-r",
        str(rates.spawn_rate),
        "-t",
        f"{seconds}s",
        "--stop-timeout",
        "5",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]

    def sample_later(label: str, after: float) -> None:
        time.sleep(after)
        samples[label] = sample(watched)
        load_seen[label] = loadavg()

    spawn_s = rates.users / rates.spawn_rate
    timers = [
        threading.Thread(target=sample_later, args=("start", spawn_s + warmup), daemon=True),
        threading.Thread(target=sample_later, args=("end", max(seconds - 5, 1)), daemon=True),
    ]
    for timer in timers:
        timer.start()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    for timer in timers:
        timer.join(timeout=30)
    if result.returncode not in (0, 1):
        print(result.stdout[-3000:], result.stderr[-3000:])
        return 2
    return report(args, rates, seconds, read_stats(prefix), samples, load_seen)


def report(args, rates, seconds, rows, samples, load_seen) -> int:
    summary = json.loads((OUT / "summary.json").read_text())
    operations, refusals, errors = {}, {}, 0
    print(
        f"\n{'operation':<36} {'count':>7} {'per s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':>6}"
    )
    retried = {}
    for row in sorted(rows, key=lambda r: (r["Type"] in ("REFUSED", "RETRIED"), r["Name"])):
        count, failures = int(row["Request Count"]), int(row["Failure Count"])
        errors += failures
        if row["Type"] in ("REFUSED", "RETRIED"):
            (refusals if row["Type"] == "REFUSED" else retried)[row["Name"]] = count
            continue
        figures = {
            "count": count,
            "per_s": round(float(row["Requests/s"]), 2),
            "p50_ms": float(row["50%"] or 0),
            "p95_ms": float(row["95%"] or 0),
            "errors": failures,
        }
        operations[row["Name"]] = figures
        print(
            f"{row['Name']:<36} {count:>7} {figures['per_s']:>7.2f} {figures['p50_ms']:>7.0f} "
            f"{figures['p95_ms']:>7.0f} {failures:>6}"
        )
    for name, count in refusals.items():
        print(f"refused as intended: {name}: {count}")
    for name, count in retried.items():
        print(f"sent again after the server closed a kept-alive connection: {name}: {count}")
    pushes = {
        k.removeprefix("ws pushes "): v for k, v in summary.items() if k.startswith("ws pushes")
    }
    held = summary.get("ws open at end", 0)
    print(
        f"sockets held at the end: {held} of {rates.screens}; pushes received: "
        + ", ".join(f"{k} {v}" for k, v in sorted(pushes.items()))
    )
    for key, value in sorted(summary.items()):
        if key.startswith("error") or key.startswith("ws lost") or "failed" in key:
            print(f"  {key}: {value}")
    memory, worst = {}, 0.0
    print(f"\n{'process':<18} {'before MB':>10} {'start MB':>10} {'end MB':>10} {'growth':>8}")
    for name, start in samples.get("start", {}).items():
        end = samples.get("end", {}).get(name, float("nan"))
        growth = round((end - start) / start * 100, 1) if start else float("nan")
        if growth == growth:  # a process replaced meanwhile (a pool's child) has no growth
            worst = max(worst, growth)
        memory[name] = {
            "before_mb": samples["before"].get(name, float("nan")),
            "start_mb": start,
            "end_mb": end,
            "growth_pct": growth,
        }
        print(
            f"{name:<18} {memory[name]['before_mb']:>10.1f} {start:>10.1f} {end:>10.1f} "
            f"{growth:>7.1f}%"
        )
    total = sum(o["count"] for o in operations.values())
    print(
        f"\n{total} requests in {seconds} s ({total / seconds:.1f}/s), errors {errors}, "
        f"refusals {sum(refusals.values())}, worst memory growth {worst:.1f}% "
        f"(limit {MAX_GROWTH_PCT:g}%); load average {load_seen}"
    )
    figures = {
        "bench": "load",
        "url": args.url,
        "minutes": args.minutes,
        "rates": dict(vars(rates)),
        "users": rates.users,
        "requests_per_s": round(total / seconds, 2),
        "operations": operations,
        "errors": errors,
        "refusals": refusals,
        "retried": retried,
        "sockets_held": held,
        "sockets_wanted": rates.screens,
        "pushes": pushes,
        "memory": {
            name: {key: (None if value != value else value) for key, value in row.items()}
            for name, row in memory.items()
        },
        "max_memory_growth_pct": worst,
        "loadavg": load_seen,
    }
    print(json.dumps(figures, ensure_ascii=False), flush=True)
    return 0 if errors == 0 and worst < MAX_GROWTH_PCT and held == rates.screens else 1


if __name__ == "__main__":
    sys.exit(main())
