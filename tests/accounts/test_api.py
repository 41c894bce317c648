import pytest
from knox.models import AuthToken

from accounts.choices import Role
from tests.accounts.factories import PASSWORD, UserFactory


@pytest.fixture
def wang(db):
    return UserFactory(
        username="wang", display_name="王秀英", phone="13800138000", role=Role.FARMER
    )


@pytest.mark.django_db
def test_token_is_issued_for_phone_and_password(api_client, wang):
    response = api_client.post(
        "/api/auth/token/", {"username": "+86 138 0013 8000", "password": PASSWORD}
    )

    assert response.status_code == 200
    assert set(response.json()) == {"token", "expiry"}
    me = api_client.get("/api/me/", headers={"Authorization": f"Token {response.json()['token']}"})
    assert me.json()["id"] == wang.pk


@pytest.mark.django_db
def test_each_sign_in_gets_its_own_token(api_client, wang):
    credentials = {"username": "13800138000", "password": PASSWORD}

    first = api_client.post("/api/auth/token/", credentials).json()
    second = api_client.post("/api/auth/token/", credentials).json()

    assert first["token"] != second["token"]
    assert AuthToken.objects.filter(user=wang).count() == 2


@pytest.mark.django_db
def test_wrong_password_gets_400_with_a_password_error(api_client, wang):
    response = api_client.post(
        "/api/auth/token/",
        {"username": "13800138000", "password": "not-the-password"},
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 400
    assert response.json() == {
        "password": ["The mobile number or username and password do not match."]
    }
    assert not AuthToken.objects.exists()


@pytest.mark.django_db
def test_me_with_a_token_returns_the_signed_in_user(api_client, wang):
    _token, key = AuthToken.objects.create(user=wang)

    response = api_client.get(
        "/api/me/", headers={"Authorization": f"Token {key}", "Accept-Language": "en"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": wang.pk,
        "username": "wang",
        "display_name": "王秀英",
        "phone": "+8613800138000",
        "role": "farmer",
        "role_label": "Farmer",
        "weight_unit": "kg",
    }


@pytest.mark.django_db
def test_me_with_a_browser_session_returns_the_signed_in_user(client, wang):
    client.force_login(wang)

    response = client.get("/api/me/")

    assert response.status_code == 200
    assert response.json()["id"] == wang.pk


@pytest.mark.django_db
def test_me_without_credentials_is_refused_with_401(api_client):
    response = api_client.get("/api/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_me_with_an_unknown_token_is_refused_with_401(api_client):
    response = api_client.get("/api/me/", headers={"Authorization": "Token not-a-real-token"})

    assert response.status_code == 401
