"""A courier sees a consumer's address and door while he needs them, and for a day after
delivery (DELIVERY_ADDRESS_VISIBLE_HOURS), then no more: in the API and on his page."""

# The shared courier fixtures come from test_couriers; tests take them as arguments.

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from delivery.models import DeliveryTaskStatus
from delivery.services import couriers as services
from tests.delivery.courier_factories import a_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

API = "/api/delivery/courier/tasks/"


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def task(rider, warehouse):
    return a_task(
        rider, warehouse, orders=2, status=DeliveryTaskStatus.PICKED_UP, codes=("1111", "2222")
    )


def _doors(api_as, rider, task) -> dict[str, dict]:
    response = api_as(rider.user).get(f"{API}{task.pk}/")
    assert response.status_code == 200
    return {door["number"]: door for door in response.json()["orders"]}


def _task_section(rider) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(rider.user)
    return client.get("/courier/task/").content.decode()


def test_api_shows_the_address_right_after_delivery_and_not_25_hours_later(
    api_as, clock, rider, task
):
    first, second = task.orders.order_by("pk")
    services.deliver_with_code(courier=rider, order_id=first.pk, code="1111")
    services.deliver_with_code(courier=rider, order_id=second.pk, code="2222")

    right_after = _doors(api_as, rider, task)
    clock.shift(timedelta(hours=23))
    a_day_on = _doors(api_as, rider, task)
    clock.shift(timedelta(hours=2))
    later = _doors(api_as, rider, task)

    assert right_after[first.number]["address"] == first.address
    assert right_after[first.number]["latitude"] == pytest.approx(first.location.y)
    assert a_day_on[second.number]["address"] == second.address
    for door in later.values():
        assert (door["address"], door["longitude"], door["latitude"]) == (None, None, None)
        assert door["status"] == "delivered"
    assert first.address not in str(later)


def test_page_hides_a_door_delivered_25_hours_ago_and_keeps_the_one_still_to_go(clock, rider, task):
    first, second = task.orders.order_by("pk")
    services.deliver_with_code(courier=rider, order_id=first.pk, code="1111")

    right_after = _task_section(rider)
    clock.shift(timedelta(hours=25))
    later = _task_section(rider)

    assert first.address in right_after
    assert first.address not in later
    assert "Address no longer shown" in later
    # The warehouse and the door still to go keep their map links; the old door has none.
    assert right_after.count('class="map-link"') == 3
    assert later.count('class="map-link"') == 2
    assert second.address in later  # still to be delivered
