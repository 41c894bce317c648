"""The Content-Security-Policy: every page carries it with a nonce, and no template holds
what it refuses (inline scripts, on* handlers, javascript: URLs, inline styles)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.choices import Role
from accounts.navigation import NAVIGATION
from common.csp import tiles_source
from tests.accounts.factories import UserFactory

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

REFUSED = {
    # json_script's data (type application/json) is never run, so the policy lets it be.
    "an inline <script>": re.compile(
        r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE
    ),
    "an on* handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "an inline <style>": re.compile(r"<style\b", re.IGNORECASE),
    "a style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE),
}


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: sources for name, *sources in (directive.split() for directive in header.split(";"))
    }


def test_no_template_holds_what_the_policy_refuses():
    found = [
        f"{path.relative_to(TEMPLATES)}: {what}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for what, pattern in REFUSED.items()
        if pattern.search(path.read_text())
    ]

    assert found == []


def test_the_sign_in_page_carries_the_policy_with_a_nonce(client):
    response = client.get("/sign-in/")

    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'"
    assert re.fullmatch(r"'nonce-[A-Za-z0-9+/=]{20,}'", policy["script-src"][1])
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    # This host's own sockets, not any ws: host.
    assert policy["connect-src"] == ["'self'", "ws://testserver"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_each_response_has_its_own_nonce(client):
    first = policy_of(client.get("/sign-in/"))["script-src"][1]
    second = policy_of(client.get("/sign-in/"))["script-src"][1]

    assert first != second


def test_a_secure_page_allows_its_wss_origin_and_the_tile_server(client, settings):
    settings.MAP_TILES_URL = "https://{s}.tile.example.org/{z}/{x}/{y}.png"

    policy = policy_of(client.get("/sign-in/", secure=True))

    assert policy["connect-src"] == ["'self'", "wss://testserver"]
    assert policy["img-src"] == ["'self'", "data:", "blob:", "https://*.tile.example.org"]


@pytest.mark.parametrize(
    ("url", "source"),
    [
        (
            "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}",
            "https://*.is.autonavi.com",
        ),
        ("http://tiles.local:8080/{z}/{x}/{y}.png", "http://tiles.local:8080"),
        ("", None),
        ("/tiles/{z}/{x}/{y}.png", None),  # this site's own: 'self' covers it
    ],
)
def test_tiles_source(url, source):
    assert tiles_source(url) == source


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(NAVIGATION))
def test_every_page_of_every_role_carries_the_policy_and_no_inline_script(client, role):
    client.force_login(UserFactory(role=role, is_superuser=role == Role.ADMIN))

    for entry in NAVIGATION[role]:
        response = client.get(reverse(entry.url_name))
        assert "'nonce-" in response["Content-Security-Policy"], entry.url_name
        if response.status_code == 200 and "html" in response["Content-Type"]:
            page = response.content.decode()
            assert not REFUSED["an inline <script>"].search(page), entry.url_name
            assert not REFUSED["a style attribute"].search(page), entry.url_name
