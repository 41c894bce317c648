"""Sign-in and the role workspaces, as a browser sees them."""

import re

import pytest
from django.test import Client

from accounts.choices import Role
from tests.accounts.factories import PASSWORD, UserFactory

WORKSPACE_HEADINGS = {
    Role.FARMER: "Farmer workspace",
    Role.COOPERATIVE_MANAGER: "Co-operative workspace",
    Role.MARKET_OPERATOR: "Market operator workspace",
    Role.BUYER: "Buyer workspace",
    Role.WAREHOUSE_MANAGER: "Front-warehouse workspace",
    Role.COURIER: "Courier workspace",
    Role.COLDCHAIN_CONTROLLER: "Cold-chain control",
    Role.CONSUMER: "Welcome",
    Role.REGULATOR: "Supervision",
    Role.ADMIN: "Platform administration",
}
WRONG_PASSWORD_MESSAGE = "The mobile number or username and password do not match."


@pytest.fixture
def english_client() -> Client:
    """A browser asking for English, so assertions read the source strings."""
    return Client(headers={"Accept-Language": "en"})


def heading(response) -> str:
    match = re.search(r'<h1 data-testid="workspace-title">(.*?)</h1>', response.text)
    assert match, "the page has no workspace heading"
    return match.group(1).strip()


def signed_in_user_id(client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed",
    ["13800138000", "+86 138 0013 8000", "8613800138000", "0086-138-0013-8000", "wang.farmer"],
)
def test_user_signs_in_with_phone_in_any_spelling_or_username(english_client, typed):
    user = UserFactory(username="wang.farmer", phone="13800138000", role=Role.FARMER)

    response = english_client.post("/sign-in/", {"username": typed, "password": PASSWORD})

    assert response.status_code == 302
    assert signed_in_user_id(english_client) == user.pk


@pytest.mark.django_db
def test_username_match_ignores_case(english_client):
    user = UserFactory(username="Wang.Farmer")

    english_client.post("/sign-in/", {"username": "wang.farmer", "password": PASSWORD})

    assert signed_in_user_id(english_client) == user.pk


@pytest.mark.django_db
def test_wrong_password_shows_form_error_and_does_not_sign_in(english_client):
    UserFactory(phone="13800138000")

    response = english_client.post(
        "/sign-in/", {"username": "13800138000", "password": "not-the-password"}
    )

    assert response.status_code == 200
    assert WRONG_PASSWORD_MESSAGE in response.text
    assert signed_in_user_id(english_client) is None


@pytest.mark.django_db
def test_unknown_phone_gets_the_same_error_as_a_wrong_password(english_client):
    response = english_client.post("/sign-in/", {"username": "13900000000", "password": "whatever"})

    assert WRONG_PASSWORD_MESSAGE in response.text


@pytest.mark.django_db
def test_inactive_user_cannot_sign_in(english_client):
    UserFactory(phone="13800138000", is_active=False)

    english_client.post("/sign-in/", {"username": "13800138000", "password": PASSWORD})

    assert signed_in_user_id(english_client) is None


@pytest.mark.django_db
def test_sign_in_form_errors_are_in_chinese_by_default(client):
    # "This field is required." ships translated (installed apps' catalogues win over
    # Django's, so REST framework's wording is the one shown).
    response = client.post("/sign-in/", {"username": "13800138000", "password": ""})

    assert response.status_code == 200
    assert '<ul class="errorlist" id="id_password_error"><li>该字段是必填项。</li></ul>' in (
        response.text
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", Role.values)
def test_each_role_lands_on_its_own_workspace_after_sign_in(english_client, role):
    UserFactory(phone="13800138000", role=role)

    response = english_client.post(
        "/sign-in/", {"username": "13800138000", "password": PASSWORD}, follow=True
    )

    assert response.status_code == 200
    assert response.request["PATH_INFO"] == f"/workspace/{role}/"
    assert heading(response) == WORKSPACE_HEADINGS[role]


@pytest.mark.django_db
def test_sign_in_returns_to_the_page_asked_for(english_client):
    UserFactory(phone="13800138000", role=Role.BUYER)

    response = english_client.post(
        "/sign-in/",
        {"username": "13800138000", "password": PASSWORD, "next": "/workspace/buyer/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/workspace/buyer/"


@pytest.mark.django_db
def test_sign_in_does_not_redirect_to_another_site(english_client):
    UserFactory(phone="13800138000", role=Role.BUYER)

    response = english_client.post(
        "/sign-in/",
        {"username": "13800138000", "password": PASSWORD, "next": "https://evil.example/"},
        follow=True,
    )

    assert response.request["PATH_INFO"] == "/workspace/buyer/"


@pytest.mark.django_db
def test_farmer_may_not_open_the_buyer_workspace(english_client, farmer):
    english_client.force_login(farmer)

    response = english_client.get("/workspace/buyer/")

    assert response.status_code == 403


@pytest.mark.django_db
def test_platform_admin_may_open_any_workspace(english_client, admin_user):
    english_client.force_login(admin_user)

    response = english_client.get("/workspace/buyer/")

    assert response.status_code == 200
    assert heading(response) == "Buyer workspace"


@pytest.mark.django_db
def test_unknown_workspace_is_not_found(english_client, farmer):
    english_client.force_login(farmer)

    response = english_client.get("/workspace/astronaut/")

    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/workspace/", "/workspace/farmer/"])
def test_anonymous_visitor_is_sent_to_sign_in(english_client, path):
    response = english_client.get(path, follow=True)

    assert response.request["PATH_INFO"] == "/sign-in/"
    assert "<h1>Sign in</h1>" in response.text


@pytest.mark.django_db
def test_signed_in_page_shows_who_and_role(english_client):
    user = UserFactory(display_name="王秀英", role=Role.FARMER)
    english_client.force_login(user)

    response = english_client.get("/workspace/farmer/")

    assert "王秀英 · Farmer" in response.text


@pytest.mark.django_db
def test_sign_out_ends_the_session(english_client, farmer):
    english_client.force_login(farmer)

    response = english_client.post("/sign-out/", follow=True)

    assert response.request["PATH_INFO"] == "/sign-in/"
    assert signed_in_user_id(english_client) is None
