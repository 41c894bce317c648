"""A courier's day through the services: shifts, positions from the phone (throttled, and
impossible speeds refused), picking a task up, delivering with the consumer's code (wrong
tries counted and limited) or a photo, the task done and its earnings; and what the courier
reads (his current task as steps, his pending offer, his day). Another courier's task or order
is not found and nothing changes.

The helpers here (a warehouse, a courier's row, orders on a task) serve the courier API and
page tests too.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from djmoney.money import Money
from PIL import Image

from common.exceptions import RefusalKind
from delivery.exceptions import (
    CourierError,
    DeliveryCodeLocked,
    ImpossiblePosition,
    OrderNotFound,
    ProofPhotoRefused,
    ShiftNotEnded,
    StepNotAllowed,
    TaskNotFound,
    WrongDeliveryCode,
)
from delivery.models import (
    Courier,
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    OfferStatus,
    TaskOffer,
    WarehouseStaff,
)
from delivery.selectors.couriers import (
    business_day_bounds,
    courier_day,
    current_task,
    pending_offer,
    tasks_visible_to,
)
from delivery.services import couriers as services
from tests.delivery.courier_factories import (
    WAREHOUSE_AT,
    a_photo,
    a_task,
    an_offer,
    an_order,
    events_for,
    offset,
)
from tests.delivery.factories import courier_at, front_warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_english():
    with translation.override("en"):
        yield


# --- Shifts -----------------------------------------------------------------------------------


def test_courier_starts_his_shift(courier):
    row = courier_at(*WAREHOUSE_AT, user=courier, on_shift=False)

    services.start_shift(courier=row)

    row.refresh_from_db()
    assert row.is_on_shift is True
    assert row.shift_started_at is not None


def test_starting_a_started_shift_changes_nothing(rider):
    started_at = rider.shift_started_at

    services.start_shift(courier=rider)

    rider.refresh_from_db()
    assert rider.is_on_shift is True
    assert rider.shift_started_at == started_at


def test_courier_ends_his_shift(rider):
    services.end_shift(courier=rider)

    rider.refresh_from_db()
    assert rider.is_on_shift is False
    assert rider.shift_started_at is None


@pytest.mark.parametrize("status", [DeliveryTaskStatus.ASSIGNED, DeliveryTaskStatus.PICKED_UP])
def test_ending_a_shift_with_a_task_in_hand_is_refused(rider, warehouse, status, in_english):
    a_task(rider, warehouse, status=status)

    with pytest.raises(ShiftNotEnded) as refusal:
        services.end_shift(courier=rider)

    assert refusal.value.as_dict() == {
        "on_shift": ["Finish your current task before ending your shift."]
    }
    rider.refresh_from_db()
    assert rider.is_on_shift is True


def test_ending_a_shift_after_the_last_delivery_is_allowed(rider, warehouse):
    a_task(rider, warehouse, status=DeliveryTaskStatus.DONE)

    services.end_shift(courier=rider)

    rider.refresh_from_db()
    assert rider.is_on_shift is False


def test_ending_a_shift_declines_the_offer_waiting_for_him(rider, warehouse):
    task = a_task(None, warehouse, status=DeliveryTaskStatus.OFFERING)
    offer = an_offer(rider, task)

    services.end_shift(courier=rider)

    offer.refresh_from_db()
    rider.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED
    assert rider.is_on_shift is False
    assert not TaskOffer.objects.filter(courier=rider, status=OfferStatus.PENDING).exists()


def test_a_refused_end_of_shift_leaves_his_offer_open(rider, warehouse):
    a_task(rider, warehouse)
    offer = an_offer(rider, a_task(None, warehouse, status=DeliveryTaskStatus.OFFERING))

    with pytest.raises(ShiftNotEnded):
        services.end_shift(courier=rider)

    offer.refresh_from_db()
    assert offer.status == OfferStatus.PENDING


# --- Positions --------------------------------------------------------------------------------


def test_a_fix_moves_the_courier(rider):
    longitude, latitude = offset(WAREHOUSE_AT, east_m=400)
    at = timezone.now()

    outcome = services.record_position(
        courier=rider, longitude=longitude, latitude=latitude, at=at, accuracy_m=8
    )

    rider.refresh_from_db()
    assert outcome.is_recorded is True
    assert rider.position.x == pytest.approx(longitude)
    assert rider.position.y == pytest.approx(latitude)
    assert rider.position_at == at


def test_a_fix_too_soon_after_the_last_is_dropped(rider, settings):
    settings.DELIVERY_POSITION_MIN_SECONDS = 3
    first = timezone.now() - timedelta(seconds=10)
    services.record_position(
        courier=rider, longitude=WAREHOUSE_AT[0], latitude=WAREHOUSE_AT[1], at=first
    )

    outcome = services.record_position(
        courier=rider,
        longitude=offset(WAREHOUSE_AT, east_m=20)[0],
        latitude=WAREHOUSE_AT[1],
        at=first + timedelta(seconds=2),
    )

    rider.refresh_from_db()
    assert (outcome.is_recorded, outcome.reason) == (False, "too_soon")
    assert rider.position_at == first
    assert rider.position.x == pytest.approx(WAREHOUSE_AT[0])


def test_a_fix_at_an_impossible_speed_is_refused_and_nothing_changes(rider, settings, in_english):
    settings.DELIVERY_MAX_COURIER_SPEED_KMH = 80
    before = (rider.position.x, rider.position.y, rider.position_at)
    # 5 km in one minute: 300 km/h.
    longitude, latitude = offset(WAREHOUSE_AT, east_m=5000)

    with pytest.raises(ImpossiblePosition) as refusal:
        services.record_position(
            courier=rider,
            longitude=longitude,
            latitude=latitude,
            at=rider.position_at + timedelta(minutes=1),
        )

    assert list(refusal.value.as_dict()) == ["position"]
    assert "faster than 80 km/h" in refusal.value.as_dict()["position"][0]
    rider.refresh_from_db()
    assert (rider.position.x, rider.position.y, rider.position_at) == before


def test_a_fast_but_possible_ride_is_recorded(rider, settings):
    settings.DELIVERY_MAX_COURIER_SPEED_KMH = 80
    # 1 km in one minute: 60 km/h.
    longitude, latitude = offset(WAREHOUSE_AT, north_m=1000)

    outcome = services.record_position(
        courier=rider,
        longitude=longitude,
        latitude=latitude,
        at=rider.position_at + timedelta(minutes=1),
    )

    assert outcome.is_recorded is True


def test_the_first_fix_of_a_shift_is_taken_wherever_he_is(courier):
    row = courier_at(*WAREHOUSE_AT, user=courier, on_shift=False)
    Courier.objects.filter(pk=row.pk).update(position_at=timezone.now() - timedelta(minutes=10))
    services.start_shift(courier=row)
    # 20 km from where the last shift ended, ten minutes later: he came by metro.
    longitude, latitude = offset(WAREHOUSE_AT, north_m=20_000)

    outcome = services.record_position(courier=row, longitude=longitude, latitude=latitude)
    with pytest.raises(ImpossiblePosition):
        services.record_position(
            courier=row,
            longitude=WAREHOUSE_AT[0],
            latitude=WAREHOUSE_AT[1],
            at=timezone.now() + timedelta(seconds=30),
        )

    assert outcome.is_recorded is True
    row.refresh_from_db()
    assert row.position.y == pytest.approx(latitude)


@pytest.mark.parametrize(
    ("longitude", "latitude", "field"),
    [
        (181, 31.2, "longitude"),
        (-180.5, 31.2, "longitude"),
        ("east", 31.2, "longitude"),
        (float("nan"), 31.2, "longitude"),
        (121.4, 90.01, "latitude"),
        (121.4, float("inf"), "latitude"),
        (121.4, None, "latitude"),
    ],
)
def test_coordinates_out_of_range_are_refused(rider, longitude, latitude, field):
    before = rider.position_at

    with pytest.raises(CourierError) as refusal:
        services.record_position(courier=rider, longitude=longitude, latitude=latitude)

    assert list(refusal.value.as_dict()) == [field]
    rider.refresh_from_db()
    assert rider.position_at == before


def test_a_negative_accuracy_is_refused(rider):
    with pytest.raises(CourierError) as refusal:
        services.record_position(
            courier=rider, longitude=WAREHOUSE_AT[0], latitude=WAREHOUSE_AT[1], accuracy_m=-3
        )

    assert list(refusal.value.as_dict()) == ["accuracy_m"]


def test_a_fix_from_the_future_is_refused(rider):
    before = rider.position_at

    with pytest.raises(CourierError) as refusal:
        services.record_position(
            courier=rider,
            longitude=WAREHOUSE_AT[0],
            latitude=WAREHOUSE_AT[1],
            at=timezone.now() + timedelta(minutes=10),
        )

    assert list(refusal.value.as_dict()) == ["at"]
    rider.refresh_from_db()
    assert rider.position_at == before


def test_a_fix_older_than_the_last_one_is_dropped_and_the_latest_kept(rider):
    """A phone sends the fixes it kept offline in order, but one may still arrive late: it
    never moves the courier back to where he was."""
    before = (rider.position.x, rider.position.y, rider.position_at)
    longitude, latitude = offset(WAREHOUSE_AT, east_m=300)

    outcome = services.record_position(
        courier=rider,
        longitude=longitude,
        latitude=latitude,
        at=rider.position_at - timedelta(minutes=1),
    )

    assert (outcome.is_recorded, outcome.reason) == (False, "older")
    rider.refresh_from_db()
    assert (rider.position.x, rider.position.y, rider.position_at) == before


def test_a_fix_off_shift_is_dropped(courier):
    row = courier_at(*WAREHOUSE_AT, user=courier, on_shift=False)
    Courier.objects.filter(pk=row.pk).update(position_at=timezone.now() - timedelta(hours=2))
    row.refresh_from_db()

    outcome = services.record_position(
        courier=row, longitude=offset(WAREHOUSE_AT, east_m=300)[0], latitude=WAREHOUSE_AT[1]
    )

    row.refresh_from_db()
    assert (outcome.is_recorded, outcome.reason) == (False, "off_shift")
    assert row.position.x == pytest.approx(WAREHOUSE_AT[0])


def test_a_fix_reaches_the_consumers_whose_orders_he_carries_only(
    rider, warehouse, django_capture_on_commit_callbacks
):
    carried = a_task(rider, warehouse, orders=1, status=DeliveryTaskStatus.PICKED_UP)
    carried_order = carried.orders.get()
    earlier = a_task(rider, warehouse, orders=1, status=DeliveryTaskStatus.DONE)
    DeliveryOrder.objects.filter(task=earlier).update(status=DeliveryOrderStatus.DELIVERED)
    served = earlier.orders.get().consumer
    stranger = an_order(warehouse, status=DeliveryOrderStatus.PACKED).consumer
    longitude, latitude = offset(WAREHOUSE_AT, east_m=300)

    def move():
        with django_capture_on_commit_callbacks(execute=True):
            services.record_position(courier=rider, longitude=longitude, latitude=latitude)

    received = events_for([carried_order.consumer, served, stranger], move)

    [event] = received[carried_order.consumer.pk]
    assert event["event"] == "delivery.position"
    assert event["payload"]["order_id"] == carried_order.pk
    assert event["payload"]["longitude"] == pytest.approx(longitude)
    assert event["payload"]["latitude"] == pytest.approx(latitude)
    assert received[served.pk] == []
    assert received[stranger.pk] == []


# --- Pick-up ----------------------------------------------------------------------------------


def test_courier_picks_up_his_assigned_task(rider, warehouse):
    task = a_task(rider, warehouse, orders=3)
    cancelled = task.orders.order_by("pk").last()
    DeliveryOrder.objects.filter(pk=cancelled.pk).update(status=DeliveryOrderStatus.CANCELLED)

    services.pick_up(courier=rider, task_id=task.pk)

    task.refresh_from_db()
    assert task.status == DeliveryTaskStatus.PICKED_UP
    assert task.picked_up_at is not None
    statuses = dict(task.orders.values_list("pk", "status"))
    assert statuses.pop(cancelled.pk) == DeliveryOrderStatus.CANCELLED
    assert set(statuses.values()) == {DeliveryOrderStatus.PICKED_UP}
    assert (
        task.orders.filter(
            status=DeliveryOrderStatus.PICKED_UP, picked_up_at=task.picked_up_at
        ).count()
        == 2
    )


def test_pick_up_tells_the_consumers_and_the_courier(
    rider, warehouse, django_capture_on_commit_callbacks
):
    task = a_task(rider, warehouse, orders=1)
    order = task.orders.get()

    def pick():
        with django_capture_on_commit_callbacks(execute=True):
            services.pick_up(courier=rider, task_id=task.pk)

    received = events_for([order.consumer, rider.user], pick)

    [to_consumer] = received[order.consumer.pk]
    assert to_consumer["event"] == "delivery.order"
    assert to_consumer["payload"] == {"quiet": True, "order_id": order.pk, "status": "picked_up"}
    [to_courier] = received[rider.user.pk]
    assert to_courier["event"] == "delivery.task"
    assert to_courier["payload"] == {"quiet": True, "task_id": task.pk, "status": "picked_up"}


def test_picking_up_another_couriers_task_is_not_found_and_nothing_changes(
    rider, other_rider, warehouse
):
    theirs = a_task(other_rider, warehouse)

    with pytest.raises(TaskNotFound) as refusal:
        services.pick_up(courier=rider, task_id=theirs.pk)

    assert refusal.value.kind == RefusalKind.NOT_FOUND
    theirs.refresh_from_db()
    assert theirs.status == DeliveryTaskStatus.ASSIGNED
    assert set(theirs.orders.values_list("status", flat=True)) == {DeliveryOrderStatus.ASSIGNED}


def test_picking_up_twice_changes_nothing(rider, warehouse):
    task = a_task(rider, warehouse)
    services.pick_up(courier=rider, task_id=task.pk)
    task.refresh_from_db()
    first = task.picked_up_at

    services.pick_up(courier=rider, task_id=task.pk)

    task.refresh_from_db()
    assert task.picked_up_at == first


def test_picking_up_a_finished_task_is_refused(rider, warehouse):
    task = a_task(rider, warehouse, status=DeliveryTaskStatus.DONE)

    with pytest.raises(StepNotAllowed) as refusal:
        services.pick_up(courier=rider, task_id=task.pk)

    assert refusal.value.kind == RefusalKind.CONFLICT
    task.refresh_from_db()
    assert task.status == DeliveryTaskStatus.DONE


# --- Delivery with the code -------------------------------------------------------------------


@pytest.fixture
def carrying(rider, warehouse):
    """The rider's task of two orders (codes 1111 and 2222), picked up."""
    return a_task(rider, warehouse, orders=2, status=DeliveryTaskStatus.PICKED_UP)


