"""Sign-in does not tell whether a mobile number or username has an account."""

import re

import pytest
from django.test import Client

from tests.accounts.factories import UserFactory


def page_without_tokens(response, typed: str) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', response.content.decode().replace(typed, "…"))


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_page_answers_an_unknown_number_as_it_answers_a_wrong_password(language):
    UserFactory(phone="13800138000")
    client = Client(headers={"Accept-Language": language})

    wrong = client.post("/sign-in/", {"username": "13800138000", "password": "not-it-2026"})
    unknown = client.post("/sign-in/", {"username": "13900000000", "password": "not-it-2026"})

    assert wrong.status_code == unknown.status_code == 200
    assert page_without_tokens(wrong, "13800138000") == page_without_tokens(unknown, "13900000000")


@pytest.mark.django_db
@pytest.mark.parametrize("known", ["13800138000", "zhang", "Zhang"])
def test_token_endpoint_answers_unknown_and_wrong_password_alike(api_client, known):
    UserFactory(username="zhang", phone="13800138000")

    wrong = api_client.post("/api/auth/token/", {"username": known, "password": "not-it-2026"})
    unknown = api_client.post(
        "/api/auth/token/", {"username": "13900000000", "password": "not-it-2026"}
    )

    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())
    assert wrong.status_code == 400


@pytest.mark.django_db
def test_an_inactive_account_is_answered_like_an_unknown_one(api_client):
    UserFactory(phone="13800138000", is_active=False)

    inactive = api_client.post(
        "/api/auth/token/", {"username": "13800138000", "password": "fresh-pass-2026"}
    )
    unknown = api_client.post(
        "/api/auth/token/", {"username": "13900000000", "password": "fresh-pass-2026"}
    )

    assert (inactive.status_code, inactive.json()) == (unknown.status_code, unknown.json())
