"""The courier's page (/courier/) on a phone: the shift switch, the offer card with its
countdown and answers, the task's pickup and delivery steps (code with a numeric keypad, or
a photo), refusals beside their field, today's earnings; the sections the script fetches
again; couriers only, and another courier's offer, task or order is not found."""

# The shared courier fixtures come from test_couriers; tests take them as arguments.

import re

import pytest
from django.test import Client

from accounts.choices import Role
from delivery.models import DeliveryOrderStatus, DeliveryTaskStatus, OfferStatus
from tests.accounts.factories import UserFactory
from tests.delivery.courier_factories import a_photo, a_task, an_offer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

PAGE = "/courier/"


def page_as(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def phone(rider):
    return page_as(rider.user)


def html_of(response) -> str:
    return response.content.decode()


# --- Who may open it --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.CONSUMER, Role.WAREHOUSE_MANAGER, Role.FARMER, Role.COLDCHAIN_CONTROLLER]
)
@pytest.mark.parametrize("path", [PAGE, f"{PAGE}offer/", f"{PAGE}task/", f"{PAGE}today/"])
def test_other_roles_are_refused(role, path):
    assert page_as(UserFactory(role=role)).get(path).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        f"{PAGE}shift/",
        f"{PAGE}offers/1/accept/",
        f"{PAGE}tasks/1/pick-up/",
        f"{PAGE}orders/1/deliver/",
    ],
)
def test_other_roles_cannot_press_the_buttons(consumer, path):
    assert page_as(consumer).post(path).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert "sign-in" in response["Location"]


def test_a_courier_not_set_up_is_told_so():
    response = page_as(UserFactory(role=Role.COURIER)).get(PAGE)

    assert response.status_code == 403
    assert "You are not registered as a courier yet." in html_of(response)


# --- The page ---------------------------------------------------------------------------------


def test_the_page_shows_the_shift_switch_and_an_empty_day(phone):
    response = phone.get(PAGE)

    assert response.status_code == 200
    page = html_of(response)
    assert re.search(r'data-shift-switch data-on-shift="true"', page)
    assert 'role="switch"' in page
    assert "On shift" in page
    assert "No task right now. New offers appear here." in page
    assert re.search(r"data-earnings>¥0(\.00)?<", page)
    assert "js/delivery/courier.js" in page
    assert 'data-positions-url="/api/delivery/courier/positions/"' in page


def test_the_switch_ends_and_starts_the_shift(phone, rider):
    off = phone.post(f"{PAGE}shift/", {"on_shift": "0"})
    rider.refresh_from_db()
    was_on_shift = rider.is_on_shift
    page = html_of(phone.get(PAGE))

    phone.post(f"{PAGE}shift/", {"on_shift": "1"})

    assert (off.status_code, off["Location"]) == (303, PAGE)
    assert was_on_shift is False
    assert 'data-on-shift="false"' in page
    assert "Start your shift to receive offers." in page
    rider.refresh_from_db()
    assert rider.is_on_shift is True


def test_ending_the_shift_with_a_task_shows_why_under_the_switch(phone, rider, warehouse):
    a_task(rider, warehouse)

    response = phone.post(f"{PAGE}shift/", {"on_shift": "0"})

    assert response.status_code == 409
    assert re.search(
        r'data-error="shift"><li>Finish your current task before ending your shift\.',
        html_of(response),
    )
    rider.refresh_from_db()
    assert rider.is_on_shift is True


# --- The offer card ---------------------------------------------------------------------------


def test_an_offer_shows_as_a_card_with_its_countdown_and_answers(phone, rider, warehouse):
    task = a_task(None, warehouse, orders=3, status=DeliveryTaskStatus.OFFERING)
    offer = an_offer(rider, task, seconds_left=40, distance_m=1260)

    for response in (phone.get(PAGE), phone.get(f"{PAGE}offer/")):
        card = html_of(response)
        assert f'data-offer-card data-offer-id="{offer.pk}"' in card
        assert warehouse.name in card
        assert re.search(r"data-offer-orders>3<", card)
        assert "1.3 km" in card
        seconds = int(re.search(r'data-countdown data-seconds-left="(\d+)"', card)[1])
        assert 30 <= seconds <= 40
        assert "data-accept-offer" in card
        assert "data-decline-offer" in card


def test_the_offer_section_is_empty_without_an_offer(phone):
    response = phone.get(f"{PAGE}offer/")

    assert response.status_code == 200
    assert "data-offer-card data-offer-id" not in html_of(response)


def test_accepting_the_offer_shows_the_task_with_its_pickup_step(phone, rider, warehouse):
    task = a_task(None, warehouse, orders=2, status=DeliveryTaskStatus.OFFERING)
    offer = an_offer(rider, task)

    response = phone.post(f"{PAGE}offers/{offer.pk}/accept/")
    page = html_of(phone.get(PAGE))

    assert response.status_code == 303
    assert "data-offer-card data-offer-id" not in page
    assert f'data-task data-task-id="{task.pk}"' in page
    assert 'data-task-status="assigned"' in page
    assert "data-pick-up" in page
    assert "Pick the orders up first." in page


def test_declining_the_offer_takes_the_card_away(phone, rider, warehouse):
    offer = an_offer(rider, a_task(None, warehouse, status=DeliveryTaskStatus.OFFERING))

    response = phone.post(f"{PAGE}offers/{offer.pk}/decline/")

    assert response.status_code == 303
    assert "data-offer-card data-offer-id" not in html_of(phone.get(PAGE))
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED


