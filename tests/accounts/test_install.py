"""Adding FreshChain to a phone's home screen: favicon, icons and the web app manifest."""

import io
import json

import pytest
from django.test import Client
from PIL import Image

from accounts.choices import Role
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def _manifest(client: Client) -> dict:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    return json.loads(response.content)


def test_favicon_ico_is_served_not_404(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO header


def test_every_page_links_the_icons_and_the_manifest(client):
    text = client.get("/").content.decode()

    assert 'rel="manifest" href="/manifest.webmanifest" crossorigin="use-credentials"' in text
    assert 'href="/favicon.ico"' in text
    assert 'href="/static/icons/icon.svg"' in text
    assert 'href="/static/icons/apple-touch-icon.png"' in text
    assert '<meta name="theme-color" content="#1f7a3d">' in text


def test_a_visitors_manifest_starts_at_the_home_page_with_installable_icons(client):
    manifest = _manifest(client)

    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#1f7a3d"
    assert manifest["name"]
    assert manifest["short_name"]
    icons = {(icon["sizes"], icon["purpose"]): icon for icon in manifest["icons"]}
    for size in ("192x192", "512x512"):
        for purpose in ("any", "maskable"):
            icon = icons[(size, purpose)]
            served = client.get(icon["src"])
            assert served.status_code == 200, icon
            with _image(served) as image:
                assert f"{image.width}x{image.height}" == size
    assert client.get(icons[("any", "any")]["src"]).status_code == 200


def _image(response):
    return Image.open(io.BytesIO(b"".join(response.streaming_content)))


@pytest.mark.parametrize(
    ("role", "start"),
    [
        (Role.FARMER, "/workspace/farmer/"),
        (Role.BUYER, "/workspace/buyer/"),
        (Role.COURIER, "/workspace/courier/"),
        (Role.ADMIN, "/workspace/admin/"),
    ],
)
def test_a_signed_in_persons_manifest_starts_at_her_workspace(client, role, start):
    client.force_login(UserFactory(role=role))

    manifest = _manifest(client)

    assert manifest["start_url"] == start
    assert "Cookie" in client.get("/manifest.webmanifest")["Vary"]


def test_the_manifest_speaks_the_visitors_language():
    chinese = _manifest(Client(HTTP_ACCEPT_LANGUAGE="zh-hans"))
    english = _manifest(Client(HTTP_ACCEPT_LANGUAGE="en"))

    assert chinese["lang"] == "zh-hans"
    assert chinese["short_name"] == "数智鲜链"
    assert english["short_name"] == "FreshChain"


def test_a_person_who_must_change_her_password_still_gets_icon_and_manifest(client):
    user = UserFactory(role=Role.FARMER, must_change_password=True)
    client.force_login(user)

    assert client.get("/manifest.webmanifest").status_code == 200
    assert client.get("/favicon.ico").status_code == 200
