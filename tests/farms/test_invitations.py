"""A manager invites a mobile number; its holder joins only by accepting, signed in with it.

The number gets an SMS with a link to /join/<token>/; nobody's account is made or attached by
the co-operative.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry, Notification, User
from farms.choices import InvitationStatus
from farms.exceptions import (
    AlreadyMember,
    CannotJoinCooperative,
    InvalidMemberDetails,
    InvitationAlreadyAnswered,
    InvitationExpired,
    InvitationNotAvailable,
    MemberOfAnotherCooperative,
    NotCooperativeManager,
)
from farms.models import Membership, MembershipInvitation
from farms.services.invitations import (
    accept_invitation,
    decline_invitation,
    invite_member,
    withdraw_invitation,
)
from tests.accounts.factories import UserFactory
from tests.farms.factories import MembershipFactory

pytestmark = pytest.mark.django_db

NEW_NUMBER = "13700137000"
NEW_PHONE = "+8613700137000"


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """invite_member, with its after-commit SMS sent as a committed transaction would."""

    def invite(**kwargs) -> MembershipInvitation:
        with django_capture_on_commit_callbacks(execute=True):
            return invite_member(**kwargs)

    return invite


def link_path(sms_outbox, phone: str) -> str:
    """The /join/<token>/ path of the newest invitation texted to `phone`."""
    for text in reversed(sms_outbox.messages_to(phone)):
        found = re.search(r"https?://[^/\s]+(/join/[\w-]+/)", text)
        if found:
            return found.group(1)
    raise AssertionError(f"no invitation link was sent to {phone}")


@pytest.fixture
def invitation(send, manager, cooperative, farmer):
    """An invitation to the existing `farmer` account, in no co-operative."""
    return send(invited_by=manager, cooperative=cooperative, phone=farmer.phone)


# Inviting


def test_a_new_number_gets_a_link_and_no_account_is_made(send, manager, cooperative, sms_outbox):
    users_before = User.objects.count()
    texts_before = len(sms_outbox.messages_to(NEW_NUMBER))

    invitation = send(invited_by=manager, cooperative=cooperative, phone="137 0013 7000")

    assert User.objects.count() == users_before
    assert invitation.user is None
    assert invitation.phone == NEW_PHONE
    assert invitation.status == InvitationStatus.PENDING
    assert invitation.expires_at - invitation.sent_at == timedelta(days=7)
    (text,) = sms_outbox.messages_to(NEW_NUMBER)[texts_before:]
    assert cooperative.name in text
    assert "http://localhost:8000/join/" in text  # settings.SITE_URL
    token = link_path(sms_outbox, NEW_NUMBER).split("/")[2]
    assert len(token) >= 40
    assert token not in str(MembershipInvitation.objects.filter(pk=invitation.pk).values()[0])


def test_an_existing_account_is_invited_and_told_in_the_app(
    send, manager, cooperative, farmer, sms_outbox
):
    invitation = send(invited_by=manager, cooperative=cooperative, phone=farmer.phone)

    assert invitation.user == farmer
    assert not Membership.objects.filter(user=farmer).exists()
    notice = Notification.objects.get(user=farmer, kind="membership.invited")
    assert cooperative.name in notice.title
    assert notice.url == "/invitations/"
    assert link_path(sms_outbox, farmer.phone).startswith("/join/")


def test_inviting_twice_within_a_minute_keeps_one_invitation_and_one_sms(
    send, manager, cooperative, sms_outbox
):
    texts_before = len(sms_outbox.messages_to(NEW_NUMBER))

    first = send(invited_by=manager, cooperative=cooperative, phone=NEW_NUMBER)
    again = send(invited_by=manager, cooperative=cooperative, phone=NEW_NUMBER)

    assert again == first
    assert MembershipInvitation.objects.filter(phone=NEW_PHONE).count() == 1
    assert len(sms_outbox.messages_to(NEW_NUMBER)) == texts_before + 1


def test_inviting_again_later_sends_a_new_link_and_the_old_one_stops(
    send, client, manager, cooperative, sms_outbox
):
    send(invited_by=manager, cooperative=cooperative, phone=NEW_NUMBER)
    old = link_path(sms_outbox, NEW_NUMBER)

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        send(invited_by=manager, cooperative=cooperative, phone=NEW_NUMBER)
    new = link_path(sms_outbox, NEW_NUMBER)

    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_a_member_of_another_cooperative_is_refused_on_the_phone_field(
    send, manager, cooperative, other_cooperative, sms_outbox
):
    elsewhere = MembershipFactory(cooperative=other_cooperative).user
    texts_before = sms_outbox.messages_to(elsewhere.phone)

    with pytest.raises(MemberOfAnotherCooperative) as refusal:
        send(invited_by=manager, cooperative=cooperative, phone=elsewhere.phone)

    assert refusal.value.field == "phone"
    assert refusal.value.message == MemberOfAnotherCooperative.default_message
    assert other_cooperative.name not in str(refusal.value.message)
    assert not MembershipInvitation.objects.exists()
    assert sms_outbox.messages_to(elsewhere.phone) == texts_before


def test_a_member_of_her_own_cooperative_is_refused(send, manager, cooperative, member):
    with pytest.raises(AlreadyMember):
        send(invited_by=manager, cooperative=cooperative, phone=member.phone)

    assert not MembershipInvitation.objects.exists()


@pytest.mark.parametrize("phone", ["12345", "", "2380013800"])
def test_a_bad_number_is_refused_and_nothing_is_saved(send, manager, cooperative, phone):
    with pytest.raises(InvalidMemberDetails) as refusal:
        send(invited_by=manager, cooperative=cooperative, phone=phone)

    assert refusal.value.field == "phone"
    assert not MembershipInvitation.objects.exists()


def test_only_the_cooperatives_manager_may_invite(send, member, cooperative, other_cooperative):
    other_manager = MembershipFactory(cooperative=other_cooperative, manager=True).user

    for outsider in (member, other_manager):
        with pytest.raises(NotCooperativeManager):
            send(invited_by=outsider, cooperative=cooperative, phone=NEW_NUMBER)

    assert not MembershipInvitation.objects.exists()


def test_platform_admin_may_invite(send, admin_user, cooperative):
    invitation = send(invited_by=admin_user, cooperative=cooperative, phone=NEW_NUMBER)

    assert invitation.cooperative == cooperative


# Answering


def test_she_accepts_and_joins(manager, cooperative, farmer, invitation):
    membership = accept_invitation(user=farmer, invitation_id=invitation.pk)

    assert membership.cooperative == cooperative
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.answered_at is not None
    assert Notification.objects.filter(user=manager, kind="membership.invitation_accepted")


def test_a_newcomer_who_signed_up_after_the_invitation_accepts_and_becomes_a_farmer(
    send, manager, cooperative
):
    invitation = send(invited_by=manager, cooperative=cooperative, phone=NEW_NUMBER)
    newcomer = UserFactory(phone=NEW_PHONE, role=Role.CONSUMER)

    membership = accept_invitation(user=newcomer, invitation_id=invitation.pk, address="10.0.0.7")

    newcomer.refresh_from_db()
    assert newcomer.role == Role.FARMER
    assert membership.cooperative == cooperative
    assert not membership.is_manager
    invitation.refresh_from_db()
    assert invitation.user == newcomer
    entry = AuditEntry.objects.get(action=AuditAction.ROLE_CHANGED, subject=newcomer)
    assert entry.changes == {"role": ["consumer", "farmer"]}
    assert entry.client_address == "10.0.0.7"


def test_an_expired_invitation_cannot_be_accepted(send, manager, cooperative):
    invitation = send(invited_by=manager, cooperative=cooperative, phone=NEW_NUMBER)
    newcomer = UserFactory(phone=NEW_PHONE, role=Role.CONSUMER)

    with (
        time_machine.travel(timezone.now() + timedelta(days=8)),
        pytest.raises(InvitationExpired),
    ):
        accept_invitation(user=newcomer, invitation_id=invitation.pk)

    newcomer.refresh_from_db()
    assert newcomer.role == Role.CONSUMER
    assert not Membership.objects.filter(user=newcomer).exists()


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


@pytest.mark.parametrize("role", [Role.COURIER, Role.MARKET_OPERATOR, Role.COOPERATIVE_MANAGER])
def test_staff_accounts_get_the_same_answer_but_cannot_join(send, manager, cooperative, role):
    staff = UserFactory(role=role)

    invitation = send(invited_by=manager, cooperative=cooperative, phone=staff.phone)

    assert invitation.status == InvitationStatus.PENDING
    with pytest.raises(CannotJoinCooperative):
        accept_invitation(user=staff, invitation_id=invitation.pk)
    staff.refresh_from_db()
    assert staff.role == role
    assert not Membership.objects.filter(user=staff).exists()


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


def test_her_manager_withdraws_it_and_the_link_stops_working(
    client, manager, farmer, invitation, sms_outbox
):
    withdraw_invitation(withdrawn_by=manager, invitation_id=invitation.pk)
    client.force_login(farmer)

    with pytest.raises(InvitationAlreadyAnswered):
        accept_invitation(user=farmer, invitation_id=invitation.pk)
    page = client.post(link_path(sms_outbox, farmer.phone), {"answer": "accept"})
    assert "already answered or withdrawn" in page.content.decode() or page.status_code == 200
    assert not Membership.objects.filter(user=farmer).exists()


# The link's page


def test_signed_out_the_link_offers_sign_up_with_the_number(
    english, send, manager, cooperative, sms_outbox
):
    send(invited_by=manager, cooperative=cooperative, phone=NEW_NUMBER)
    path = link_path(sms_outbox, NEW_NUMBER)

    response = english.get(path)

    page = response.content.decode()
    assert response.status_code == 200
    assert cooperative.name in page
    assert f"/sign-up/?phone={NEW_NUMBER}&amp;next=%2Fjoin%2F" in page
    assert "Sign up with this number" in page


def test_signed_in_with_the_number_she_accepts_and_lands_in_her_cooperative(
    english, send, manager, cooperative, sms_outbox
):
    send(invited_by=manager, cooperative=cooperative, phone=NEW_NUMBER)
    newcomer = UserFactory(phone=NEW_PHONE, role=Role.CONSUMER)
    english.force_login(newcomer)

    response = english.post(link_path(sms_outbox, NEW_NUMBER), {"answer": "accept"}, follow=True)

    assert response.redirect_chain[-1][0] == "/cooperative/"
    assert cooperative.name in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.role == Role.FARMER
    assert Membership.objects.get(user=newcomer).cooperative == cooperative


def test_signed_in_with_the_number_she_declines(english, send, manager, cooperative, sms_outbox):
    send(invited_by=manager, cooperative=cooperative, phone=NEW_NUMBER)
    newcomer = UserFactory(phone=NEW_PHONE, role=Role.CONSUMER)
    english.force_login(newcomer)

    english.post(link_path(sms_outbox, NEW_NUMBER), {"answer": "decline"})

    assert MembershipInvitation.objects.get().status == InvitationStatus.DECLINED
    assert not Membership.objects.filter(user=newcomer).exists()


def test_someone_else_signed_in_cannot_use_her_link(
    english, send, manager, cooperative, sms_outbox, buyer
):
    send(invited_by=manager, cooperative=cooperative, phone=NEW_NUMBER)
    english.force_login(buyer)
    path = link_path(sms_outbox, NEW_NUMBER)

    shown = english.get(path)
    posted = english.post(path, {"answer": "accept"})

    assert shown.status_code == 403
    assert "137****7000" in shown.content.decode()
    assert posted.status_code == 403
    assert not Membership.objects.filter(user=buyer).exists()
    assert MembershipInvitation.objects.get().status == InvitationStatus.PENDING


def test_a_made_up_link_is_not_found(client):
    assert client.get("/join/not-a-real-token-at-all-0123456789abcdef/").status_code == 404


def test_an_expired_link_says_so(english, send, manager, cooperative, sms_outbox):
    send(invited_by=manager, cooperative=cooperative, phone=NEW_NUMBER)

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        page = english.get(link_path(sms_outbox, NEW_NUMBER)).content.decode()

    assert "This invitation link has expired" in page


# The doors


def test_api_invite_by_phone_does_not_name_the_account(api_as, manager, farmer):
    response = api_as(manager).post("/api/cooperatives/members/", {"phone": farmer.phone})

    assert response.status_code == 202
    assert response.data["status"] == "pending"
    assert farmer.display_name not in str(response.data)
    assert "role" not in response.data
    assert not Membership.objects.filter(user=farmer).exists()


def test_api_invite_a_member_of_another_cooperative_is_a_field_error(
    api_as, manager, other_cooperative
):
    elsewhere = MembershipFactory(cooperative=other_cooperative).user

    response = api_as(manager).post(
        "/api/cooperatives/members/", {"phone": elsewhere.phone}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert response.status_code == 409
    assert list(response.data) == ["phone"]
    assert "其他合作社" in response.data["phone"][0]
    assert not MembershipInvitation.objects.exists()


def test_api_a_newcomer_lists_her_invitation_to_her_number_and_accepts(
    api_as, send, manager, cooperative
):
    invitation = send(invited_by=manager, cooperative=cooperative, phone=NEW_NUMBER)
    newcomer = UserFactory(phone=NEW_PHONE, role=Role.BUYER)
    client = api_as(newcomer)

    mine = client.get("/api/invitations/")
    accepted = client.post(f"/api/invitations/{invitation.pk}/accept/")

    assert [row["id"] for row in mine.data["results"]] == [invitation.pk]
    assert accepted.status_code == 200
    assert accepted.data["role"] == "farmer"
    assert Membership.objects.get(user=newcomer).cooperative == cooperative


def test_api_she_declines(api_as, farmer, invitation):
    response = api_as(farmer).post(f"/api/invitations/{invitation.pk}/decline/")

    assert response.status_code == 200
    assert response.data["status"] == "declined"
    assert not Membership.objects.filter(user=farmer).exists()


def test_api_another_person_cannot_see_or_accept_it(api_as, buyer, invitation):
    listed = api_as(buyer).get("/api/invitations/")
    response = api_as(buyer).post(f"/api/invitations/{invitation.pk}/accept/")

    assert listed.data["results"] == []
    assert response.status_code == 404
    assert not Membership.objects.filter(user=buyer).exists()


def test_manager_page_says_invitation_sent_without_her_name(english, manager, farmer):
    english.force_login(manager)

    response = english.post("/members/", {"phone": farmer.phone}, follow=True)

    page = response.content.decode()
    assert "An invitation was sent to" in page
    assert farmer.display_name not in page
    assert not Membership.objects.filter(user=farmer).exists()


def test_manager_page_shows_another_cooperatives_member_on_the_phone_field(
    english, manager, other_cooperative
):
    elsewhere = MembershipFactory(cooperative=other_cooperative).user
    english.force_login(manager)

    response = english.post("/members/", {"phone": elsewhere.phone})

    assert response.context["form"].errors["phone"] == [
        "This number belongs to a member of another co-operative: a person can be a member "
        "of one co-operative only."
    ]
    assert not MembershipInvitation.objects.exists()


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


@pytest.mark.parametrize("role", [Role.FARMER, Role.CONSUMER, Role.BUYER, Role.COURIER])
def test_who_is_not_a_member_sees_no_cooperative_page(client, role):
    client.force_login(UserFactory(role=role))

    page = client.get("/cooperative/")

    assert page.status_code == 200
    assert page.context["cooperative"] is None
