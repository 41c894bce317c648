"""The wall screen's page, /coldchain/, and the cold chain's entries in each role's menu."""

import json
import re

import pytest
from django.urls import reverse

from accounts.navigation import navigation_for

SCREEN = "/coldchain/"


@pytest.fixture
def english(client):
    """A page client that asks for English, so assertions read the source strings."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def screen_config(response) -> dict:
    match = re.search(
        r'<script id="screen-config" type="application/json">(.*?)</script>', response.text, re.S
    )
    assert match, "the page has no screen-config"
    return json.loads(match.group(1))


def menu(response) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="mainnav".*?</nav>', response.text, re.S)
    assert nav, "the page has no menu"
    return re.findall(r'<a href="([^"]*)"[^>]*>([^<]+)</a>', nav.group(0))


def test_the_url_is_named():
    assert reverse("coldchain:screen") == SCREEN


@pytest.mark.parametrize("who", ["coldchain_controller", "admin_user"])
def test_controller_gets_the_screen_with_the_acknowledge_form(english, request, who):
    english.force_login(request.getfixturevalue(who))

    response = english.get(SCREEN)

    assert response.status_code == 200
    page = response.text
    for landmark in (
        'id="screen"',
        'id="screen-map"',
        'id="alerts-panel"',
        'id="alert-list"',
        'id="shipment-list"',
        'id="store-list"',
        'id="shipment-row-template"',
        'id="alert-item-template"',
        'class="ack-form"',
        "Acknowledge",
        'data-can-acknowledge="true"',
        "js/coldchain/screen.js",
        "js/coldchain/temperature_chart.js",
        "vendor/leaflet/leaflet.js",
        "vendor/uplot/uPlot.iife.min.js",
        'name="csrfmiddlewaretoken"',
    ):
        assert landmark in page, landmark
    config = screen_config(response)
    assert config["snapshot_url"] == "/api/coldchain/screen/"
    assert config["alerts_url"] == "/api/coldchain/alerts/"
    assert config["socket_path"] == "/ws/coldchain/"
    assert config["can_acknowledge"] is True
    assert config["time_zone"] == "Asia/Shanghai"
    assert config["strings"]["reconnecting"] == "Connection lost, reconnecting…"


@pytest.mark.parametrize("who", ["manager", "market_staff"])
def test_cooperative_and_market_get_the_screen_without_acknowledging(english, request, who):
    english.force_login(request.getfixturevalue(who))

    response = english.get(SCREEN)

    assert response.status_code == 200
    assert 'id="screen-map"' in response.text
    assert 'id="alerts-panel"' in response.text
    assert 'class="ack-form"' not in response.text
    assert 'data-can-acknowledge="false"' in response.text
    assert screen_config(response)["can_acknowledge"] is False


def test_the_legend_names_each_state_for_the_colours(english, coldchain_controller):
    english.force_login(coldchain_controller)

    page = english.get(SCREEN).text

    assert '<span data-state-label="ok">Normal</span>' in page
    assert '<span data-state-label="excursion">Temperature excursion</span>' in page
    assert '<span data-state-label="signal_lost">Loss of signal</span>' in page


def test_the_screen_speaks_chinese_by_default(client, coldchain_controller):
    client.force_login(coldchain_controller)

    response = client.get(SCREEN)

    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.text


def test_the_map_uses_a_tile_server_only_when_one_is_configured(
    english, coldchain_controller, settings
):
    english.force_login(coldchain_controller)
    settings.MAP_TILES_URL = ""
    offline = english.get(SCREEN).text
    settings.MAP_TILES_URL = "https://tiles.example.cn/{z}/{x}/{y}.png"
    settings.MAP_TILES_ATTRIBUTION = "© 示例地图"
    online = english.get(SCREEN).text

    assert 'data-tiles-url=""' in offline
    assert 'data-tiles-url="https://tiles.example.cn/{z}/{x}/{y}.png"' in online
    assert 'data-tiles-attribution="© 示例地图"' in online


@pytest.mark.parametrize("role", ["farmer", "buyer", "courier", "consumer", "warehouse_manager"])
def test_other_roles_are_refused_the_screen(client, request, role):
    client.force_login(request.getfixturevalue(role))

    assert client.get(SCREEN).status_code == 403


def test_signing_in_comes_first(client, db):
    response = client.get(SCREEN)

    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_controllers_menu_has_the_screen_and_the_shipments(english, coldchain_controller):
    english.force_login(coldchain_controller)

    entries = menu(english.get(SCREEN))

    assert ("/coldchain/", "Screen") in entries
    assert [entry.url_name for entry in navigation_for(coldchain_controller)][1:3] == [
        "coldchain:screen",
        "coldchain:shipment_list",
    ]
    assert "Shipments" in [label for _href, label in entries]


@pytest.mark.parametrize("who", ["manager", "market_staff", "admin_user"])
def test_cooperative_and_market_menus_have_the_cold_chain_screen(english, request, who):
    user = request.getfixturevalue(who)
    english.force_login(user)

    entries = menu(english.get(SCREEN))

    assert ("/coldchain/", "Cold chain screen") in entries
    assert "Shipments" in [label for _href, label in entries]
    url_names = [entry.url_name for entry in navigation_for(user)]
    assert url_names.index("coldchain:shipment_list") == url_names.index("coldchain:screen") + 1


@pytest.mark.parametrize("role", ["farmer", "buyer", "courier", "consumer", "warehouse_manager"])
def test_other_menus_have_no_cold_chain(request, role):
    url_names = [entry.url_name for entry in navigation_for(request.getfixturevalue(role))]

    assert not [name for name in url_names if name.startswith("coldchain:")]