def orders_of(task):
    return list(task.orders.order_by("pk"))


def test_the_right_code_delivers_the_order(rider, carrying):
    first, _second = orders_of(carrying)

    services.deliver_with_code(courier=rider, order_id=first.pk, code="1111")

    first.refresh_from_db()
    carrying.refresh_from_db()
    assert first.status == DeliveryOrderStatus.DELIVERED
    assert first.delivered_at is not None
    assert carrying.status == DeliveryTaskStatus.PICKED_UP  # the second door is still ahead
    assert carrying.earnings == Money("0.00", "CNY")


def test_the_last_delivery_finishes_the_task_and_pays_the_fee_per_order(rider, warehouse, settings):
    settings.DELIVERY_COURIER_FEE_PER_ORDER = "6.00"
    task = a_task(rider, warehouse, orders=3, status=DeliveryTaskStatus.PICKED_UP)
    first, second, third = orders_of(task)
    DeliveryOrder.objects.filter(pk=third.pk).update(status=DeliveryOrderStatus.CANCELLED)

    services.deliver_with_code(courier=rider, order_id=first.pk, code="1111")
    services.deliver_with_code(courier=rider, order_id=second.pk, code="2222")

    task.refresh_from_db()
    assert task.status == DeliveryTaskStatus.DONE
    assert task.completed_at is not None
    assert task.earnings == Money("12.00", "CNY")


