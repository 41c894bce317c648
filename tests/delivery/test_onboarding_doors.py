"""The doors of courier onboarding: the manager's page and API (/warehouse/couriers/,
/api/delivery/warehouse/courier-invitations/ and …/couriers/), the invitation link's page
(/courier/join/<secret>/) and the courier's join API; each role sees only its own."""

import pytest
from django.urls import reverse

from accounts.choices import Role
from delivery.models import (
    Courier,
    CourierInvitation,
    CourierInvitationStatus,
    CourierStatus,
)
from delivery.services import onboarding
from tests.accounts.factories import UserFactory
from tests.delivery.dispatch_factories import WAREHOUSE_AT, near
from tests.delivery.factories import courier_at, front_warehouse
from tests.delivery.onboarding_factories import fresh_number, link_secret, normal
from tests.delivery.warehouse_factories import manager_of

pytestmark = pytest.mark.django_db

API = "/api/delivery/"


@pytest.fixture
def warehouse(db):
    return front_warehouse("wangjing-door", *WAREHOUSE_AT, half_side=0.08)


@pytest.fixture
def other_warehouse(db):
    return front_warehouse("xidan-door", 116.37, 39.91, half_side=0.02)


@pytest.fixture
def manager(warehouse):
    return manager_of(warehouse)


@pytest.fixture
def other_manager(other_warehouse):
    return manager_of(other_warehouse)


def page_client(client, user, language="en"):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    if user is not None:
        client.force_login(user)
    return client


def invite(warehouse, manager):
    number = fresh_number()
    onboarding.invite_courier(warehouse=warehouse, phone=number, by=manager)
    return number, CourierInvitation.objects.get(phone=normal(number))


# --- The manager's page ---------------------------------------------------------------------


def test_manager_invites_from_her_page_and_sees_the_invitation(client, warehouse, manager):
    me = page_client(client, manager)

    response = me.post(reverse("delivery:warehouse_courier_invite"), {"phone": "159 1111 2222"})

    assert response.status_code == 303
    invitation = CourierInvitation.objects.get()
    assert (invitation.warehouse, invitation.phone) == (warehouse, "+8615911112222")
    page = me.get(response["Location"]).content.decode()
    assert "Invitation sent by SMS." in page
    assert "159****2222" in page
    assert "+8615911112222" not in page


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Enter a mainland China mobile number"),
        ("zh-hans", "请输入中国大陆手机号"),
    ],
)
def test_a_bad_number_shows_a_translated_field_error_and_saves_nothing(
    client, warehouse, manager, language, message
):
    me = page_client(client, manager, language)

    response = me.post(reverse("delivery:warehouse_courier_invite"), {"phone": "12345"})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CourierInvitation.objects.exists()


def test_the_page_lists_waiting_active_and_deactivated_couriers(client, warehouse, manager):
    waiting = courier_at(
        *near(), home_warehouse=warehouse, on_shift=False, status=CourierStatus.WAITING
    )
    active = courier_at(*near(), home_warehouse=warehouse)
    gone = courier_at(
        *near(), home_warehouse=warehouse, on_shift=False, status=CourierStatus.DEACTIVATED
    )
    elsewhere = courier_at(*near())

    page = page_client(client, manager).get(reverse("delivery:warehouse_couriers"))

    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-testid="activate-{waiting.pk}"' in html
    assert f'data-testid="deactivate-{active.pk}"' in html
    assert f'data-testid="activate-{gone.pk}"' in html
    assert f'data-testid="courier-{elsewhere.pk}"' not in html
    assert str(elsewhere.user) not in html


def test_manager_activates_and_deactivates_from_her_page(client, warehouse, manager):
    him = courier_at(
        *near(), home_warehouse=warehouse, on_shift=False, status=CourierStatus.WAITING
    )
    me = page_client(client, manager)

    activated = me.post(reverse("delivery:warehouse_courier_activate", args=[him.pk]))
    him.refresh_from_db()
    assert (activated.status_code, him.status) == (303, CourierStatus.ACTIVE)

    deactivated = me.post(reverse("delivery:warehouse_courier_deactivate", args=[him.pk]))
    him.refresh_from_db()
    assert (deactivated.status_code, him.status) == (303, CourierStatus.DEACTIVATED)


