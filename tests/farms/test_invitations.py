"""Adding the number of an existing account invites its holder; she joins only by accepting."""

import pytest

from accounts.models import Notification
from farms.choices import InvitationStatus
from farms.exceptions import (
    CannotJoinCooperative,
    InvitationAlreadyAnswered,
    InvitationNotAvailable,
    PasswordNotForManagerToIssue,
)
from farms.models import Membership, MembershipInvitation
from farms.services.cooperatives import add_member, issue_member_password
from farms.services.invitations import accept_invitation, decline_invitation, withdraw_invitation
from tests.accounts.factories import authenticate
from tests.farms.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(manager, cooperative, farmer):
    return add_member(
        added_by=manager, cooperative=cooperative, name="ignored", phone=farmer.phone
    ).invitation


def test_adding_an_existing_farmer_invites_her_and_attaches_nobody(
    manager, cooperative, farmer, password
):
    added = add_member(added_by=manager, cooperative=cooperative, name="x", phone=farmer.phone)

    assert added.membership is None
    assert added.invitation.status == InvitationStatus.PENDING
    assert not Membership.objects.filter(user=farmer).exists()
    notice = Notification.objects.get(user=farmer, kind="membership.invited")
    assert cooperative.name in notice.title
    assert notice.url == "/invitations/"


def test_the_takeover_path_is_closed(manager, cooperative, farmer, password):
    """Add an existing farmer by her number, then try to give her a new password."""
    add_member(added_by=manager, cooperative=cooperative, name="x", phone=farmer.phone)
    accept_invitation(
        user=farmer,
        invitation_id=MembershipInvitation.objects.get(user=farmer).pk,
    )
    membership = Membership.objects.get(user=farmer)

    with pytest.raises(PasswordNotForManagerToIssue):
        issue_member_password(issued_by=manager, membership_id=membership.pk)

    farmer.refresh_from_db()
    assert farmer.check_password(password)
    assert authenticate(username=farmer.username, password=password) == farmer


def test_adding_her_twice_keeps_one_pending_invitation(manager, cooperative, farmer, invitation):
    again = add_member(added_by=manager, cooperative=cooperative, name="x", phone=farmer.phone)

    assert again.invitation == invitation
    assert MembershipInvitation.objects.filter(user=farmer).count() == 1
    assert Notification.objects.filter(user=farmer, kind="membership.invited").count() == 1


def test_she_accepts_and_joins(manager, cooperative, farmer, invitation):
    membership = accept_invitation(user=farmer, invitation_id=invitation.pk)

    assert membership.cooperative == cooperative
    assert membership.account_created_by is None
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.answered_at is not None
    assert Notification.objects.filter(user=manager, kind="membership.invitation_accepted")


def test_she_declines_and_does_not_join(farmer, invitation):
    decline_invitation(user=farmer, invitation_id=invitation.pk)

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.DECLINED
    assert not Membership.objects.filter(user=farmer).exists()
    with pytest.raises(InvitationAlreadyAnswered):
        accept_invitation(user=farmer, invitation_id=invitation.pk)
    assert not Membership.objects.filter(user=farmer).exists()


def test_nobody_else_can_answer_her_invitation(invitation, manager, buyer):
    for someone in (manager, buyer):
        with pytest.raises(InvitationNotAvailable):
            accept_invitation(user=someone, invitation_id=invitation.pk)

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


@pytest.mark.parametrize("holder", ["buyer", "in_other_cooperative"])
def test_other_accounts_get_the_same_neutral_answer_and_cannot_join(
    manager, cooperative, other_cooperative, buyer, holder
):
    user = buyer if holder == "buyer" else MembershipFactory(cooperative=other_cooperative).user

    added = add_member(added_by=manager, cooperative=cooperative, name="x", phone=user.phone)

    assert added.membership is None
    assert added.invitation.status == InvitationStatus.PENDING
    with pytest.raises(CannotJoinCooperative):
        accept_invitation(user=user, invitation_id=added.invitation.pk)
    assert not Membership.objects.filter(user=user, cooperative=cooperative).exists()