def test_the_code_may_come_in_full_width_digits(rider, carrying):
    first, _ = orders_of(carrying)

    services.deliver_with_code(courier=rider, order_id=first.pk, code=" １１１１ ")

    first.refresh_from_db()
    assert first.status == DeliveryOrderStatus.DELIVERED


def test_a_wrong_code_is_refused_with_the_tries_left(rider, carrying, settings, in_english):
    settings.DELIVERY_CODE_MAX_ATTEMPTS = 5
    first, _ = orders_of(carrying)

    with pytest.raises(WrongDeliveryCode) as refusal:
        services.deliver_with_code(courier=rider, order_id=first.pk, code="9999")

    assert refusal.value.as_dict() == {"code": ["Wrong code: 4 tries left."]}
    first.refresh_from_db()
    assert first.status == DeliveryOrderStatus.PICKED_UP
    assert first.code_attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_wrong_try_is_committed_although_the_request_is_refused(courier, settings):
    settings.DELIVERY_CODE_MAX_ATTEMPTS = 5
    warehouse = front_warehouse("TXN", *WAREHOUSE_AT, half_side=0.05)
    rider = courier_at(*WAREHOUSE_AT, user=courier)
    task = a_task(rider, warehouse, orders=1, status=DeliveryTaskStatus.PICKED_UP)
    order = task.orders.get()

    with pytest.raises(WrongDeliveryCode):
        services.deliver_with_code(courier=rider, order_id=order.pk, code="0000")

    # A fresh read from the database, outside any transaction of the test.
    assert DeliveryOrder.objects.get(pk=order.pk).code_attempts == 1


