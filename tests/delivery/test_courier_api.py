"""The courier API (/api/delivery/courier/...): shift, positions, the offer and its answer,
tasks, pick-up, delivery with the code or a photo, and the day; couriers only, and another
courier's offer, task or order is not found (404) with nothing changed."""

# The shared courier fixtures come from test_couriers; tests take them as arguments.

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.choices import Role
from delivery.models import (
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    OfferStatus,
)
from tests.accounts.factories import UserFactory
from tests.delivery.courier_factories import WAREHOUSE_AT, a_photo, a_task, an_offer, offset
from tests.delivery.factories import courier_at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

BASE = "/api/delivery/courier/"


@pytest.fixture(autouse=True)
def english_answers(api_client):
    """The API answers in English, so assertions read the source strings."""
    api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def me(api_as, rider):
    return api_as(rider.user)


# --- Who may call it --------------------------------------------------------------------------

ENDPOINTS = [
    ("post", "shift/"),
    ("post", "positions/"),
    ("get", "offers/"),
    ("post", "offers/1/accept/"),
    ("post", "offers/1/decline/"),
    ("get", "tasks/"),
    ("get", "tasks/1/"),
    ("post", "tasks/1/pick-up/"),
    ("post", "orders/1/deliver/"),
    ("get", "day/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("role", [Role.CONSUMER, Role.WAREHOUSE_MANAGER, Role.FARMER, Role.BUYER])
def test_other_roles_are_refused(api_as, method, path, role):
    response = getattr(api_as(UserFactory(role=role)), method)(BASE + path, {}, format="json")

    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_callers_must_sign_in(api_client, method, path):
    response = getattr(api_client, method)(BASE + path, {}, format="json")

    assert response.status_code == 401


@pytest.mark.parametrize("role", [Role.COURIER, Role.ADMIN])
def test_without_a_courier_row_the_api_is_refused(api_as, role):
    response = api_as(UserFactory(role=role)).get(BASE + "day/")

    assert response.status_code == 403
    assert response.json() == {"detail": "You are not registered as a courier."}


# --- Shift ------------------------------------------------------------------------------------


def test_courier_goes_off_and_on_shift(me, rider):
    off = me.post(BASE + "shift/", {"on_shift": False}, format="json")
    rider.refresh_from_db()
    was_on_shift = rider.is_on_shift

    on = me.post(BASE + "shift/", {"on_shift": True}, format="json")

    assert off.status_code == 200
    assert off.json() == {"on_shift": False, "shift_started_at": None, "status": "active"}
    assert was_on_shift is False
    assert on.status_code == 200
    assert on.json()["on_shift"] is True
    rider.refresh_from_db()
    assert rider.is_on_shift is True


def test_going_off_shift_with_a_task_is_refused(me, rider, warehouse):
    a_task(rider, warehouse)

    response = me.post(BASE + "shift/", {"on_shift": False}, format="json")

    assert response.status_code == 409
    assert response.json() == {"on_shift": ["Finish your current task before ending your shift."]}
    rider.refresh_from_db()
    assert rider.is_on_shift is True


def test_the_shift_needs_a_yes_or_no(me):
    response = me.post(BASE + "shift/", {}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["on_shift"]


# --- Positions --------------------------------------------------------------------------------


def test_a_position_is_recorded(me, rider):
    longitude, latitude = offset(WAREHOUSE_AT, east_m=300)

    response = me.post(
        BASE + "positions/",
        {"longitude": longitude, "latitude": latitude, "accuracy_m": 12.5},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["recorded"] is True
    assert body["reason"] == ""
    assert body["longitude"] == pytest.approx(longitude)
    rider.refresh_from_db()
    assert rider.position.y == pytest.approx(latitude)


def test_a_position_too_soon_is_dropped_without_an_error(me, rider):
    at = timezone.now()
    first = {"longitude": WAREHOUSE_AT[0], "latitude": WAREHOUSE_AT[1], "at": at.isoformat()}
    me.post(BASE + "positions/", first, format="json")

    response = me.post(
        BASE + "positions/",
        {**first, "at": (at + timedelta(seconds=1)).isoformat()},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["recorded"], response.json()["reason"]) == (False, "too_soon")


def test_positions_kept_offline_arrive_in_order_and_a_late_one_changes_nothing(me, rider):
    """The tunnel: three fixes kept on the phone are sent in order with their times; the
    server keeps the newest, and an older one arriving after it is dropped (200)."""
    start = timezone.now() - timedelta(minutes=2)
    fixes = [
        (*offset(WAREHOUSE_AT, east_m=100 * step), start + timedelta(seconds=30 * step))
        for step in (1, 2, 3)
    ]

    answers = [
        me.post(
            BASE + "positions/",
            {"longitude": longitude, "latitude": latitude, "at": at.isoformat()},
            format="json",
        ).json()
        for longitude, latitude, at in fixes
    ]
    late = me.post(
        BASE + "positions/",
        {"longitude": fixes[0][0], "latitude": fixes[0][1], "at": fixes[0][2].isoformat()},
        format="json",
    )

    assert [answer["recorded"] for answer in answers] == [True, True, True]
    assert late.status_code == 200
    assert (late.json()["recorded"], late.json()["reason"]) == (False, "older")
    rider.refresh_from_db()
    assert rider.position.x == pytest.approx(fixes[2][0])
    assert rider.position_at == fixes[2][2]


@pytest.mark.parametrize("field", ["longitude", "latitude", "accuracy_m"])
def test_a_boolean_is_not_a_number_of_a_position(me, rider, field):
    before = rider.position_at
    body = {"longitude": WAREHOUSE_AT[0], "latitude": WAREHOUSE_AT[1], field: False}

    response = me.post(BASE + "positions/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {field: ["A valid number is required."]}
    rider.refresh_from_db()
    assert rider.position_at == before


def test_a_position_at_an_impossible_speed_is_refused_and_nothing_changes(me, rider):
    before = (rider.position.x, rider.position.y, rider.position_at)
    longitude, latitude = offset(WAREHOUSE_AT, east_m=20_000)  # 20 km in 5 minutes

    response = me.post(
        BASE + "positions/", {"longitude": longitude, "latitude": latitude}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["position"]
    rider.refresh_from_db()
    assert (rider.position.x, rider.position.y, rider.position_at) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"longitude": 200, "latitude": 31.2}, "longitude"),
        ({"longitude": 121.4, "latitude": -91}, "latitude"),
        ({"longitude": "east", "latitude": 31.2}, "longitude"),
        ({"latitude": 31.2}, "longitude"),
        ({"longitude": 121.4, "latitude": 31.2, "at": "yesterday-ish"}, "at"),
    ],
)
def test_a_malformed_position_is_refused(me, rider, body, field):
    response = me.post(BASE + "positions/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()


# --- Offers -----------------------------------------------------------------------------------


def test_my_pending_offer_comes_with_its_task_summary(me, rider, other_rider, warehouse):
    task = a_task(None, warehouse, orders=2, status=DeliveryTaskStatus.OFFERING)
    offer = an_offer(rider, task, distance_m=1234.5)
    an_offer(other_rider, a_task(None, warehouse, status=DeliveryTaskStatus.OFFERING))

    response = me.get(BASE + "offers/")

    assert response.status_code == 200
    [body] = response.json()
    assert body["id"] == offer.pk
    assert body["task_id"] == task.pk
    assert body["order_count"] == 2
    assert body["distance_m"] == 1234.5
    assert 0 < body["seconds_left"] <= 40
    assert body["warehouse"]["name"] == warehouse.name
    assert body["warehouse"]["longitude"] == pytest.approx(WAREHOUSE_AT[0])


def test_no_offer_is_an_empty_list(me):
    response = me.get(BASE + "offers/")

    assert (response.status_code, response.json()) == (200, [])


def test_courier_accepts_his_offer_and_gets_the_task(me, rider, warehouse):
    task = a_task(None, warehouse, orders=2, status=DeliveryTaskStatus.OFFERING)
    offer = an_offer(rider, task)

    response = me.post(f"{BASE}offers/{offer.pk}/accept/")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["picked_up"]) == (task.pk, "assigned", False)
    assert len(body["orders"]) == 2
    task.refresh_from_db()
    assert (task.courier, task.status) == (rider, DeliveryTaskStatus.ASSIGNED)


def test_accepting_an_expired_offer_is_refused_and_nothing_is_assigned(me, rider, warehouse):
    task = a_task(None, warehouse, status=DeliveryTaskStatus.OFFERING)
    offer = an_offer(rider, task, seconds_left=-2)

    response = me.post(f"{BASE}offers/{offer.pk}/accept/")

    assert response.status_code == 409
    task.refresh_from_db()
    assert task.courier is None


def test_courier_declines_his_offer(me, rider, warehouse):
    offer = an_offer(rider, a_task(None, warehouse, status=DeliveryTaskStatus.OFFERING))

    response = me.post(f"{BASE}offers/{offer.pk}/decline/")

    assert response.status_code == 200
    assert response.json()["status"] == "declined"
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_another_couriers_offer_is_not_found_and_stays_open(me, other_rider, warehouse, answer):
    task = a_task(None, warehouse, status=DeliveryTaskStatus.OFFERING)
    theirs = an_offer(other_rider, task)

    response = me.post(f"{BASE}offers/{theirs.pk}/{answer}/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    task.refresh_from_db()
    assert theirs.status == OfferStatus.PENDING
    assert task.courier is None


# --- Tasks ------------------------------------------------------------------------------------


def test_my_tasks_of_today_are_listed(
    me, rider, other_rider, warehouse, django_assert_max_num_queries
):
    mine = [a_task(rider, warehouse), a_task(rider, warehouse, status=DeliveryTaskStatus.DONE)]
    a_task(other_rider, warehouse)

    with django_assert_max_num_queries(8):
        response = me.get(BASE + "tasks/")

    assert response.status_code == 200
    assert {task["id"] for task in response.json()} == {task.pk for task in mine}
    assert {task["order_count"] for task in response.json()} == {2}


def test_my_task_reads_as_steps_without_the_delivery_codes(me, rider, warehouse):
    task = a_task(rider, warehouse, orders=2, codes=("8642", "7531"))

    response = me.get(f"{BASE}tasks/{task.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["warehouse"]["name"] == warehouse.name
    assert [order["id"] for order in body["orders"]] == list(
        task.orders.order_by("promised_by").values_list("pk", flat=True)
    )
    assert body["orders"][0]["tries_left"] == 5
    text = response.content.decode()
    assert "8642" not in text
    assert "7531" not in text
    assert "delivery_code" not in text


def test_another_couriers_task_is_not_found(me, other_rider, warehouse):
    theirs = a_task(other_rider, warehouse)

    assert me.get(f"{BASE}tasks/{theirs.pk}/").status_code == 404


def test_courier_picks_up_his_task(me, rider, warehouse):
    task = a_task(rider, warehouse)

    response = me.post(f"{BASE}tasks/{task.pk}/pick-up/")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["picked_up"]) == ("picked_up", True)
    assert set(task.orders.values_list("status", flat=True)) == {DeliveryOrderStatus.PICKED_UP}


def test_picking_up_another_couriers_task_is_not_found_and_nothing_changes(
    me, other_rider, warehouse
):
    theirs = a_task(other_rider, warehouse)

    response = me.post(f"{BASE}tasks/{theirs.pk}/pick-up/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == DeliveryTaskStatus.ASSIGNED


# --- Delivery ---------------------------------------------------------------------------------


@pytest.fixture
def carrying(rider, warehouse):
    return a_task(rider, warehouse, orders=1, status=DeliveryTaskStatus.PICKED_UP)


def test_the_right_code_delivers_and_finishes_the_task(me, carrying, settings):
    settings.DELIVERY_COURIER_FEE_PER_ORDER = "6.00"
    order = carrying.orders.get()

    response = me.post(f"{BASE}orders/{order.pk}/deliver/", {"code": "1111"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["task_status"], body["task_earnings"]) == (
        "delivered",
        "done",
        "6.00",
    )


def test_a_wrong_code_is_refused_and_counted(me, carrying):
    order = carrying.orders.get()

    response = me.post(f"{BASE}orders/{order.pk}/deliver/", {"code": "0000"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"code": ["Wrong code: 4 tries left."]}
    order.refresh_from_db()
    assert (order.status, order.code_attempts) == (DeliveryOrderStatus.PICKED_UP, 1)


def test_after_too_many_wrong_codes_only_a_photo_works(me, carrying, settings):
    settings.DELIVERY_CODE_MAX_ATTEMPTS = 2
    order = carrying.orders.get()
    url = f"{BASE}orders/{order.pk}/deliver/"
    me.post(url, {"code": "0000"}, format="json")
    me.post(url, {"code": "0001"}, format="json")

    locked = me.post(url, {"code": "1111"}, format="json")
    photo = me.post(url, {"photo": a_photo()}, format="multipart")

    assert locked.status_code == 400
    assert list(locked.json()) == ["code"]
    assert photo.status_code == 200
    assert (photo.json()["status"], photo.json()["has_photo"]) == ("delivered", True)


def test_a_file_that_is_not_an_image_is_refused(me, carrying):
    order = carrying.orders.get()
    upload = SimpleUploadedFile("door.jpg", b"plain words", content_type="image/jpeg")

    response = me.post(f"{BASE}orders/{order.pk}/deliver/", {"photo": upload}, format="multipart")

    assert response.status_code == 400
    assert list(response.json()) == ["photo"]
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.PICKED_UP


def test_delivery_needs_a_code_or_a_photo(me, carrying):
    order = carrying.orders.get()

    response = me.post(f"{BASE}orders/{order.pk}/deliver/", {}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["code"]


def test_delivering_another_couriers_order_is_not_found_and_counts_nothing(
    me, other_rider, warehouse
):
    theirs = a_task(other_rider, warehouse, orders=1, status=DeliveryTaskStatus.PICKED_UP)
    order = theirs.orders.get()

    wrong = me.post(f"{BASE}orders/{order.pk}/deliver/", {"code": "0000"}, format="json")
    right = me.post(f"{BASE}orders/{order.pk}/deliver/", {"code": "1111"}, format="json")

    assert (wrong.status_code, right.status_code) == (404, 404)
    order.refresh_from_db()
    assert (order.status, order.code_attempts) == (DeliveryOrderStatus.PICKED_UP, 0)


def test_delivering_before_the_pick_up_is_a_conflict(me, rider, warehouse):
    order = a_task(rider, warehouse, orders=1).orders.get()

    response = me.post(f"{BASE}orders/{order.pk}/deliver/", {"code": "1111"}, format="json")

    assert response.status_code == 409
    assert DeliveryOrder.objects.get(pk=order.pk).status == DeliveryOrderStatus.ASSIGNED


# --- The day ----------------------------------------------------------------------------------


def test_the_day_sums_deliveries_and_earnings(me, rider, warehouse, settings):
    settings.DELIVERY_COURIER_FEE_PER_ORDER = "6.50"
    task = a_task(rider, warehouse, orders=2, status=DeliveryTaskStatus.PICKED_UP)
    for order, code in zip(task.orders.order_by("pk"), ("1111", "2222"), strict=True):
        me.post(f"{BASE}orders/{order.pk}/deliver/", {"code": code}, format="json")
    a_task(rider, warehouse)

    response = me.get(BASE + "day/")

    assert response.status_code == 200
    body = response.json()
    assert (body["task_count"], body["done_count"], body["delivered_count"]) == (2, 1, 2)
    assert (body["earnings"], body["currency"]) == ("13.00", "CNY")
    assert body["date"] == timezone.localdate().isoformat()


def test_another_couriers_work_is_not_in_my_day(me, other_rider, warehouse):
    a_task(other_rider, warehouse, status=DeliveryTaskStatus.DONE)
    DeliveryTask.objects.update(completed_at=timezone.now())

    body = me.get(BASE + "day/").json()

    assert (body["task_count"], body["earnings"]) == (0, "0.00")


def test_a_second_courier_sees_only_his_own_offer(api_as, warehouse):
    first = courier_at(*WAREHOUSE_AT)
    second = courier_at(*WAREHOUSE_AT)
    an_offer(first, a_task(None, warehouse, status=DeliveryTaskStatus.OFFERING))

    assert api_as(second.user).get(BASE + "offers/").json() == []


def test_a_shift_change_without_on_shift_is_refused_in_a_form_body_too(me, rider):
    # DRF reads a boolean missing from a form as false: that would sign the courier off.
    was_on_shift = rider.is_on_shift

    response = me.post(BASE + "shift/", {}, format="multipart")

    assert response.status_code == 400
    assert list(response.json()) == ["on_shift"]
    rider.refresh_from_db()
    assert rider.is_on_shift is was_on_shift


@pytest.mark.parametrize("answer", [0, "no", "off"])
def test_a_shift_change_takes_true_or_false_only(me, rider, answer):
    was_on_shift = rider.is_on_shift

    response = me.post(BASE + "shift/", {"on_shift": answer}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["on_shift"]
    rider.refresh_from_db()
    assert rider.is_on_shift is was_on_shift
