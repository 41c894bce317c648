"""The running `make cluster` (scripts/cluster.py), driven from outside like a user and an
operator would: HTTP through nginx, WebSockets, the processes' pidfiles, and the database read
straight from PostgreSQL. `make cluster-test` starts the cluster first; these tests never
touch the test database pytest-django makes for the others.
"""

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
import requests

BASE_DIR = Path(__file__).resolve().parents[2]
SCRIPT = BASE_DIR / "scripts" / "cluster.py"
PASSWORD = "freshchain"  # the demo's (seed_demo)


def _cluster_module():
    spec = importlib.util.spec_from_file_location("freshchain_cluster", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cluster = _cluster_module()
URL = cluster.URL
WEB = {name: f"http://{cluster.HOST}:{port}" for name, port in cluster.WEB_PORTS.items()}


def log(message: str) -> None:
    """A line in the test's output (make cluster-test runs pytest -v -s): what was done."""
    sys.stdout.write(f"\n[cluster-test] {message}\n")
    sys.stdout.flush()


@pytest.fixture(scope="session", autouse=True)
def running_cluster():
    down = [name for name in cluster.NAMES if cluster.pid_of(name) is None]
    if down:
        pytest.fail(f"the cluster is not running ({', '.join(down)} down): run make cluster-test")
    return cluster


def cluster_command(action: str) -> None:
    subprocess.run([sys.executable, str(SCRIPT), action], cwd=BASE_DIR, check=True)


def kill(name: str) -> int:
    """SIGKILL the process and its children (its session), as a machine losing it would."""
    pid = cluster.pid_of(name)
    assert pid is not None, f"{name} is not running"
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while cluster.pid_of(name) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    log(f"killed {name} (pid {pid}) with SIGKILL")
    return pid


def bring_back(name: str) -> None:
    cluster_command("up")
    assert cluster.pid_of(name) is not None
    log(f"{name} is back (pid {cluster.pid_of(name)})")


@pytest.fixture
def database():
    """The cluster's database, read straight from PostgreSQL as the tables' owner."""
    with psycopg.connect(
        host=cluster.HOST, port=5432, dbname=cluster.DATABASE, user=cluster.OWNER,
        password=cluster.OWNER_PASSWORD, autocommit=True,
    ) as connection:  # fmt: skip
        yield connection


def token_for(username: str, base: str = URL) -> str:
    response = requests.post(
        f"{base}/api/auth/token/", json={"username": username, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def api(username: str, base: str = URL) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token_for(username, base)}"
    return session


def signed_in_session_cookie(username: str, base: str) -> str:
    """Sign in through the page (a form with its CSRF token) and return the session cookie.

    The cookies are Secure (production settings) and this is plain HTTP on 127.0.0.1, where
    browsers send them but Python's cookie jar does not: the header is written by hand.
    """
    page = requests.get(f"{base}/sign-in/", timeout=10)
    csrf = page.cookies["csrftoken"]
    form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = requests.post(
        f"{base}/sign-in/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": form_token},
        headers={"Cookie": f"csrftoken={csrf}", "Referer": f"{base}/sign-in/"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:500]
    return answer.cookies["sessionid"]


def manage_shell(code: str) -> str:
    """Python run by `manage.py shell` with the cluster's environment (through PgBouncer)."""
    result = subprocess.run(
        [str(cluster.BIN / "python"), "manage.py", "shell", "-c", code],
        cwd=BASE_DIR, env=cluster.app_environment(), capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]  # the shell first says what it imported


@pytest.fixture(scope="session")
def ops():
    """What the tests do to the cluster, as one handle (test modules import nothing)."""
    return SimpleNamespace(
        url=URL, web=WEB, cluster=cluster, log=log, kill=kill, bring_back=bring_back,
        api=api, token_for=token_for, session_cookie=signed_in_session_cookie,
        manage_shell=manage_shell,
    )  # fmt: skip


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, as tests/e2e/ drives it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """phone(**context options) → a 360x640 English page on the cluster's nginx. A JavaScript
    error, anything the Content-Security-Policy refuses, or a request that leaves nginx fails
    the test."""
    contexts, errors = [], []

    def open_page(**options):
        options = {"viewport": {"width": 360, "height": 640}, "locale": "en-US", **options}
        context = browser.new_context(**options)
        context.route(
            lambda url: not url.startswith(URL),
            lambda route: (errors.append(f"outside request {route.request.url}"), route.abort()),
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: errors.extend(
                [message.text]
                if message.type == "error" and "Content Security Policy" in message.text
                else []
            ),
        )
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == []
