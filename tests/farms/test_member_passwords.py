"""A co-operative manager hands a member farmer her first (or a new) password."""

import pytest
from django.contrib import auth
from django.test import RequestFactory
from knox.models import AuthToken

from farms.exceptions import NotCooperativeManager, PhoneBelongsToNonFarmer
from farms.models import Membership
from farms.services import PASSWORD_ALPHABET, add_member, issue_member_password
from tests.farms.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def authenticate(*, username: str, password: str):
    """Sign-in as the sign-in page does it (the lock-out needs the request)."""
    return auth.authenticate(
        RequestFactory().post("/sign-in/"), username=username, password=password
    )


def test_new_member_signs_in_with_the_password_her_manager_was_given(manager, cooperative):
    membership = add_member(
        added_by=manager, cooperative=cooperative, name="李建国", phone="139 0000 1234"
    )

    password = issue_member_password(issued_by=manager, membership_id=membership.pk)

    assert len(password) == 8
    assert set(password) <= set(PASSWORD_ALPHABET)
    assert authenticate(username="13900001234", password=password) == membership.user


def test_a_new_password_ends_the_old_one_and_the_old_api_token(manager, member, password):
    token, _key = AuthToken.objects.create(user=member)
    membership = Membership.objects.get(user=member)

    new_password = issue_member_password(issued_by=manager, membership_id=membership.pk)

    assert authenticate(username=member.username, password=password) is None
    assert authenticate(username=member.username, password=new_password) == member
    assert not AuthToken.objects.filter(pk=token.pk).exists()


def test_manager_of_another_cooperative_cannot_reset_a_member(
    member, other_cooperative, cooperative_manager, password
):
    MembershipFactory(user=cooperative_manager, cooperative=other_cooperative, is_manager=True)
    membership = Membership.objects.get(user=member)

    with pytest.raises(NotCooperativeManager):
        issue_member_password(issued_by=cooperative_manager, membership_id=membership.pk)

    member.refresh_from_db()
    assert member.check_password(password)


def test_a_managers_own_password_is_not_reset_by_this_way(manager, admin_user, password):
    membership = Membership.objects.get(user=manager)

    with pytest.raises(PhoneBelongsToNonFarmer):
        issue_member_password(issued_by=admin_user, membership_id=membership.pk)

    manager.refresh_from_db()
    assert manager.check_password(password)


def test_member_page_shows_the_new_password_once(client, manager, member):
    membership = Membership.objects.get(user=member)
    client.force_login(manager)

    response = client.post(f"/members/{membership.pk}/password/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    shown = response.context["password"]
    assert shown in response.content.decode()
    assert "no-cache" in response["Cache-Control"]
    member.refresh_from_db()
    assert member.check_password(shown)


def test_member_page_of_another_cooperative_is_not_found(
    client, member, other_cooperative, cooperative_manager, password
):
    MembershipFactory(user=cooperative_manager, cooperative=other_cooperative, is_manager=True)
    membership = Membership.objects.get(user=member)
    client.force_login(cooperative_manager)

    response = client.post(f"/members/{membership.pk}/password/")

    assert response.status_code == 404
    member.refresh_from_db()
    assert member.check_password(password)


def test_member_password_page_only_takes_post(client, manager, member):
    client.force_login(manager)
    membership = Membership.objects.get(user=member)

    assert client.get(f"/members/{membership.pk}/password/").status_code == 405


def test_api_returns_the_new_password_to_the_manager_only(
    api_as, manager, member, farmer, password
):
    membership = Membership.objects.get(user=member)
    url = f"/api/cooperatives/members/{membership.pk}/password/"

    assert api_as(member).post(url).status_code == 403
    response = api_as(manager).post(url)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    member.refresh_from_db()
    assert member.check_password(response.data["password"])


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


def test_a_member_must_replace_the_password_her_manager_issued(client, manager, member):
    membership = Membership.objects.get(user=member)

    password = issue_member_password(issued_by=manager, membership_id=membership.pk)

    member.refresh_from_db()
    assert member.must_change_password
    response = client.post(
        "/sign-in/", {"username": member.username, "password": password}, follow=True
    )
    assert response.request["PATH_INFO"] == "/password/"
