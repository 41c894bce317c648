"""A password someone else set must be replaced before anything else, on the site and the API."""

import pytest
from django.test import Client

from accounts import demo
from accounts.choices import Role
from accounts.models import User
from accounts.services import set_password_for
from tests.accounts.factories import PASSWORD, UserFactory

GIVEN = "given-by-admin-7"
OWN = "hongshi-2026!"
API_MESSAGE = (
    "Your password was set by someone else: choose your own first (POST /api/auth/password/)."
)


@pytest.fixture
def english_client() -> Client:
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def given(db, admin_user):
    """A farmer whose password an administrator set."""
    user = UserFactory(username="li", phone="13900001234", role=Role.FARMER)
    set_password_for(user=user, password=GIVEN, set_by=admin_user)
    return user


@pytest.mark.django_db
def test_sign_in_with_a_given_password_leads_to_the_password_page(english_client, given):
    response = english_client.post(
        "/sign-in/", {"username": "13900001234", "password": GIVEN}, follow=True
    )

    assert response.request["PATH_INFO"] == "/password/"
    assert "Your password was set by someone else." in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/workspace/", "/workspace/farmer/", "/notifications/"])
def test_every_other_page_sends_her_back_to_the_password_page(english_client, given, path):
    english_client.force_login(given)

    response = english_client.get(path)

    assert response.status_code == 302
    assert response["Location"] == "/password/"


@pytest.mark.django_db
def test_she_may_still_sign_out(english_client, given):
    english_client.force_login(given)

    english_client.post("/sign-out/")

    assert "_auth_user_id" not in english_client.session


@pytest.mark.django_db
def test_after_choosing_her_own_password_the_pages_open(english_client, given):
    english_client.force_login(given)

    response = english_client.post(
        "/password/", {"old_password": GIVEN, "new_password1": OWN, "new_password2": OWN}
    )

    assert response.status_code == 302
    given.refresh_from_db()
    assert not given.must_change_password
    assert given.check_password(OWN)
    assert english_client.get("/workspace/farmer/").status_code == 200


@pytest.mark.django_db
def test_the_given_password_cannot_be_kept(english_client, given):
    english_client.force_login(given)

    response = english_client.post(
        "/password/", {"old_password": GIVEN, "new_password1": GIVEN, "new_password2": GIVEN}
    )

    assert response.status_code == 200
    assert "Choose a password different from the one you have now." in response.text
    given.refresh_from_db()
    assert given.must_change_password


@pytest.mark.django_db
@pytest.mark.parametrize("auth", ["token", "session"])
def test_api_refuses_her_with_403_and_says_what_to_do(api_client, given, auth):
    if auth == "token":
        key = api_client.post("/api/auth/token/", {"username": "li", "password": GIVEN}).json()[
            "token"
        ]
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    else:
        api_client.force_login(given)

    response = api_client.get("/api/notifications/", headers={"Accept-Language": "en"})

    assert response.status_code == 403
    assert response.json() == {"detail": API_MESSAGE}


@pytest.mark.django_db
def test_api_password_change_is_open_to_her_and_lifts_the_refusal(api_client, given):
    key = api_client.post("/api/auth/token/", {"username": "li", "password": GIVEN}).json()["token"]

    response = api_client.post(
        "/api/auth/password/",
        {"old_password": GIVEN, "new_password": OWN},
        headers={"Authorization": f"Token {key}"},
    )
    new_key = response.json()["token"]

    assert response.status_code == 200
    assert (
        api_client.get(
            "/api/notifications/", headers={"Authorization": f"Token {new_key}"}
        ).status_code
        == 200
    )


@pytest.mark.django_db
def test_a_password_she_sets_herself_is_not_flagged(db):
    user = UserFactory()

    set_password_for(user=user, password=OWN, set_by=user)

    user.refresh_from_db()
    assert not user.must_change_password


@pytest.mark.django_db
def test_account_created_in_the_admin_must_change_its_password(client, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)

    response = client.post(
        "/admin/accounts/user/add/",
        {"username": "newcomer", "usable_password": "true", "password1": GIVEN, "password2": GIVEN},
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(username="newcomer").must_change_password


@pytest.mark.django_db
def test_password_set_in_the_admin_must_be_changed(client, admin_user, given):
    given.must_change_password = False
    given.save()
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)

    response = client.post(
        f"/admin/accounts/user/{given.pk}/password/",
        {"usable_password": "true", "password1": "another-given-9", "password2": "another-given-9"},
    )

    assert response.status_code == 302
    given.refresh_from_db()
    assert given.must_change_password
    assert given.check_password("another-given-9")


@pytest.mark.django_db
def test_demo_accounts_sign_in_straight_away(english_client):
    demo.seed({})
    farmer = User.objects.get(username="farmer")
    set_password_for(user=farmer, password=GIVEN, set_by=User.objects.get(username="coop"))

    demo.seed({})  # seed_demo again, as `make run` does

    response = english_client.post(
        "/sign-in/", {"username": "13800000001", "password": demo.DEMO_PASSWORD}, follow=True
    )
    assert response.request["PATH_INFO"] == "/workspace/farmer/"
    assert not User.objects.filter(must_change_password=True).exists()


@pytest.mark.django_db
def test_factory_users_and_self_chosen_passwords_are_not_forced(english_client):
    UserFactory(phone="13800138000", role=Role.BUYER)

    response = english_client.post(
        "/sign-in/", {"username": "13800138000", "password": PASSWORD}, follow=True
    )

    assert response.request["PATH_INFO"] == "/workspace/buyer/"
