"""Run the benchmarks: `python bench/run.py` for all, `python bench/run.py api` for one.

Each benchmark is bench/<name>.py with a main(); it prints readable lines and, last, one
JSON object with its figures and its ratio to the raw limit of the same work. All of them
use their own database (freshchain_bench), created and migrated here, so development data
is left alone.
"""

import os
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
SUPPORT_MODULES = {"run", "settings", "urls", "views", "support", "__init__"}
# Not a benchmark: run on its own (see its docstring).
CHECKS = {"upgrade_check"}


def available() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("*.py") if p.stem not in SUPPORT_MODULES | CHECKS)


def prepare_database(env: dict) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update(env)
    import django

    django.setup()
    from bench.support import ensure_database

    ensure_database()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def main(names: list[str]) -> int:
    known = available()
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; available: {', '.join(known)}")
        return 2
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(ROOT)}
    prepare_database(env)
    failed = 0
    for name in names or known:
        print(f"== bench/{name}", flush=True)
        result = subprocess.run([sys.executable, f"bench/{name}.py"], cwd=ROOT, env=env)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
