"""A warehouse manager onboards a courier: she invites his number by SMS, he joins with his
vehicle and capacity, she activates him and only then is he offered tasks; deactivating him
stops offers at once (a pending one is withdrawn and goes to another courier)."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils import timezone, translation

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry, Notification
from accounts.sms.outbox import messages_to
from common.exceptions import DomainError
from delivery.exceptions import (
    CourierInvitationNotFound,
    CourierNotActive,
    CourierNotFound,
    OfferNoLongerOpen,
)
from delivery.models import (
    Courier,
    CourierInvitation,
    CourierInvitationStatus,
    CourierStatus,
    DeliveryTaskStatus,
    OfferStatus,
    TaskOffer,
    VehicleType,
)
from delivery.selectors.onboarding import open_invitation_for_link, token_hash
from delivery.services import couriers as courier_services
from delivery.services import dispatch, offers, onboarding
from tests.accounts.factories import UserFactory
from tests.delivery.courier_factories import a_task, events_for
from tests.delivery.dispatch_factories import WAREHOUSE_AT, courier_near, near, packed_order
from tests.delivery.factories import courier_at, front_warehouse
from tests.delivery.onboarding_factories import fresh_number, link_secret, normal
from tests.delivery.warehouse_factories import manager_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse(db):
    return front_warehouse("wangjing-on", *WAREHOUSE_AT, half_side=0.08)


@pytest.fixture
def other_warehouse(db):
    return front_warehouse("xidan-on", 116.37, 39.91, half_side=0.02)


@pytest.fixture
def manager(warehouse):
    return manager_of(warehouse)


@pytest.fixture
def other_manager(other_warehouse):
    return manager_of(other_warehouse)


@pytest.fixture
def in_english():
    with translation.override("en"):
        yield


def invited(warehouse, manager):
    """A number invited to the warehouse, and the account its owner then signs up."""
    number = fresh_number()
    onboarding.invite_courier(warehouse=warehouse, phone=number, by=manager)
    return number, UserFactory(phone=normal(number), role=Role.CONSUMER)


def joined(warehouse, manager, **answers) -> Courier:
    number, user = invited(warehouse, manager)
    answers = {"vehicle_type": VehicleType.E_BIKE, "capacity": 3, **answers}
    return onboarding.accept_invitation(token=link_secret(number), user=user, **answers)


def refusal_of(call):
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


# --- Inviting -------------------------------------------------------------------------------


def test_manager_invites_a_number_and_it_gets_an_sms_with_the_link(warehouse, manager):
    invitation = onboarding.invite_courier(warehouse=warehouse, phone="159-0000 0001", by=manager)

    assert invitation.phone == "+8615900000001"
    assert invitation.status == CourierInvitationStatus.PENDING
    assert invitation.invited_by == manager
    [text] = messages_to("+8615900000001")
    secret = link_secret("+8615900000001")
    assert f"{settings.SITE_URL}/courier/join/{secret}/" in text
    assert warehouse.name in text
    # Only the secret's hash is kept: the table cannot open the link.
    assert invitation.token_hash == token_hash(secret) != secret
    assert open_invitation_for_link(secret, now=timezone.now()) == invitation
    assert invitation.expires_at - invitation.sent_at == timedelta(
        days=settings.DELIVERY_COURIER_INVITATION_DAYS
    )


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("12345", "Enter a mainland China mobile number"),
        ("", "Enter a mainland China mobile number"),
        ("+1 415 555 0100", "Enter a mainland China mobile number"),
    ],
)
def test_a_bad_number_is_refused_on_its_field_and_nothing_is_sent(
    warehouse, manager, in_english, number, message
):
    refusal = refusal_of(
        lambda: onboarding.invite_courier(warehouse=warehouse, phone=number, by=manager)
    )

    assert refusal.field == "phone"
    assert message in str(refusal.message)
    assert not CourierInvitation.objects.exists()


def test_a_number_that_is_a_courier_at_another_warehouse_is_refused(
    warehouse, manager, other_warehouse, in_english
):
    elsewhere = courier_at(*near(north_km=1), home_warehouse=other_warehouse)

    refusal = refusal_of(
        lambda: onboarding.invite_courier(
            warehouse=warehouse, phone=elsewhere.user.phone, by=manager
        )
    )

    assert (refusal.field, str(refusal.message)) == (
        "phone",
        "This number is a courier at another warehouse.",
    )
    assert not CourierInvitation.objects.exists()
    assert messages_to(elsewhere.user.phone) == []


def test_a_courier_deactivated_elsewhere_may_be_invited(warehouse, manager, other_warehouse):
    left = courier_at(
        *near(), home_warehouse=other_warehouse, on_shift=False, status=CourierStatus.DEACTIVATED
    )

    onboarding.invite_courier(warehouse=warehouse, phone=left.user.phone, by=manager)

    assert CourierInvitation.objects.get().phone == left.user.phone


def test_one_of_her_own_couriers_is_not_invited_again(warehouse, manager, in_english):
    mine = courier_at(*near(), home_warehouse=warehouse)

    refusal = refusal_of(
        lambda: onboarding.invite_courier(warehouse=warehouse, phone=mine.user.phone, by=manager)
    )

    assert (refusal.field, str(refusal.message)) == (
        "phone",
        "This number is one of your couriers already.",
    )


def test_a_second_pending_invitation_of_a_number_is_refused(warehouse, manager, in_english):
    number, _user = invited(warehouse, manager)

    refusal = refusal_of(
        lambda: onboarding.invite_courier(warehouse=warehouse, phone=number, by=manager)
    )

    assert refusal.field == "phone"
    assert "has an invitation waiting already" in str(refusal.message)
    assert CourierInvitation.objects.count() == 1
    assert len(messages_to(normal(number))) == 1


def test_another_warehouse_may_invite_the_same_number(
    warehouse, manager, other_warehouse, other_manager
):
    number, _user = invited(warehouse, manager)

    onboarding.invite_courier(warehouse=other_warehouse, phone=number, by=other_manager)

    assert CourierInvitation.objects.filter(phone=normal(number)).count() == 2


def test_an_expired_invitation_makes_room_for_a_new_one(warehouse, manager):
    number, _user = invited(warehouse, manager)
    first_secret = link_secret(number)
    later = timezone.now() + timedelta(days=settings.DELIVERY_COURIER_INVITATION_DAYS, hours=1)

    with time_machine.travel(later, tick=False):
        assert open_invitation_for_link(first_secret, now=timezone.now()) is None
        onboarding.invite_courier(warehouse=warehouse, phone=number, by=manager)

    statuses = sorted(CourierInvitation.objects.values_list("status", flat=True))
    assert statuses == [CourierInvitationStatus.EXPIRED, CourierInvitationStatus.PENDING]


def test_sending_again_within_a_minute_is_refused_with_the_seconds_to_wait(
    warehouse, manager, in_english
):
    number, _user = invited(warehouse, manager)
    invitation = CourierInvitation.objects.get()

    refusal = refusal_of(
        lambda: onboarding.resend_invitation(
            warehouse=warehouse, invitation_id=invitation.pk, by=manager
        )
    )

    assert "wait" in str(refusal.message)
    assert refusal.kind == "conflict"
    assert len(messages_to(normal(number))) == 1


def test_sending_again_replaces_the_link(warehouse, manager):
    number, _user = invited(warehouse, manager)
    old_secret = link_secret(number)
    invitation = CourierInvitation.objects.get()

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        onboarding.resend_invitation(warehouse=warehouse, invitation_id=invitation.pk, by=manager)
        now = timezone.now()

    new_secret = link_secret(number)
    assert new_secret != old_secret
    assert len(messages_to(normal(number))) == 2
    assert open_invitation_for_link(old_secret, now=now) is None
    assert open_invitation_for_link(new_secret, now=now) == invitation


def test_a_cancelled_invitation_opens_nothing(warehouse, manager):
    number, user = invited(warehouse, manager)
    invitation = CourierInvitation.objects.get()

    onboarding.cancel_invitation(warehouse=warehouse, invitation_id=invitation.pk, by=manager)

    with pytest.raises(CourierInvitationNotFound):
        onboarding.accept_invitation(
            token=link_secret(number), user=user, vehicle_type="e_bike", capacity=2
        )
    assert not Courier.objects.exists()


def test_another_warehouses_invitation_is_not_found(warehouse, manager, other_warehouse):
    invited(warehouse, manager)
    invitation = CourierInvitation.objects.get()

    for step in (onboarding.resend_invitation, onboarding.cancel_invitation):
        with pytest.raises(CourierInvitationNotFound):
            step(warehouse=other_warehouse, invitation_id=invitation.pk, by=manager)
    assert CourierInvitation.objects.get().status == CourierInvitationStatus.PENDING


# --- Joining --------------------------------------------------------------------------------


def test_the_courier_joins_and_waits_for_activation(warehouse, manager):
    number, user = invited(warehouse, manager)

    courier = onboarding.accept_invitation(
        token=link_secret(number),
        user=user,
        vehicle_type=VehicleType.TRICYCLE,
        capacity="4",
        address="10.0.0.7",
    )

    courier.refresh_from_db()
    user.refresh_from_db()
    assert (courier.status, courier.home_warehouse, courier.vehicle_type, courier.capacity) == (
        CourierStatus.WAITING,
        warehouse,
        VehicleType.TRICYCLE,
        4,
    )
    assert user.role == Role.COURIER
    invitation = CourierInvitation.objects.get()
    assert (invitation.status, invitation.courier) == (CourierInvitationStatus.ACCEPTED, courier)
    role_change = AuditEntry.objects.get(action=AuditAction.ROLE_CHANGED, subject=user)
    assert role_change.changes == {"role": [Role.CONSUMER, Role.COURIER]}
    assert role_change.client_address == "10.0.0.7"
    # The manager hears of it.
    assert Notification.objects.filter(user=manager, kind="delivery.courier_joined").exists()
    # The link is used up.
    assert open_invitation_for_link(link_secret(number), now=timezone.now()) is None


def test_a_waiting_courier_cannot_go_on_shift(warehouse, manager):
    courier = joined(warehouse, manager)

    with pytest.raises(CourierNotActive):
        courier_services.start_shift(courier=courier)

    courier.refresh_from_db()
    assert courier.is_on_shift is False


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"vehicle_type": "rocket"}, "vehicle_type", "Choose your vehicle."),
        ({"vehicle_type": ""}, "vehicle_type", "Choose your vehicle."),
        ({"capacity": 0}, "capacity", "Give how many orders you can carry at once: 1 to 10."),
        ({"capacity": "11"}, "capacity", "Give how many orders you can carry at once: 1 to 10."),
        ({"capacity": "three"}, "capacity", "Give how many orders you can carry at once: 1 to 10."),
    ],
)
def test_bad_answers_are_refused_on_their_field_and_nothing_is_saved(
    warehouse, manager, in_english, answers, field, message
):
    number, user = invited(warehouse, manager)
    answers = {"vehicle_type": VehicleType.VAN, "capacity": 3, **answers}

    refusal = refusal_of(
        lambda: onboarding.accept_invitation(token=link_secret(number), user=user, **answers)
    )

    assert (refusal.field, str(refusal.message)) == (field, message)
    user.refresh_from_db()
    assert user.role == Role.CONSUMER
    assert not Courier.objects.exists()
    assert CourierInvitation.objects.get().status == CourierInvitationStatus.PENDING


def test_another_numbers_account_cannot_accept(warehouse, manager, in_english):
    number, _user = invited(warehouse, manager)
    stranger = UserFactory(role=Role.CONSUMER)

    refusal = refusal_of(
        lambda: onboarding.accept_invitation(
            token=link_secret(number), user=stranger, vehicle_type="e_bike", capacity=3
        )
    )

    assert refusal.kind == "forbidden"
    assert "This invitation is for 159****" in str(refusal.message)
    assert not Courier.objects.exists()


def test_an_account_with_another_job_cannot_become_a_courier(warehouse, manager, in_english):
    number = fresh_number()
    onboarding.invite_courier(warehouse=warehouse, phone=number, by=manager)
    farmer = UserFactory(phone=normal(number), role=Role.FARMER)

    refusal = refusal_of(
        lambda: onboarding.accept_invitation(
            token=link_secret(number), user=farmer, vehicle_type="e_bike", capacity=3
        )
    )

    assert "works on the platform as Farmer" in str(refusal.message)
    farmer.refresh_from_db()
    assert farmer.role == Role.FARMER


def test_declining_closes_the_invitation(warehouse, manager):
    number, user = invited(warehouse, manager)

    onboarding.decline_invitation(token=link_secret(number), user=user)

    assert CourierInvitation.objects.get().status == CourierInvitationStatus.DECLINED
    user.refresh_from_db()
    assert user.role == Role.CONSUMER


# --- Activation and offers ------------------------------------------------------------------


def test_activation_lets_him_go_on_shift_and_receive_an_offer(warehouse, manager, consumer):
    courier = joined(warehouse, manager)
    # His phone shares his position once he is on shift; here he is 300 m away already.
    Courier.objects.filter(pk=courier.pk).update(
        position=Point(*near(north_km=0.3), srid=4326), position_at=timezone.now()
    )
    order = packed_order(warehouse, consumer, north_km=1)
    # Waiting: dispatch passes him over.
    task = dispatch.dispatch_order(order_id=order.pk)
    assert not TaskOffer.objects.exists()

    onboarding.activate_courier(
        warehouse=warehouse, courier_id=courier.pk, by=manager, address="10.0.0.8"
    )
    courier_services.start_shift(courier=courier)
    offer = offers.offer_next(task_id=task.pk)

    assert offer is not None
    assert offer.courier_id == courier.pk
    entry = AuditEntry.objects.get(action=AuditAction.COURIER_ACTIVATED)
    assert (entry.actor, entry.subject, entry.client_address) == (
        manager,
        courier.user,
        "10.0.0.8",
    )
    assert entry.changes["status"] == [CourierStatus.WAITING, CourierStatus.ACTIVE]
    # The log names nobody: neither his number nor his name is in it.
    assert courier.user.phone[3:] not in str(entry.changes) + entry.object_label
    assert str(courier.user) not in entry.object_label
    told = Notification.objects.get(user=courier.user, kind=onboarding.COURIER_EVENT)
    assert warehouse.name in told.title


def test_deactivation_withdraws_his_pending_offer_and_offers_the_task_to_another(
    warehouse, manager, consumer
):
    him = courier_near(north_km=0.2, home_warehouse=warehouse)
    other = courier_near(north_km=1.5)
    order = packed_order(warehouse, consumer, north_km=1)
    task = dispatch.dispatch_order(order_id=order.pk)
    first = TaskOffer.objects.get(task=task, status=OfferStatus.PENDING)
    assert first.courier == him

    onboarding.deactivate_courier(
        warehouse=warehouse, courier_id=him.pk, by=manager, address="10.0.0.9"
    )

    first.refresh_from_db()
    assert first.status == OfferStatus.WITHDRAWN
    assert first.events.last().reason == "The courier was deactivated."
    second = TaskOffer.objects.get(task=task, status=OfferStatus.PENDING)
    assert second.courier == other
    him.refresh_from_db()
    assert (him.status, him.is_on_shift) == (CourierStatus.DEACTIVATED, False)
    entry = AuditEntry.objects.get(action=AuditAction.COURIER_DEACTIVATED)
    assert (entry.actor, entry.subject, entry.client_address) == (manager, him.user, "10.0.0.9")
    assert Notification.objects.filter(user=him.user, kind=onboarding.COURIER_EVENT).exists()
    # His tap on the card that was on his screen is refused, and he cannot start again.
    with pytest.raises(OfferNoLongerOpen):
        offers.accept_offer(courier=him, offer_id=first.pk)
    with pytest.raises(CourierNotActive):
        courier_services.start_shift(courier=him)


def test_a_deactivated_courier_is_never_a_candidate(warehouse, manager, consumer):
    him = courier_near(north_km=0.2, home_warehouse=warehouse)
    onboarding.deactivate_courier(warehouse=warehouse, courier_id=him.pk, by=manager)
    # Even on shift (finishing a task he had), dispatch passes him over.
    Courier.objects.filter(pk=him.pk).update(is_on_shift=True)
    order = packed_order(warehouse, consumer, north_km=1)

    task = dispatch.dispatch_order(order_id=order.pk)

    task.refresh_from_db()
    assert task.status == DeliveryTaskStatus.UNASSIGNED
    assert not TaskOffer.objects.exists()


def test_accepting_an_offer_after_deactivation_is_refused_and_the_task_moves_on(
    warehouse, manager, consumer
):
    him = courier_near(north_km=0.2, home_warehouse=warehouse)
    courier_near(north_km=1.5)
    order = packed_order(warehouse, consumer, north_km=1)
    task = dispatch.dispatch_order(order_id=order.pk)
    offer = TaskOffer.objects.get(task=task, courier=him)
    # Deactivated, but the withdrawal has not run yet (it follows the commit).
    Courier.objects.filter(pk=him.pk).update(status=CourierStatus.DEACTIVATED)

    with pytest.raises(CourierNotActive):
        offers.accept_offer(courier=him, offer_id=offer.pk)

    offer.refresh_from_db()
    task.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert task.courier is None
    assert TaskOffer.objects.get(task=task, status=OfferStatus.PENDING).courier != him


def test_a_task_he_has_picked_up_stays_his_to_finish(warehouse, manager, consumer):
    him = courier_at(*WAREHOUSE_AT, home_warehouse=warehouse)
    task = a_task(him, warehouse, status=DeliveryTaskStatus.PICKED_UP)

    onboarding.deactivate_courier(warehouse=warehouse, courier_id=him.pk, by=manager)

    him.refresh_from_db()
    task.refresh_from_db()
    assert (him.status, him.is_on_shift) == (CourierStatus.DEACTIVATED, True)
    assert (task.courier, task.status) == (him, DeliveryTaskStatus.PICKED_UP)


def test_a_manager_cannot_act_on_another_warehouses_courier(
    warehouse, manager, other_warehouse, other_manager
):
    theirs = courier_at(*near(), home_warehouse=other_warehouse)

    for step in (onboarding.activate_courier, onboarding.deactivate_courier):
        with pytest.raises(CourierNotFound):
            step(warehouse=warehouse, courier_id=theirs.pk, by=manager)

    theirs.refresh_from_db()
    assert theirs.status == CourierStatus.ACTIVE
    assert not AuditEntry.objects.filter(
        action__in=[AuditAction.COURIER_ACTIVATED, AuditAction.COURIER_DEACTIVATED]
    ).exists()


def test_activating_again_after_deactivation_works(warehouse, manager):
    him = courier_at(*near(), home_warehouse=warehouse, on_shift=False)
    onboarding.deactivate_courier(warehouse=warehouse, courier_id=him.pk, by=manager)

    onboarding.activate_courier(warehouse=warehouse, courier_id=him.pk, by=manager)
    courier_services.start_shift(courier=him)

    him.refresh_from_db()
    assert (him.status, him.is_on_shift) == (CourierStatus.ACTIVE, True)


def test_deactivation_tells_his_open_screens_at_once(
    warehouse, manager, consumer, django_capture_on_commit_callbacks
):
    him = courier_near(north_km=0.2, home_warehouse=warehouse)
    courier_near(north_km=1.5)
    order = packed_order(warehouse, consumer, north_km=1)
    offer = TaskOffer.objects.get(task=dispatch.dispatch_order(order_id=order.pk))

    def deactivate():
        with django_capture_on_commit_callbacks(execute=True):
            onboarding.deactivate_courier(warehouse=warehouse, courier_id=him.pk, by=manager)

    received = events_for([him.user], deactivate)

    kinds = [(event["event"], event["payload"].get("status")) for event in received[him.user.pk]]
    # The card of the withdrawn offer leaves his screen, and his page learns why.
    assert (onboarding.COURIER_EVENT, None) in kinds
    assert ("delivery.offer", OfferStatus.WITHDRAWN) in kinds
    told = next(e for e in received[him.user.pk] if e["event"] == onboarding.COURIER_EVENT)
    assert told["payload"]["payload"] == {"courier_id": him.pk, "status": "deactivated"}
    assert offer.pk in [e["payload"].get("offer_id") for e in received[him.user.pk]]
