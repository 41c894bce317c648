"""`make test`'s pytest: the suite in two processes, then the API contract test in as many.

The suite runs under pytest-xdist: two processes, a file's tests together, in pytest-django's
order (--no-loadscope-reorder; handing out the browser journeys first was measured slower).
The API contract test (tests/common/test_api_contract.py) cannot go with it: its generated
cases all carry one test id, so xdist cannot share them out. It runs afterwards in one process
per core (CONTRACT_PROCESSES overrides), each keeping every N-th case
(FRESHCHAIN_TEST_SHARD=K/N) with a test database and a Redis database of its own
(config/test_settings.py). Running it beside the suite instead saved nothing: the suite keeps
both cores busy. Each contract process's report
is printed whole when it ends; the exit status is the worst of all. Extra arguments go to
every pytest.
"""

import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = "tests/common/test_api_contract.py"
SUITE = [
    *("--create-db", "-n", "2", "--dist", "loadfile", "--no-loadscope-reorder"),
    *(f"--ignore={CONTRACT}", "--ignore=tests/bench"),
]


def main(extra: list[str]) -> int:
    pytest = [sys.executable, "-m", "pytest"]
    worst = subprocess.run([*pytest, *SUITE, *extra], cwd=ROOT).returncode
    shares = int(os.environ.get("CONTRACT_PROCESSES", "0")) or min(os.cpu_count() or 1, 4)
    with ExitStack() as files:
        contract = []
        for k in range(1, shares + 1):
            report = files.enter_context(tempfile.TemporaryFile(mode="w+"))
            process = subprocess.Popen(
                [*pytest, "--create-db", "-q", *extra, CONTRACT],
                cwd=ROOT,
                env={**os.environ, "FRESHCHAIN_TEST_SHARD": f"{k}/{shares}"},
                stdout=report,
                stderr=subprocess.STDOUT,
            )
            contract.append((k, process, report))
        for k, process, report in contract:
            status = process.wait()
            report.seek(0)
            print(f"--- API contract, share {k} of {shares} (exit {status}) ---", flush=True)
            sys.stdout.write(report.read())
            worst = max(worst, status)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