def test_after_the_last_wrong_try_the_code_is_locked_even_for_the_right_one(
    rider, carrying, settings, in_english
):
    settings.DELIVERY_CODE_MAX_ATTEMPTS = 3
    first, _ = orders_of(carrying)
    messages = []
    for _try in range(3):
        with pytest.raises(WrongDeliveryCode) as refusal:
            services.deliver_with_code(courier=rider, order_id=first.pk, code="9999")
        messages.append(refusal.value.as_dict()["code"][0])

    with pytest.raises(DeliveryCodeLocked) as locked:
        services.deliver_with_code(courier=rider, order_id=first.pk, code="1111")

    assert messages == [
        "Wrong code: 2 tries left.",
        "Wrong code: 1 try left.",
        "Wrong code, and no tries left: take a photo of the delivery instead.",
    ]
    assert list(locked.value.as_dict()) == ["code"]
    first.refresh_from_db()
    assert first.status == DeliveryOrderStatus.PICKED_UP
    assert first.code_attempts == 3


@pytest.mark.parametrize("code", ["", "123", "12345", "abcd", None])
def test_a_code_that_is_not_four_digits_is_refused_without_counting(rider, carrying, code):
    first, _ = orders_of(carrying)

    with pytest.raises(WrongDeliveryCode):
        services.deliver_with_code(courier=rider, order_id=first.pk, code=code)

    first.refresh_from_db()
    assert first.code_attempts == 0


