"""API tokens: stored hashed, expiring, revoked at sign-out and when the password changes."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken

from accounts.services import set_password_for
from tests.accounts.factories import PASSWORD, UserFactory

NEW_PASSWORD = "hongshi-2026!"


@pytest.fixture
def wang(db):
    return UserFactory(username="wang", phone="13800138000")


def obtain(api_client, username="wang", password=PASSWORD) -> dict:
    response = api_client.post("/api/auth/token/", {"username": username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def me(api_client, key: str):
    return api_client.get(
        "/api/me/", headers={"Authorization": f"Token {key}", "Accept-Language": "en"}
    )


@pytest.mark.django_db
def test_the_database_holds_only_a_hash_of_the_token(api_client, wang):
    key = obtain(api_client)["token"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM knox_authtoken")
        rows = cursor.fetchall()

    assert len(rows) == 1
    assert not any(key in str(value) for value in rows[0])
    assert me(api_client, key).status_code == 200


@pytest.mark.django_db
def test_token_expires_after_the_configured_hours(api_client, wang, settings):
    settings.API_TOKEN_TTL_HOURS = 12
    with time_machine.travel("2026-05-01 08:00 +0800", tick=False):
        answer = obtain(api_client)
    key = answer["token"]

    with time_machine.travel("2026-05-01 19:59 +0800", tick=False):
        assert me(api_client, key).status_code == 200
    with time_machine.travel("2026-05-01 20:01 +0800", tick=False):
        refused = me(api_client, key)

    assert answer["expiry"].startswith("2026-05-01T20:00:00")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid token."}


@pytest.mark.django_db
def test_token_is_refused_after_the_password_is_changed_on_the_page(client, api_client, wang):
    key = obtain(api_client)["token"]
    client.force_login(wang)

    response = client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert me(api_client, key).status_code == 401
    assert client.get("/workspace/").status_code == 302  # the browser stays signed in


@pytest.mark.django_db
def test_password_change_through_the_api_revokes_old_tokens_and_answers_a_new_one(api_client, wang):
    first, second = obtain(api_client)["token"], obtain(api_client)["token"]

    response = api_client.post(
        "/api/auth/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"Authorization": f"Token {first}"},
    )

    assert response.status_code == 200
    assert me(api_client, first).status_code == 401
    assert me(api_client, second).status_code == 401
    assert me(api_client, response.json()["token"]).status_code == 200
    wang.refresh_from_db()
    assert wang.check_password(NEW_PASSWORD)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("wrong-password", NEW_PASSWORD, "old_password", "Your current password is not correct."),
        (
            PASSWORD,
            PASSWORD,
            "new_password",
            "Choose a password different from the one you have now.",
        ),
        (PASSWORD, "12345678", "new_password", "This password is too common."),
    ],
)
def test_api_password_change_refuses_bad_input_with_a_field_error(
    api_client, wang, old, new, field, message
):
    key = obtain(api_client)["token"]

    response = api_client.post(
        "/api/auth/password/",
        {"old_password": old, "new_password": new},
        headers={"Authorization": f"Token {key}", "Accept-Language": "en"},
    )

    assert response.status_code == 400
    assert message in response.json()[field][0]
    wang.refresh_from_db()
    assert wang.check_password(PASSWORD)
    assert me(api_client, key).status_code == 200


@pytest.mark.django_db
def test_token_is_refused_after_someone_else_sets_the_password(api_client, wang, admin_user):
    key = obtain(api_client)["token"]

    set_password_for(user=wang, password="given-by-admin-1", set_by=admin_user)

    assert me(api_client, key).status_code == 401


@pytest.mark.django_db
def test_sign_out_revokes_only_this_token(api_client, wang):
    this, other = obtain(api_client)["token"], obtain(api_client)["token"]

    response = api_client.post("/api/auth/sign-out/", headers={"Authorization": f"Token {this}"})

    assert response.status_code == 204
    assert me(api_client, this).status_code == 401
    assert me(api_client, other).status_code == 200


@pytest.mark.django_db
def test_sign_out_everywhere_revokes_every_token(api_client, wang):
    this, other = obtain(api_client)["token"], obtain(api_client)["token"]

    response = api_client.post(
        "/api/auth/sign-out-everywhere/", headers={"Authorization": f"Token {this}"}
    )

    assert response.status_code == 204
    assert me(api_client, this).status_code == 401
    assert me(api_client, other).status_code == 401


@pytest.mark.django_db
def test_signing_out_of_the_site_revokes_the_api_tokens(client, api_client, wang):
    key = obtain(api_client)["token"]
    client.force_login(wang)

    client.post("/sign-out/")

    assert me(api_client, key).status_code == 401


@pytest.mark.django_db
def test_another_users_tokens_are_untouched(api_client, wang):
    other = UserFactory()
    other_key = obtain(api_client, username=other.username)["token"]
    key = obtain(api_client)["token"]

    api_client.post("/api/auth/sign-out-everywhere/", headers={"Authorization": f"Token {key}"})

    assert me(api_client, other_key).status_code == 200


@pytest.mark.django_db
def test_token_sign_in_records_the_sign_in(api_client, wang):
    obtain(api_client)

    wang.refresh_from_db()
    assert wang.last_login is not None
    assert timezone.now() - wang.last_login < timedelta(minutes=1)


@pytest.mark.django_db
def test_expired_tokens_are_cleared_at_the_next_sign_in(api_client, wang, settings):
    settings.API_TOKEN_TTL_HOURS = 1
    with time_machine.travel("2026-05-01 08:00 +0800", tick=False):
        obtain(api_client)
    with time_machine.travel("2026-05-01 10:00 +0800", tick=False):
        obtain(api_client)

    assert AuthToken.objects.filter(user=wang).count() == 1
