"""Large text (适老化): a switch on every page, remembered on the account, or in a cookie for
a visitor; the page then carries the class that makes text and buttons larger."""

import pytest
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db

SWITCH = "/large-text/"


def _has_large_text(client: Client, path: str = "/") -> bool:
    return 'class="large-text"' in client.get(path, follow=True).content.decode()


def test_the_switch_is_on_every_page_and_off_at_first(english, farmer):
    english.force_login(farmer)

    text = english.get("/workspace/farmer/").content.decode()

    assert f'action="{SWITCH}"' in text
    assert 'aria-pressed="false"' in text
    assert 'name="large_text" value="1"' in text
    assert not _has_large_text(english, "/workspace/farmer/")


def test_turning_it_on_is_remembered_on_the_account_across_sessions(english, farmer):
    english.force_login(farmer)

    response = english.post(SWITCH, {"large_text": "1", "next": "/orders/"})

    assert response.status_code == 302
    assert response["Location"] == "/orders/"
    farmer.refresh_from_db()
    assert farmer.large_text is True
    # Another phone, another session: the account remembers.
    other_phone = Client(HTTP_ACCEPT_LANGUAGE="en")
    other_phone.force_login(farmer)
    page = other_phone.get("/workspace/farmer/").content.decode()
    assert 'class="large-text"' in page
    assert 'aria-pressed="true"' in page

    english.post(SWITCH, {"large_text": "0", "next": "/workspace/"})
    farmer.refresh_from_db()
    assert farmer.large_text is False
    assert not _has_large_text(other_phone, "/workspace/farmer/")


def test_a_visitor_keeps_it_in_a_cookie(client):
    response = client.post(SWITCH, {"large_text": "1", "next": "/"})

    assert response.cookies["large_text"].value == "1"
    assert response.cookies["large_text"]["samesite"] == "Lax"
    assert _has_large_text(client, "/")
    assert _has_large_text(client, "/sign-in/")
    assert not User.objects.filter(large_text=True).exists()


def test_a_switch_elsewhere_never_leads_off_the_site(client):
    response = client.post(SWITCH, {"large_text": "1", "next": "https://evil.example.com/"})

    assert response["Location"] == "/"


@pytest.mark.parametrize("choice", ["", "yes", "2"])
def test_anything_but_on_or_off_is_refused_and_nothing_changes(english, farmer, choice):
    english.force_login(farmer)

    response = english.post(SWITCH, {"large_text": choice})

    assert response.status_code == 400
    assert "Choose large text on (1) or off (0)." in response.content.decode()
    assert "large_text" not in response.cookies
    farmer.refresh_from_db()
    assert farmer.large_text is False


def test_the_switch_takes_a_post_only(client):
    assert client.get(SWITCH).status_code == 405


def test_one_persons_choice_is_not_anothers(english, farmer, buyer):
    english.force_login(farmer)
    english.post(SWITCH, {"large_text": "1"})

    buyer.refresh_from_db()
    assert buyer.large_text is False