def test_accepting_an_expired_offer_says_so(phone, rider, warehouse):
    offer = an_offer(
        rider, a_task(None, warehouse, status=DeliveryTaskStatus.OFFERING), seconds_left=-1
    )

    response = phone.post(f"{PAGE}offers/{offer.pk}/accept/")

    assert response.status_code == 409
    assert 'data-error="offer"' in html_of(response)


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_another_couriers_offer_is_not_found(phone, other_rider, warehouse, answer):
    task = a_task(None, warehouse, status=DeliveryTaskStatus.OFFERING)
    theirs = an_offer(other_rider, task)

    response = phone.post(f"{PAGE}offers/{theirs.pk}/{answer}/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == OfferStatus.PENDING
    assert f'data-offer-id="{theirs.pk}"' not in html_of(phone.get(PAGE))


# --- The task's steps -------------------------------------------------------------------------


def test_picking_up_opens_the_delivery_steps(phone, rider, warehouse):
    task = a_task(rider, warehouse, orders=2, codes=("8642", "7531"))

    response = phone.post(f"{PAGE}tasks/{task.pk}/pick-up/")
    page = html_of(phone.get(PAGE))

    assert response.status_code == 303
    assert 'data-task-status="picked_up"' in page
    assert "data-pick-up" not in page
    assert page.count('name="code" type="text" inputmode="numeric"') == 2
    assert page.count("data-deliver") == 2
    assert page.count('type="file" name="photo" accept="image/*" capture="environment"') == 2
    assert "Consumer absent: take a photo" in page
    for order in task.orders.all():
        assert order.address in page
    assert "8642" not in page
    assert "7531" not in page


def test_another_couriers_task_cannot_be_picked_up(phone, other_rider, warehouse):
    theirs = a_task(other_rider, warehouse)

    response = phone.post(f"{PAGE}tasks/{theirs.pk}/pick-up/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == DeliveryTaskStatus.ASSIGNED


def test_another_couriers_task_is_not_on_my_page(phone, other_rider, warehouse):
    theirs = a_task(other_rider, warehouse)

    page = html_of(phone.get(PAGE)) + html_of(phone.get(f"{PAGE}task/"))

    assert f'data-task-id="{theirs.pk}"' not in page
    for order in theirs.orders.all():
        assert order.address not in page


@pytest.fixture
def carrying(rider, warehouse):
    return a_task(rider, warehouse, orders=1, status=DeliveryTaskStatus.PICKED_UP)


def test_a_wrong_code_is_shown_beside_the_code_field_and_counted(phone, carrying):
    order = carrying.orders.get()

    response = phone.post(f"{PAGE}orders/{order.pk}/deliver/", {"code": "0000"})

    assert response.status_code == 400
    page = html_of(response)
    field = re.search(
        rf'<li class="step" data-drop-off data-order-id="{order.pk}">.*?</li>\s*</ol>', page, re.S
    )[0]
    assert 'aria-invalid="true"' in field
    assert 'data-error="code"><li>Wrong code: 4 tries left.' in field
    order.refresh_from_db()
    assert order.code_attempts == 1


def test_the_right_code_delivers_and_the_day_shows_the_earnings(phone, carrying, settings):
    settings.DELIVERY_COURIER_FEE_PER_ORDER = "6.00"
    order = carrying.orders.get()

    response = phone.post(f"{PAGE}orders/{order.pk}/deliver/", {"code": "1111"})
    page = html_of(phone.get(PAGE))
    today = html_of(phone.get(f"{PAGE}today/"))

    assert response.status_code == 303
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.DELIVERED
    assert "No task right now." in page
    for html in (page, today):
        assert "data-earnings>¥6.00<" in html
        assert re.search(r"data-day-delivered>1<", html)


def test_a_locked_code_leaves_only_the_photo(phone, carrying, settings):
    settings.DELIVERY_CODE_MAX_ATTEMPTS = 1
    order = carrying.orders.get()
    phone.post(f"{PAGE}orders/{order.pk}/deliver/", {"code": "0000"})

    page = html_of(phone.get(PAGE))

    assert "data-code-locked" in page
    assert 'name="code"' not in page
    assert 'name="photo"' in page


def test_a_photo_delivers_when_the_consumer_is_absent(phone, carrying):
    order = carrying.orders.get()

    response = phone.post(
        f"{PAGE}orders/{order.pk}/deliver/", {"proof": "photo", "photo": a_photo()}
    )

    assert response.status_code == 303
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.DELIVERED
    assert order.proof_photo


def test_a_refused_photo_is_shown_beside_the_photo_button(phone, carrying):
    order = carrying.orders.get()

    response = phone.post(f"{PAGE}orders/{order.pk}/deliver/", {"proof": "photo"})

    assert response.status_code == 400
    assert 'data-error="photo"><li>Take a photo of the delivery.' in html_of(response)
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.PICKED_UP


def test_another_couriers_order_cannot_be_delivered(phone, other_rider, warehouse):
    theirs = a_task(other_rider, warehouse, orders=1, status=DeliveryTaskStatus.PICKED_UP)
    order = theirs.orders.get()

    wrong = phone.post(f"{PAGE}orders/{order.pk}/deliver/", {"code": "0000"})
    right = phone.post(f"{PAGE}orders/{order.pk}/deliver/", {"code": "1111"})

    assert (wrong.status_code, right.status_code) == (404, 404)
    order.refresh_from_db()
    assert (order.status, order.code_attempts) == (DeliveryOrderStatus.PICKED_UP, 0)


def test_the_sections_are_served_alone_for_the_script(phone, rider, warehouse):
    a_task(rider, warehouse)

    task = phone.get(f"{PAGE}task/")
    today = phone.get(f"{PAGE}today/")

    assert task.status_code == today.status_code == 200
    assert "<html" not in html_of(task)
    assert "data-pick-up" in html_of(task)
    assert "data-earnings" in html_of(today)
