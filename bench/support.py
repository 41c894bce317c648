"""Helpers shared by the benchmarks: their database, a server process, load, percentiles."""

import json
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def ensure_database() -> None:
    """Create the benchmark database (PostGIS comes from template1) if it is missing."""
    db = settings.DATABASES["default"]
    with psycopg.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"] or 5432,
        autocommit=True,
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def asgi_server(*, workers: int = 1):
    """The project's ASGI app under uvicorn, as production runs it; yields its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "config.asgi:application",
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("uvicorn did not start")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


def wrk(url: str, *, seconds: int, connections: int = 8, threads: int = 1, headers=()) -> dict:
    """Requests per second and latency from wrk; non-2xx answers make the run fail."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw error responses from {url}:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return {"rps": rps, "output": output}


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))
    return ordered[index]


def report(name: str, **figures) -> None:
    """The last line of every benchmark: one JSON object."""
    print(json.dumps({"bench": name, **figures}), flush=True)
