"""Phone-class audit of three pages with Lighthouse 12 (from npm, on Node 20, driving
Debian's Chromium), as `make audit` runs it: the home page (signed out), the demo farmer's
sell page and the demo buyer's search (signed in).

It starts the web server itself (uvicorn, production settings: DEBUG off, collected static
files; no TLS, so no HTTPS redirect; scripts/audit_asgi.py adds the listing photos that nginx
serves in production) on AUDIT_PORT (8765). Signed-in pages are audited in a Chromium that
Playwright holds open with the person's session cookie set (a cookie sent by Lighthouse's
--extra-headers does not reach the page's WebSocket, whose refusal would count as a console
error); Lighthouse drives that browser through its debugging port, with the mobile preset
(its default: a mid-range phone, throttled 4G). It prints the scores and fails when
performance is below 90 or accessibility or best practices below 95. The reports are kept in
var/audit/<page>.report.html. The database must hold the demo (`make audit` seeds it).

    .venv/bin/python scripts/audit.py
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

LIGHTHOUSE = "lighthouse@12.2.3"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
PORT = int(os.environ.get("AUDIT_PORT", "8765"))
DEBUGGING_PORT = int(os.environ.get("AUDIT_DEBUGGING_PORT", "9333"))
MINIMUM = {"performance": 90, "accessibility": 95, "best-practices": 95}
OUT = BASE_DIR / "var" / "audit"
ATTEMPTS = 3
# Production settings, served over plain HTTP on this machine.
SERVER_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_HSTS_SECONDS": "0",
}


def _session_cookies() -> tuple[str, dict[str, str], str]:
    """The session cookie's name and a signed-in cookie per demo person, and the farmer's
    sell page (her first demo lot's)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from farms.models import HarvestLot

    cookies = {}
    for username in ("farmer", "buyer"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        cookies[username] = client.cookies[settings.SESSION_COOKIE_NAME].value
    lot = HarvestLot.objects.get(lot_code="DEMO-SG-0001")
    sell = reverse("marketplace:listing_create", kwargs={"lot_pk": lot.pk})
    return settings.SESSION_COOKIE_NAME, cookies, sell


def _start_server() -> subprocess.Popen:
    server = subprocess.Popen(
        [str(BASE_DIR / ".venv" / "bin" / "uvicorn"), "scripts.audit_asgi:application",
         "--host", "127.0.0.1", "--port", str(PORT), "--lifespan", "off", "--log-level", "warning"],
        cwd=BASE_DIR,
        env={**os.environ, **SERVER_ENV},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=5) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("the web server did not start")


def _warm_up(url: str, cookie: str | None) -> None:
    """One request first, so the audit measures a page as a returning server serves it
    (templates compiled, caches filled), not the process's first request."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200:
            raise SystemExit(f"{url} answered {response.status}")


@contextmanager
def _browser(base: str, cookie: tuple[str, str] | None):
    """A headless Chromium with its debugging port open, signed in when a cookie is given."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROME,
            headless=True,
            args=[f"--remote-debugging-port={DEBUGGING_PORT}", "--no-sandbox", "--disable-gpu"],
        )
        if cookie:
            context.add_cookies([{"name": cookie[0], "value": cookie[1], "url": base}])
        try:
            yield
        finally:
            context.close()


def _audit(name: str, url: str) -> dict[str, int]:
    OUT.mkdir(parents=True, exist_ok=True)
    command = [
        "npx", "--yes", LIGHTHOUSE, url, f"--port={DEBUGGING_PORT}",
        "--only-categories=performance,accessibility,best-practices",
        "--output=json", "--output=html", f"--output-path={OUT / name}",
        "--disable-storage-reset", "--quiet",
    ]  # fmt: skip
    # Lighthouse now and then loses the page load's trace (NO_NAVSTART) and asks to be run
    # again: it is, twice at most.
    for attempt in range(ATTEMPTS):
        done = subprocess.run(command, check=False, env={**os.environ, "CHROME_PATH": CHROME})
        if done.returncode == 0:
            break
        if attempt == ATTEMPTS - 1:
            raise SystemExit(f"Lighthouse failed on {url}")
    report = json.loads((OUT / f"{name}.report.json").read_text())
    return {key: round(report["categories"][key]["score"] * 100) for key in MINIMUM}


def main() -> int:
    cookie_name, cookies, sell = _session_cookies()
    base = f"http://127.0.0.1:{PORT}"
    pages = (
        ("home", f"{base}/", None),
        ("farmer-sell", f"{base}{sell}", (cookie_name, cookies["farmer"])),
        ("buyer-search", f"{base}/produce/?city=beijing", (cookie_name, cookies["buyer"])),
    )
    server = _start_server()
    results = {}
    try:
        for name, url, cookie in pages:
            _warm_up(url, cookie and f"{cookie[0]}={cookie[1]}")
            with _browser(base, cookie):
                results[name] = _audit(name, url)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # Keep-alive connections hold uvicorn's graceful shutdown; nothing is left to send.
            server.kill()
            server.wait()
    print(f"\n{'page':<14} {'performance':>12} {'accessibility':>14} {'best-practices':>15}")
    failed = []
    for name, scores in results.items():
        print(f"{name:<14} " + " ".join(
            f"{scores[key]:>{width}}" for key, width in zip(MINIMUM, (12, 14, 15), strict=True)
        ))  # fmt: skip
        failed += [
            f"{name} {key} {scores[key]} < {floor}"
            for key, floor in MINIMUM.items()
            if scores[key] < floor
        ]
    print(f"\nminimum: {MINIMUM}; reports in {OUT.relative_to(BASE_DIR)}/")
    if failed:
        print("FAILED: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