def test_manager_of_another_cooperative_can_neither_see_nor_withdraw_it(
    api_as, client, invitation, other_cooperative
):
    other_manager = MembershipFactory(cooperative=other_cooperative, manager=True).user

    with pytest.raises(InvitationNotAvailable):
        withdraw_invitation(withdrawn_by=other_manager, invitation_id=invitation.pk)
    listed = api_as(other_manager).get("/api/cooperatives/invitations/")
    withdrawn = api_as(other_manager).post(
        f"/api/cooperatives/invitations/{invitation.pk}/withdraw/"
    )
    client.force_login(other_manager)
    page = client.get("/members/").content.decode()
    page_withdraw = client.post(f"/members/invitations/{invitation.pk}/withdraw/")

    assert listed.status_code == 200
    assert listed.data["results"] == []
    assert withdrawn.status_code == 404
    assert invitation.phone not in page
    assert page_withdraw.status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


def test_her_manager_withdraws_it_and_she_can_no_longer_accept(manager, farmer, invitation):
    withdraw_invitation(withdrawn_by=manager, invitation_id=invitation.pk)

    with pytest.raises(InvitationAlreadyAnswered):
        accept_invitation(user=farmer, invitation_id=invitation.pk)
    assert not Membership.objects.filter(user=farmer).exists()


# The doors


def test_api_add_by_phone_invites_without_naming_the_account(api_as, manager, farmer):
    response = api_as(manager).post(
        "/api/cooperatives/members/", {"name": "x", "phone": farmer.phone}
    )

    assert response.status_code == 202
    assert response.data["status"] == "pending"
    assert farmer.display_name not in str(response.data)
    assert "role" not in response.data
    assert not Membership.objects.filter(user=farmer).exists()


def test_api_she_lists_accepts_and_joins(api_as, farmer, invitation, cooperative):
    mine = api_as(farmer).get("/api/invitations/")
    accepted = api_as(farmer).post(f"/api/invitations/{invitation.pk}/accept/")

    ids = [row["id"] for row in mine.data["results"]]
    assert ids == [invitation.pk]
    assert accepted.status_code == 200
    assert Membership.objects.get(user=farmer).cooperative == cooperative


def test_api_she_declines(api_as, farmer, invitation):
    response = api_as(farmer).post(f"/api/invitations/{invitation.pk}/decline/")

    assert response.status_code == 200
    assert response.data["status"] == "declined"
    assert not Membership.objects.filter(user=farmer).exists()


def test_api_another_person_cannot_accept_it(api_as, buyer, invitation):
    response = api_as(buyer).post(f"/api/invitations/{invitation.pk}/accept/")

    assert response.status_code == 404
    assert not Membership.objects.filter(user=buyer).exists()


def test_manager_page_says_invitation_sent_without_her_name(english, manager, farmer):
    english.force_login(manager)

    response = english.post("/members/", {"name": "x", "phone": farmer.phone}, follow=True)

    page = response.content.decode()
    assert "An invitation was sent to" in page
    assert farmer.display_name not in page
    assert not Membership.objects.filter(user=farmer).exists()


def test_she_accepts_on_her_invitations_page(english, farmer, invitation, cooperative):
    english.force_login(farmer)

    listed = english.get("/invitations/")
    response = english.post(f"/invitations/{invitation.pk}/accept/", follow=True)

    assert cooperative.name in listed.content.decode()
    assert "You are now a member of" in response.content.decode()
    assert Membership.objects.get(user=farmer).cooperative == cooperative


def test_she_declines_on_her_invitations_page(english, farmer, invitation):
    english.force_login(farmer)

    response = english.post(f"/invitations/{invitation.pk}/decline/", follow=True)

    assert "You declined the invitation." in response.content.decode()
    assert not Membership.objects.filter(user=farmer).exists()