def test_delivering_before_the_pick_up_is_refused(rider, warehouse, in_english):
    task = a_task(rider, warehouse, orders=1)
    order = task.orders.get()

    with pytest.raises(StepNotAllowed) as refusal:
        services.deliver_with_code(courier=rider, order_id=order.pk, code="1111")

    assert refusal.value.as_dict() == {"detail": "Pick the order up at the warehouse first."}
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.ASSIGNED


def test_delivering_another_couriers_order_is_not_found_and_counts_nothing(
    rider, other_rider, warehouse
):
    theirs = a_task(other_rider, warehouse, orders=1, status=DeliveryTaskStatus.PICKED_UP)
    order = theirs.orders.get()

    with pytest.raises(OrderNotFound) as refusal:
        services.deliver_with_code(courier=rider, order_id=order.pk, code="0000")
    with pytest.raises(OrderNotFound):
        services.deliver_with_code(courier=rider, order_id=order.pk, code="1111")

    assert refusal.value.kind == RefusalKind.NOT_FOUND
    order.refresh_from_db()
    assert (order.status, order.code_attempts) == (DeliveryOrderStatus.PICKED_UP, 0)


def test_an_order_on_no_task_is_not_found(rider, warehouse):
    order = an_order(warehouse, status=DeliveryOrderStatus.PACKED)

    with pytest.raises(OrderNotFound):
        services.deliver_with_code(courier=rider, order_id=order.pk, code="2468")