def test_resend_within_a_minute_says_how_long_to_wait(client, warehouse, manager):
    number, invitation = invite(warehouse, manager)
    me = page_client(client, manager)

    response = me.post(
        reverse("delivery:warehouse_courier_invitation_resend", args=[invitation.pk]),
        follow=True,
    )

    assert "seconds before sending it again" in response.content.decode()
    assert len(onboarding_messages(number)) == 1


def onboarding_messages(number):
    from accounts.sms.outbox import messages_to

    return messages_to(normal(number))


def test_manager_cancels_an_invitation_from_her_page(client, warehouse, manager):
    _number, invitation = invite(warehouse, manager)

    page_client(client, manager).post(
        reverse("delivery:warehouse_courier_invitation_cancel", args=[invitation.pk])
    )

    invitation.refresh_from_db()
    assert invitation.status == CourierInvitationStatus.CANCELLED


def test_another_warehouses_manager_finds_nothing_on_the_pages(
    client, warehouse, manager, other_manager
):
    _number, invitation = invite(warehouse, manager)
    him = courier_at(*near(), home_warehouse=warehouse)
    them = page_client(client, other_manager)

    for name, pk in [
        ("delivery:warehouse_courier_invitation_resend", invitation.pk),
        ("delivery:warehouse_courier_invitation_cancel", invitation.pk),
        ("delivery:warehouse_courier_activate", him.pk),
        ("delivery:warehouse_courier_deactivate", him.pk),
    ]:
        assert them.post(reverse(name, args=[pk])).status_code == 404
    html = them.get(reverse("delivery:warehouse_couriers")).content.decode()
    assert invitation.masked_phone not in html
    him.refresh_from_db()
    invitation.refresh_from_db()
    assert (him.status, invitation.status) == (
        CourierStatus.ACTIVE,
        CourierInvitationStatus.PENDING,
    )


@pytest.mark.parametrize("role", [Role.COURIER, Role.CONSUMER, Role.FARMER])
def test_other_roles_may_not_open_the_managers_page(client, warehouse, role):
    response = page_client(client, UserFactory(role=role)).get(
        reverse("delivery:warehouse_couriers")
    )

    assert response.status_code == 403


# --- The invitation's link ------------------------------------------------------------------


def test_signed_out_the_link_leads_to_sign_up_with_the_number_and_back(client, warehouse, manager):
    number, _invitation = invite(warehouse, manager)
    here = reverse("delivery:courier_join", args=[link_secret(number)])

    page = page_client(client, None).get(here)

    html = page.content.decode()
    assert page.status_code == 200
    assert warehouse.name in html
    digits = number.replace(" ", "")
    assert f"/sign-up/?phone={digits}&amp;next=%2Fcourier%2Fjoin%2F" in html
    assert "/sign-in/?next=%2Fcourier%2Fjoin%2F" in html


def test_signed_in_with_the_number_he_joins_with_his_vehicle(client, warehouse, manager):
    number, _invitation = invite(warehouse, manager)
    user = UserFactory(phone=normal(number), role=Role.CONSUMER)
    here = reverse("delivery:courier_join", args=[link_secret(number)])
    me = page_client(client, user)

    assert 'name="vehicle_type"' in me.get(here).content.decode()
    response = me.post(here, {"vehicle_type": "motorbike", "capacity": "5", "join": "1"})

    assert (response.status_code, response["Location"]) == (303, reverse("delivery:courier"))
    courier = Courier.objects.get(user=user)
    assert (courier.status, courier.vehicle_type, courier.capacity) == ("waiting", "motorbike", 5)
    waiting_page = me.get(reverse("delivery:courier")).content.decode()
    assert 'data-courier-status="waiting"' in waiting_page
    assert "data-shift-switch" not in waiting_page


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"capacity": "3"}, "Choose your vehicle."),
        ({"vehicle_type": "rocket", "capacity": "3"}, "Choose your vehicle."),
        ({"vehicle_type": "van", "capacity": "0"}, "1 to 10"),
        ({"vehicle_type": "van", "capacity": "12"}, "1 to 10"),
    ],
)
def test_bad_answers_on_the_link_page_show_field_errors(
    client, warehouse, manager, answers, message
):
    number, _invitation = invite(warehouse, manager)
    user = UserFactory(phone=normal(number), role=Role.CONSUMER)
    here = reverse("delivery:courier_join", args=[link_secret(number)])

    response = page_client(client, user).post(here, answers)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Courier.objects.exists()
    user.refresh_from_db()
    assert user.role == Role.CONSUMER


