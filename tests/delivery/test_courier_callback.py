"""A courier sees his consumer's number masked (138****0001) on his task, page and API, and
asks her to call him back: she is notified with his number; never hers to him."""

import pytest
from django.test import Client

from accounts.models import Notification
from delivery.models import DeliveryTaskStatus
from tests.delivery.courier_factories import a_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

API = "/api/delivery/courier/"


@pytest.fixture
def task(rider, warehouse):
    task = a_task(rider, warehouse, orders=1, status=DeliveryTaskStatus.PICKED_UP)
    consumer = task.orders.get().consumer
    consumer.phone = "+8613800000001"
    consumer.save(update_fields=["phone"])
    return task


def test_courier_sees_the_consumers_number_masked_on_his_page_and_in_the_api(api_as, rider, task):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(rider.user)
    page = client.get("/courier/task/").content.decode()
    answer = api_as(rider.user).get(f"{API}tasks/{task.pk}/").json()

    assert "138****0001" in page
    assert "13800000001" not in page
    assert answer["orders"][0]["consumer_phone"] == "138****0001"
    assert "13800000001" not in str(answer)


def test_courier_asks_her_to_call_back_and_she_gets_his_number(api_as, rider, task):
    order = task.orders.get()

    response = api_as(rider.user).post(
        f"{API}orders/{order.pk}/callback/", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 201
    note = Notification.objects.get(user=order.consumer, kind="callback.requested")
    assert order.number in note.title
    assert "courier" in note.body
    assert rider.user.phone.removeprefix("+86") in note.body
    assert note.url == f"tel:{rider.user.phone}"
    again = api_as(rider.user).post(f"{API}orders/{order.pk}/callback/", HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 409
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(rider.user)
    assert "Asked to call you back at" in client.get("/courier/task/").content.decode()


def test_another_courier_cannot_ask_about_his_order(api_as, other_rider, task):
    order = task.orders.get()

    response = api_as(other_rider.user).post(
        f"{API}orders/{order.pk}/callback/", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 404
    assert not Notification.objects.filter(user=order.consumer).exists()


def test_the_page_button_asks(rider, task):
    order = task.orders.get()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(rider.user)

    response = client.post(f"/courier/orders/{order.pk}/callback/")

    assert response.status_code == 303
    assert Notification.objects.filter(user=order.consumer, kind="callback.requested").exists()