def test_delivering_a_delivered_order_again_changes_nothing(rider, carrying):
    first, _ = orders_of(carrying)
    services.deliver_with_code(courier=rider, order_id=first.pk, code="1111")
    first.refresh_from_db()
    delivered_at = first.delivered_at

    services.deliver_with_code(courier=rider, order_id=first.pk, code="1111")

    first.refresh_from_db()
    assert (first.delivered_at, first.code_attempts) == (delivered_at, 0)


def test_delivery_tells_the_consumer_and_the_finished_task_the_courier(
    rider, warehouse, django_capture_on_commit_callbacks
):
    task = a_task(rider, warehouse, orders=1, status=DeliveryTaskStatus.PICKED_UP)
    order = task.orders.get()

    def deliver():
        with django_capture_on_commit_callbacks(execute=True):
            services.deliver_with_code(courier=rider, order_id=order.pk, code="1111")

    received = events_for([order.consumer, rider.user], deliver)

    assert [event["payload"]["status"] for event in received[order.consumer.pk]] == ["delivered"]
    assert [(event["event"], event["payload"]["status"]) for event in received[rider.user.pk]] == [
        ("delivery.task", "done")
    ]


# --- Delivery with a photo --------------------------------------------------------------------


def test_a_photo_delivers_the_order_when_the_consumer_is_absent(rider, carrying, media_root):
    first, _ = orders_of(carrying)

    services.deliver_with_photo(courier=rider, order_id=first.pk, photo=a_photo("PNG"))

    first.refresh_from_db()
    assert first.status == DeliveryOrderStatus.DELIVERED
    assert first.proof_photo.name.startswith("deliveries/")
    # In the private folder, which no URL serves (tests/delivery/test_proof_photos.py).
    assert first.proof_photo.path.startswith(str(media_root / "private"))
    with Image.open(first.proof_photo.path) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (64, 48)


def test_a_photo_still_delivers_once_the_code_is_locked(rider, carrying, media_root, settings):
    settings.DELIVERY_CODE_MAX_ATTEMPTS = 1
    first, second = orders_of(carrying)
    with pytest.raises(WrongDeliveryCode):
        services.deliver_with_code(courier=rider, order_id=first.pk, code="0000")

    services.deliver_with_photo(courier=rider, order_id=first.pk, photo=a_photo())
    services.deliver_with_code(courier=rider, order_id=second.pk, code="2222")

    carrying.refresh_from_db()
    assert carrying.status == DeliveryTaskStatus.DONE
    assert carrying.earnings == Money(Decimal(settings.DELIVERY_COURIER_FEE_PER_ORDER) * 2, "CNY")


def test_a_file_that_is_not_a_photo_is_refused(rider, carrying, media_root):
    first, _ = orders_of(carrying)
    text = SimpleUploadedFile("door.jpg", b"not a picture at all", content_type="image/jpeg")

    with pytest.raises(ProofPhotoRefused) as refusal:
        services.deliver_with_photo(courier=rider, order_id=first.pk, photo=text)

    assert list(refusal.value.as_dict()) == ["photo"]
    first.refresh_from_db()
    assert first.status == DeliveryOrderStatus.PICKED_UP
    assert not first.proof_photo
    assert not list(media_root.rglob("*.jpg"))


def test_a_photo_over_the_size_limit_is_refused(rider, carrying, media_root, settings):
    settings.LISTING_PHOTO_MAX_BYTES = 500
    first, _ = orders_of(carrying)

    with pytest.raises(ProofPhotoRefused):
        services.deliver_with_photo(
            courier=rider, order_id=first.pk, photo=a_photo(size=(400, 400))
        )

    first.refresh_from_db()
    assert first.status == DeliveryOrderStatus.PICKED_UP


def test_a_photo_for_another_couriers_order_is_not_found(rider, other_rider, warehouse, media_root):
    theirs = a_task(other_rider, warehouse, orders=1, status=DeliveryTaskStatus.PICKED_UP)
    order = theirs.orders.get()

    with pytest.raises(OrderNotFound):
        services.deliver_with_photo(courier=rider, order_id=order.pk, photo=a_photo())

    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.PICKED_UP
    assert not order.proof_photo


# --- What the courier reads -------------------------------------------------------------------