def test_the_bad_vehicle_error_is_translated(client, warehouse, manager):
    number, _invitation = invite(warehouse, manager)
    user = UserFactory(phone=normal(number), role=Role.CONSUMER)
    here = reverse("delivery:courier_join", args=[link_secret(number)])

    response = page_client(client, user, "zh-hans").post(here, {"capacity": "3"})

    assert "请选择你的交通工具。" in response.content.decode()


def test_another_account_is_told_which_number_the_link_is_for(client, warehouse, manager):
    number, _invitation = invite(warehouse, manager)
    here = reverse("delivery:courier_join", args=[link_secret(number)])
    stranger = page_client(client, UserFactory(role=Role.CONSUMER))

    shown = stranger.get(here)
    posted = stranger.post(here, {"vehicle_type": "van", "capacity": "3"})

    assert shown.status_code == posted.status_code == 403
    assert "This invitation is for 159****" in shown.content.decode()
    assert not Courier.objects.exists()


def test_an_unknown_or_used_link_says_it_is_not_valid(client, warehouse, manager):
    number, invitation = invite(warehouse, manager)
    onboarding.cancel_invitation(warehouse=warehouse, invitation_id=invitation.pk, by=manager)

    for secret in (link_secret(number), "not-a-secret"):
        response = page_client(client, None).get(reverse("delivery:courier_join", args=[secret]))
        assert response.status_code == 404
        assert "not valid any more" in response.content.decode()
        assert warehouse.name not in response.content.decode()


def test_declining_on_the_link_page(client, warehouse, manager):
    number, invitation = invite(warehouse, manager)
    user = UserFactory(phone=normal(number), role=Role.CONSUMER)
    here = reverse("delivery:courier_join", args=[link_secret(number)])

    response = page_client(client, user).post(here, {"decline": "1"})

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == CourierInvitationStatus.DECLINED


# --- The API --------------------------------------------------------------------------------


def test_manager_invites_lists_and_cancels_by_api(api_as, warehouse, manager):
    me = api_as(manager)

    made = me.post(API + "warehouse/courier-invitations/", {"phone": "159 3333 4444"})
    listed = me.get(API + "warehouse/courier-invitations/")
    cancelled = me.post(API + f"warehouse/courier-invitations/{made.json()['id']}/cancel/")

    assert made.status_code == 201
    assert made.json()["phone"] == "159****4444"
    assert [row["id"] for row in listed.json()] == [made.json()["id"]]
    assert cancelled.json()["status"] == CourierInvitationStatus.CANCELLED
    assert me.get(API + "warehouse/courier-invitations/").json() == []


