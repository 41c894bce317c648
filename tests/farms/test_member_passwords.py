"""A co-operative manager hands a new member farmer her first password, and no other."""

import pytest
from django.utils import timezone, translation
from knox.models import AuthToken

from farms.exceptions import (
    NotCooperativeManager,
    PasswordNotForManagerToIssue,
    PhoneBelongsToNonFarmer,
)
from farms.models import Membership
from farms.services.cooperatives import PASSWORD_ALPHABET, add_member, issue_member_password
from tests.accounts.factories import authenticate
from tests.farms.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_member(manager, cooperative):
    """A farmer whose account the manager made by adding her number; never signed in."""
    return add_member(
        added_by=manager, cooperative=cooperative, name="李建国", phone="139 0000 1234"
    ).membership


def test_new_member_signs_in_with_the_password_her_manager_was_given(manager, new_member):
    password = issue_member_password(issued_by=manager, membership_id=new_member.pk)

    assert len(password) == 8
    assert set(password) <= set(PASSWORD_ALPHABET)
    assert authenticate(username="13900001234", password=password) == new_member.user


def test_a_second_first_password_ends_the_first_and_its_api_token(manager, new_member):
    first = issue_member_password(issued_by=manager, membership_id=new_member.pk)
    token, _key = AuthToken.objects.create(user=new_member.user)

    second = issue_member_password(issued_by=manager, membership_id=new_member.pk)

    assert authenticate(username="13900001234", password=first) is None
    assert authenticate(username="13900001234", password=second) == new_member.user
    assert not AuthToken.objects.filter(pk=token.pk).exists()


def test_a_member_who_has_signed_in_cannot_be_given_a_password(client, manager, new_member):
    password = issue_member_password(issued_by=manager, membership_id=new_member.pk)
    signed_in = client.post("/sign-in/", {"username": "13900001234", "password": password})
    assert signed_in.status_code == 302

    with pytest.raises(PasswordNotForManagerToIssue):
        issue_member_password(issued_by=manager, membership_id=new_member.pk)

    new_member.user.refresh_from_db()
    assert new_member.user.check_password(password)


def test_a_member_who_joined_with_her_own_account_cannot_be_given_a_password(
    manager, member, password
):
    """The takeover path: her account is hers, whoever's co-operative she is in."""
    membership = Membership.objects.get(user=member)

    with pytest.raises(PasswordNotForManagerToIssue) as refusal:
        issue_member_password(issued_by=manager, membership_id=membership.pk)

    with translation.override("en"):
        assert "never signed in" in str(refusal.value.message)
    member.refresh_from_db()
    assert member.check_password(password)


def test_manager_of_another_cooperative_cannot_give_a_password(
    new_member, other_cooperative, farmer
):
    other_manager = MembershipFactory(cooperative=other_cooperative, manager=True).user

    with pytest.raises(NotCooperativeManager):
        issue_member_password(issued_by=other_manager, membership_id=new_member.pk)

    new_member.user.refresh_from_db()
    assert not new_member.user.has_usable_password()


def test_a_managers_own_password_is_not_reset_by_this_way(manager, admin_user, password):
    membership = Membership.objects.get(user=manager)

    with pytest.raises(PhoneBelongsToNonFarmer):
        issue_member_password(issued_by=admin_user, membership_id=membership.pk)

    manager.refresh_from_db()
    assert manager.check_password(password)


def test_member_page_shows_the_first_password_once(client, manager, new_member):
    client.force_login(manager)

    response = client.post(f"/members/{new_member.pk}/password/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    shown = response.context["password"]
    assert shown in response.content.decode()
    assert "no-cache" in response["Cache-Control"]
    new_member.user.refresh_from_db()
    assert new_member.user.check_password(shown)


def test_member_page_refuses_a_password_for_a_member_who_signed_in(english, manager, new_member):
    new_member.user.last_login = timezone.now()
    new_member.user.save(update_fields=["last_login"])
    english.force_login(manager)

    page = english.get("/members/").content.decode()
    response = english.post(f"/members/{new_member.pk}/password/", follow=True)

    assert f"/members/{new_member.pk}/password/" not in page
    assert "never signed in" in response.content.decode()
    new_member.user.refresh_from_db()
    assert not new_member.user.has_usable_password()


def test_member_page_of_another_cooperative_is_not_found(
    client, new_member, other_cooperative, cooperative
):
    other_manager = MembershipFactory(cooperative=other_cooperative, manager=True).user
    client.force_login(other_manager)

    response = client.post(f"/members/{new_member.pk}/password/")

    assert response.status_code == 404
    new_member.user.refresh_from_db()
    assert not new_member.user.has_usable_password()


def test_member_password_page_only_takes_post(client, manager, new_member):
    client.force_login(manager)

    assert client.get(f"/members/{new_member.pk}/password/").status_code == 405


def test_api_returns_the_first_password_to_the_manager_only(api_as, manager, new_member, member):
    url = f"/api/cooperatives/members/{new_member.pk}/password/"

    assert api_as(member).post(url).status_code == 403
    response = api_as(manager).post(url)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    new_member.user.refresh_from_db()
    assert new_member.user.check_password(response.data["password"])


def test_api_refuses_a_password_for_a_member_with_her_own_account(
    api_as, manager, member, password
):
    membership = Membership.objects.get(user=member)

    response = api_as(manager).post(f"/api/cooperatives/members/{membership.pk}/password/")

    assert response.status_code == 409
    assert "detail" in response.data
    member.refresh_from_db()
    assert member.check_password(password)


def test_member_changes_the_handed_over_password(client, member, password):
    client.force_login(member)

    response = client.post(
        "/password/",
        {
            "old_password": password,
            "new_password1": "hongshi-2026!",
            "new_password2": "hongshi-2026!",
        },
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password("hongshi-2026!")


def test_a_member_must_replace_the_password_her_manager_issued(client, manager, new_member):
    password = issue_member_password(issued_by=manager, membership_id=new_member.pk)

    member = new_member.user
    member.refresh_from_db()
    assert member.must_change_password
    response = client.post(
        "/sign-in/", {"username": member.username, "password": password}, follow=True
    )
    assert response.request["PATH_INFO"] == "/password/"
