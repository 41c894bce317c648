"""Lock-out after repeated wrong passwords, and API throttling."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from accounts.choices import Role
from tests.accounts.factories import PASSWORD, UserFactory

LOCKED_OUT = "Too many failed sign-ins; try again in 15 minutes."
WRONG = "The mobile number or username and password do not match."


@pytest.fixture(autouse=True)
def lockout_settings(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture
def english_client() -> Client:
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def wang(db):
    return UserFactory(username="wang", phone="13800138000", role=Role.FARMER)


def without_csrf_token(page: str, typed: str) -> str:
    return re.sub(r'value="[^"]+"', 'value=""', page.replace(typed, "…"))


def sign_in(client, username, password):
    return client.post("/sign-in/", {"username": username, "password": password})


@pytest.mark.django_db
def test_fifth_wrong_password_locks_out_and_then_even_the_right_one_is_refused(
    english_client, wang
):
    for _ in range(4):
        response = sign_in(english_client, "13800138000", "not-the-password")
        assert response.status_code == 200
        assert WRONG in response.text

    fifth = sign_in(english_client, "13800138000", "not-the-password")
    right = sign_in(english_client, "13800138000", PASSWORD)

    assert fifth.status_code == 429
    assert LOCKED_OUT in fifth.text
    assert right.status_code == 429
    assert LOCKED_OUT in right.text
    assert "_auth_user_id" not in english_client.session


@pytest.mark.django_db
def test_lock_out_message_is_in_chinese_by_default(client, wang):
    for _ in range(5):
        response = sign_in(client, "13800138000", "not-the-password")

    assert "登录失败次数过多，请 15 分钟后再试。" in response.text


@pytest.mark.django_db
def test_other_spellings_of_the_same_account_share_the_count(english_client, wang):
    for typed in ("13800138000", "+86 138 0013 8000", "WANG", "wang", "0086-138-0013-8000"):
        response = sign_in(english_client, typed, "not-the-password")

    assert response.status_code == 429
    assert LOCKED_OUT in sign_in(english_client, "Wang", PASSWORD).text


@pytest.mark.django_db
def test_the_lock_out_lasts_the_cool_off_time_from_the_last_try(english_client, wang):
    with time_machine.travel("2026-05-01 08:00 +0800", tick=False):
        for _ in range(5):
            sign_in(english_client, "wang", "not-the-password")
    with time_machine.travel("2026-05-01 08:14 +0800", tick=False):
        assert sign_in(english_client, "wang", PASSWORD).status_code == 429
    with time_machine.travel("2026-05-01 08:28 +0800", tick=False):
        assert sign_in(english_client, "wang", PASSWORD).status_code == 429
    with time_machine.travel("2026-05-01 08:44 +0800", tick=False):
        response = sign_in(english_client, "wang", PASSWORD)
        assert response.status_code == 302
        assert int(english_client.session["_auth_user_id"]) == wang.pk


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_earlier_failures(english_client, wang):
    for _ in range(4):
        sign_in(english_client, "wang", "not-the-password")
    assert sign_in(english_client, "wang", PASSWORD).status_code == 302
    english_client.post("/sign-out/")

    response = sign_in(english_client, "wang", "not-the-password")

    assert response.status_code == 200
    assert WRONG in response.text


@pytest.mark.django_db
def test_an_unknown_number_locks_out_exactly_like_a_real_one(english_client, wang):
    answers = {}
    for typed in ("13800138000", "13900000000"):
        for _ in range(5):
            response = sign_in(english_client, typed, "not-the-password")
        answers[typed] = (response.status_code, without_csrf_token(response.text, typed))

    assert answers["13800138000"] == answers["13900000000"]


@pytest.mark.django_db
def test_token_endpoint_locks_out_with_429_and_a_detail(api_client, wang):
    credentials = {"username": "13800138000", "password": "not-the-password"}
    english = {"Accept-Language": "en"}
    for _ in range(4):
        assert api_client.post("/api/auth/token/", credentials, headers=english).status_code == 400

    fifth = api_client.post("/api/auth/token/", credentials, headers=english)
    right = api_client.post(
        "/api/auth/token/", {**credentials, "password": PASSWORD}, headers=english
    )

    assert fifth.status_code == 429
    assert fifth.json() == {"detail": LOCKED_OUT}
    assert right.status_code == 429
    assert right.json() == {"detail": LOCKED_OUT}
    assert right["Retry-After"] == "900"


@pytest.mark.django_db
def test_page_and_api_failures_count_together(english_client, api_client, wang):
    for _ in range(3):
        sign_in(english_client, "wang", "not-the-password")
    for _ in range(2):
        response = api_client.post(
            "/api/auth/token/", {"username": "wang", "password": "not-the-password"}
        )

    assert response.status_code == 429


@pytest.mark.django_db
def test_admin_sign_in_is_locked_out_too(english_client, admin_user):
    for _ in range(5):
        response = english_client.post(
            "/admin/login/", {"username": admin_user.username, "password": "not-the-password"}
        )
    right = english_client.post(
        "/admin/login/", {"username": admin_user.username, "password": PASSWORD}
    )

    assert LOCKED_OUT in response.text
    assert LOCKED_OUT in right.text
    assert "_auth_user_id" not in english_client.session


# Throttles. Test settings turn them off; these tests set rates, and start from an empty
# history (the cache is the shared test Redis).


def rates(settings, **scopes):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "sign_in": None, **scopes},
    }


@pytest.mark.django_db
def test_token_endpoint_is_throttled_per_address(api_client, settings, wang):
    rates(settings, sign_in="3/minute")
    cache.delete("throttle_sign_in_127.0.0.1")
    credentials = {"username": "wang", "password": PASSWORD}

    answers = [api_client.post("/api/auth/token/", credentials).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]


@pytest.mark.django_db
def test_anonymous_requests_are_throttled_per_address(api_client, settings):
    rates(settings, anon="2/minute")
    cache.delete("throttle_anon_127.0.0.1")

    answers = [api_client.get("/api/market/prices/").status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    response = api_client.get("/api/market/prices/", headers={"Accept-Language": "en"})
    assert response.json()["detail"].startswith("Request was throttled.")
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_signed_in_user_is_throttled_per_user_not_by_a_forged_address(api_client, settings, wang):
    rates(settings, user="2/minute")
    cache.delete(f"throttle_user_{wang.pk}")
    api_client.force_authenticate(wang)

    answers = [
        api_client.get("/api/me/", headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code
        for n in range(3)
    ]

    assert answers == [200, 200, 429]


@pytest.mark.django_db
def test_forged_forwarded_for_does_not_escape_the_address_throttle(api_client, settings):
    rates(settings, anon="2/minute")
    cache.delete("throttle_anon_127.0.0.1")

    answers = [
        api_client.get(
            "/api/market/prices/", headers={"X-Forwarded-For": f"10.0.0.{n}"}
        ).status_code
        for n in range(3)
    ]

    assert answers == [200, 200, 429]
