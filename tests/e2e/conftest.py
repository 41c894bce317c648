"""Browser journeys: Playwright drives Debian's Chromium against pytest-django's live server.

Every page opens 360x640 like a cheap phone; a JavaScript error, anything the
Content-Security-Policy refuses, or any request that leaves the live server (a CDN, a tile
server) fails the test, since the app must work offline.
"""

import os
import re
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
BASE_DIR = Path(__file__).resolve().parents[2]
OUTPUT_DIR = BASE_DIR / "test-results" / "e2e"

# Playwright's sync API runs an event loop in the test's thread; the ORM calls the test
# makes around it (setup and assertions) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def csp_refusals(message) -> list[str]:
    """Chromium reports what the Content-Security-Policy refused on the console only."""
    if message.type == "error" and "Content Security Policy" in message.text:
        return [message.text]
    return []


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(item.fspath).parent.name == "e2e":
            item.add_marker(pytest.mark.e2e)


# Module scope: Playwright's sync API holds an event loop on the main thread while it runs,
# which would stop asyncio tests collected after a browser module from running.
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/services.sh --browser (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, live_server):
    """phone(locale=…, user=…) → a 360x640 page; signed in as `user` when one is given."""
    contexts, errors = [], []

    def open_page(*, locale: str = "zh-CN", user=None):
        context = browser.new_context(viewport={"width": 360, "height": 640}, locale=locale)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [
                    {
                        "name": django_settings.SESSION_COOKIE_NAME,
                        "value": cookie,
                        "url": live_server.url,
                    }
                ]
            )
        context.route(
            lambda url: not url.startswith(live_server.url),
            lambda route: (errors.append(f"outside request {route.request.url}"), route.abort()),
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.extend(csp_refusals(message)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == []


@pytest.fixture
def phone_as(phone):
    """phone_as(user) → a signed-in English page (assertions read the source strings)."""
    return lambda user: phone(locale="en-US", user=user)


def fits_the_screen(page) -> bool:
    """Nothing sticks out sideways: the page reads on a 360-px screen without zooming."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def output_dir(request) -> Path:
    """test-results/e2e/<test name>/: screenshots a person can look at afterwards."""
    folder = OUTPUT_DIR / re.sub(r"[^\w.-]", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def asgi_phone(browser, asgi_server):
    """asgi_phone(**context options) → a 360x640 English page on the ASGI server (pass
    `viewport=` for a bigger screen).

    As tests/e2e/conftest.py's `phone`: a JavaScript error or a request leaving the server
    fails the test.
    """
    contexts, errors = [], []

    def open_page(**options):
        options = {"viewport": {"width": 360, "height": 640}, "locale": "en-US", **options}
        context = browser.new_context(**options)
        context.route(
            lambda url: not url.startswith(asgi_server),
            lambda route: (errors.append(f"outside request {route.request.url}"), route.abort()),
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.extend(csp_refusals(message)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == []


@pytest.fixture
def asgi_phone_as(asgi_phone, asgi_server):
    """asgi_phone_as(user, **context options) → a page on the ASGI server, signed in as
    `user` (a session made by Django's test client, handed to the browser as its cookie)."""

    def open_page(user, **options):
        client = Client()
        client.force_login(user)
        page = asgi_phone(**options)
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies(
            [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": asgi_server}]
        )
        return page

    return open_page


@pytest.fixture
def wait_until():
    """wait_until(condition, seconds=20): poll what the server did (a row written by a
    worker, a status reached) until it holds; fail the test when it never does."""

    def wait(condition, *, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("timed out")
            time.sleep(0.1)

    return wait