def test_the_current_task_reads_as_pickup_then_doors_earliest_promise_first(rider, warehouse):
    task = a_task(rider, warehouse, orders=3)
    by_promise = list(task.orders.order_by("promised_by").values_list("pk", flat=True))

    route = current_task(rider)

    assert route.task == task
    assert route.pickup.warehouse == warehouse
    assert route.pickup.longitude == pytest.approx(WAREHOUSE_AT[0])
    assert route.pickup.is_done is False
    assert route.can_pick_up is True
    assert [step.order.pk for step in route.drop_offs] == by_promise
    assert route.order_count == 3
    assert all(step.tries_left == 5 and not step.can_deliver for step in route.drop_offs)


def test_a_courier_without_a_task_in_hand_has_no_current_task(rider, other_rider, warehouse):
    a_task(rider, warehouse, status=DeliveryTaskStatus.DONE)
    a_task(other_rider, warehouse)

    assert current_task(rider) is None


def test_the_pending_offer_carries_its_warehouse_and_orders(rider, other_rider, warehouse):
    task = a_task(None, warehouse, orders=3, status=DeliveryTaskStatus.OFFERING)
    DeliveryOrder.objects.filter(pk=task.orders.first().pk).update(
        status=DeliveryOrderStatus.CANCELLED
    )
    mine = an_offer(rider, task)
    an_offer(other_rider, a_task(None, warehouse, status=DeliveryTaskStatus.OFFERING))

    offer = pending_offer(rider)

    assert offer == mine
    assert offer.task.warehouse == warehouse
    assert offer.order_count == 2


def test_an_offer_past_its_time_is_not_shown(rider, warehouse):
    an_offer(rider, a_task(None, warehouse, status=DeliveryTaskStatus.OFFERING), seconds_left=-1)

    assert pending_offer(rider) is None


def test_the_courier_day_counts_todays_deliveries_and_earnings(rider, warehouse, settings):
    settings.DELIVERY_COURIER_FEE_PER_ORDER = "6.00"
    start, _end = business_day_bounds(timezone.localdate())
    done = a_task(rider, warehouse, orders=2, status=DeliveryTaskStatus.PICKED_UP)
    for order, code in zip(orders_of(done), ("1111", "2222"), strict=True):
        services.deliver_with_code(courier=rider, order_id=order.pk, code=code)
    open_task = a_task(rider, warehouse, orders=1)
    yesterday = a_task(rider, warehouse, orders=1, status=DeliveryTaskStatus.DONE)
    DeliveryTask.objects.filter(pk=yesterday.pk).update(
        accepted_at=start - timedelta(hours=3),
        completed_at=start - timedelta(hours=2),
        earnings=Money("6.00", "CNY"),
    )
    DeliveryOrder.objects.filter(task=yesterday).update(
        status=DeliveryOrderStatus.DELIVERED, delivered_at=start - timedelta(hours=2)
    )

    day = courier_day(rider)

    assert {task.pk for task in day.tasks} == {done.pk, open_task.pk}
    assert day.task_count == 2
    assert day.done_count == 1
    assert day.delivered_count == 2
    assert day.earnings == Money("12.00", "CNY")
    counts = {task.pk: (task.order_count, task.delivered_count) for task in day.tasks}
    assert counts == {done.pk: (2, 2), open_task.pk: (1, 0)}


def test_a_new_courier_has_an_empty_day(rider):
    day = courier_day(rider)

    assert (day.task_count, day.delivered_count, day.earnings) == (0, 0, Money(0, "CNY"))


def test_tasks_are_visible_to_their_courier_their_warehouse_and_admins_only(
    rider, other_rider, warehouse, warehouse_manager, consumer, admin_user
):
    mine = a_task(rider, warehouse)
    theirs = a_task(other_rider, front_warehouse("XJH", 121.43, 31.19, half_side=0.02))
    WarehouseStaff.objects.create(warehouse=warehouse, user=warehouse_manager)

    assert list(tasks_visible_to(rider.user)) == [mine]
    assert list(tasks_visible_to(other_rider.user)) == [theirs]
    assert list(tasks_visible_to(warehouse_manager)) == [mine]
    assert list(tasks_visible_to(consumer)) == []
    assert set(tasks_visible_to(admin_user)) == {mine, theirs}