def test_bad_number_by_api_is_a_field_error(api_as, warehouse, manager):
    response = api_as(manager).post(
        API + "warehouse/courier-invitations/", {"phone": "1234"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["phone"]
    assert not CourierInvitation.objects.exists()


def test_a_courier_of_another_warehouse_by_api_is_a_field_error(
    api_as, warehouse, manager, other_warehouse
):
    theirs = courier_at(*near(), home_warehouse=other_warehouse)

    response = api_as(manager).post(
        API + "warehouse/courier-invitations/",
        {"phone": theirs.user.phone},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json() == {"phone": ["This number is a courier at another warehouse."]}


def test_resend_by_api_within_a_minute_is_a_conflict(api_as, warehouse, manager):
    _number, invitation = invite(warehouse, manager)

    response = api_as(manager).post(API + f"warehouse/courier-invitations/{invitation.pk}/resend/")

    assert response.status_code == 409


def test_manager_lists_activates_and_deactivates_couriers_by_api(api_as, warehouse, manager):
    him = courier_at(
        *near(), home_warehouse=warehouse, on_shift=False, status=CourierStatus.WAITING
    )
    courier_at(*near())  # another warehouse's (none)
    me = api_as(manager)

    listed = me.get(API + "warehouse/couriers/")
    activated = me.post(API + f"warehouse/couriers/{him.pk}/activate/")
    deactivated = me.post(API + f"warehouse/couriers/{him.pk}/deactivate/")

    assert [(row["id"], row["status"]) for row in listed.json()] == [(him.pk, "waiting")]
    assert listed.json()[0]["phone"].count("*") == 4
    assert activated.json()["status"] == CourierStatus.ACTIVE
    assert deactivated.json()["status"] == CourierStatus.DEACTIVATED


def test_another_warehouses_manager_gets_404_by_api(api_as, warehouse, manager, other_manager):
    _number, invitation = invite(warehouse, manager)
    him = courier_at(*near(), home_warehouse=warehouse)
    them = api_as(other_manager)

    for url in (
        f"warehouse/courier-invitations/{invitation.pk}/resend/",
        f"warehouse/courier-invitations/{invitation.pk}/cancel/",
        f"warehouse/couriers/{him.pk}/activate/",
        f"warehouse/couriers/{him.pk}/deactivate/",
    ):
        assert them.post(API + url).status_code == 404
    assert them.get(API + "warehouse/couriers/").json() == []
    assert them.get(API + "warehouse/courier-invitations/").json() == []


@pytest.mark.parametrize("role", [Role.COURIER, Role.CONSUMER, Role.BUYER])
def test_other_roles_get_403_by_api(api_as, warehouse, role):
    me = api_as(UserFactory(role=role))

    assert me.get(API + "warehouse/couriers/").status_code == 403
    assert (
        me.post(API + "warehouse/courier-invitations/", {"phone": "15900000000"}).status_code == 403
    )


def test_anonymous_gets_401_by_api(api_client, warehouse):
    assert api_client.get(API + "warehouse/couriers/").status_code == 401
    assert api_client.post(API + "courier/join/", {"token": "x"}).status_code == 401


def test_courier_joins_by_api(api_as, warehouse, manager):
    number, _invitation = invite(warehouse, manager)
    user = UserFactory(phone=normal(number), role=Role.BUYER)

    response = api_as(user).post(
        API + "courier/join/",
        {"token": link_secret(number), "vehicle_type": "e_bike", "capacity": "2"},
    )

    assert response.status_code == 201
    assert response.json()["status"] == CourierStatus.WAITING
    assert response.json()["warehouse"] == warehouse.name
    user.refresh_from_db()
    assert user.role == Role.COURIER


def test_join_by_api_refuses_another_account_and_a_dead_link(api_as, warehouse, manager):
    number, _invitation = invite(warehouse, manager)
    stranger = api_as(UserFactory(role=Role.CONSUMER))

    other = stranger.post(
        API + "courier/join/",
        {"token": link_secret(number), "vehicle_type": "e_bike", "capacity": "2"},
    )
    dead = stranger.post(
        API + "courier/join/", {"token": "nope", "vehicle_type": "e_bike", "capacity": "2"}
    )

    assert (other.status_code, dead.status_code) == (403, 404)
    assert not Courier.objects.exists()


def test_a_waiting_courier_going_on_shift_by_api_is_a_conflict(api_as, warehouse):
    him = courier_at(
        *near(), home_warehouse=warehouse, on_shift=False, status=CourierStatus.WAITING
    )
    him.user.role = Role.COURIER
    him.user.save()

    response = api_as(him.user).post(
        API + "courier/shift/", {"on_shift": True}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 409
    assert "has not activated you" in response.json()["on_shift"][0]
