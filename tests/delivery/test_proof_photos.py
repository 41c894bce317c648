"""The photo a courier takes of an order left at a consumer's door is private: kept outside the
public media folder, never at a /media/ URL, and shown only through the order's checked views
(page and API) to the courier of its task, its warehouse's staff and its consumer; in
production nginx sends it (X-Accel-Redirect)."""

# The shared courier fixtures come from test_couriers; tests take them as arguments.

import importlib

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.test import Client

from accounts.choices import Role
from delivery.models import DeliveryOrder, DeliveryTaskStatus, WarehouseStaff
from delivery.services import couriers as services
from tests.accounts.factories import UserFactory
from tests.delivery.courier_factories import a_photo, a_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

JPEG_START = b"\xff\xd8"


def page_as(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def delivered(rider, warehouse):
    """An order of the rider's task, left at the door and delivered with a photo."""
    task = a_task(rider, warehouse, orders=1, status=DeliveryTaskStatus.PICKED_UP)
    order = task.orders.get()
    services.deliver_with_photo(courier=rider, order_id=order.pk, photo=a_photo())
    order.refresh_from_db()
    return order


def page_url(order) -> str:
    return f"/shop/orders/{order.pk}/photo/"


def api_url(order) -> str:
    return f"/api/delivery/orders/{order.pk}/photo/"


def answers(user, order, api_as) -> list:
    return [page_as(user).get(page_url(order)), api_as(user).get(api_url(order))]


def test_the_photo_is_not_at_a_media_url(client, delivered, settings, media_root):
    settings.ROOT_URLCONF = "tests.media_urls"  # /media/ served as in development

    answer = client.get(f"{settings.MEDIA_URL}{delivered.proof_photo.name}")

    assert answer.status_code == 404
    assert not [path for path in (media_root / "media").rglob("*") if path.is_file()]


def test_the_courier_of_the_task_sees_the_photo(delivered, rider, api_as):
    for answer in answers(rider.user, delivered, api_as):
        assert answer.status_code == 200
        assert answer["Content-Type"] == "image/jpeg"
        assert b"".join(answer.streaming_content).startswith(JPEG_START)


def test_the_consumer_and_the_warehouse_staff_see_the_photo(
    delivered, warehouse, warehouse_manager, api_as
):
    WarehouseStaff.objects.create(warehouse=warehouse, user=warehouse_manager)

    for user in (delivered.consumer, warehouse_manager):
        statuses = [answer.status_code for answer in answers(user, delivered, api_as)]
        assert statuses == [200, 200], user.role


def test_another_courier_or_consumer_gets_404(delivered, other_rider, api_as):
    for user in (other_rider.user, UserFactory(role=Role.CONSUMER)):
        statuses = [answer.status_code for answer in answers(user, delivered, api_as)]
        assert statuses == [404, 404], user.role


def test_an_order_without_a_photo_is_404_for_its_own_consumer(rider, warehouse, api_as):
    task = a_task(rider, warehouse, orders=1, status=DeliveryTaskStatus.PICKED_UP)
    order = task.orders.get()
    services.deliver_with_code(courier=rider, order_id=order.pk, code="1111")

    statuses = [answer.status_code for answer in answers(order.consumer, order, api_as)]

    assert statuses == [404, 404]


def test_in_production_nginx_sends_the_photo(delivered, api_as, settings):
    settings.PRIVATE_MEDIA_ACCEL_PREFIX = "/_private/"

    for answer in answers(delivered.consumer, delivered, api_as):
        assert answer.status_code == 200
        assert answer["X-Accel-Redirect"] == f"/_private/{delivered.proof_photo.name}"
        assert answer["Content-Type"] == "image/jpeg"
        assert answer["Content-Disposition"] == f'inline; filename="{delivered.number}.jpg"'
        assert answer.content == b""


def test_the_consumer_finds_the_photo_from_her_order(delivered, api_as):
    page = page_as(delivered.consumer).get(f"/shop/orders/{delivered.pk}/")
    api = api_as(delivered.consumer).get(f"/api/delivery/orders/{delivered.pk}/")

    assert f'href="{page_url(delivered)}"' in page.content.decode()
    assert api.json()["photo_url"] == api_url(delivered)


def test_the_migration_moves_a_public_photo_to_the_private_folder(
    delivered, settings, django_capture_on_commit_callbacks
):
    migration = importlib.import_module("delivery.migrations.0004_private_files")
    public = FileSystemStorage(location=settings.MEDIA_ROOT)
    old_name = public.save("deliveries/2026/01/0123456789abcdef01234567.jpg", ContentFile(b"jpeg"))
    DeliveryOrder.objects.filter(pk=delivered.pk).update(proof_photo=old_name)

    with django_capture_on_commit_callbacks(execute=True):
        migration.to_private(apps, None)

    delivered.refresh_from_db()
    assert delivered.proof_photo.name == old_name
    assert delivered.proof_photo.read() == b"jpeg"
    assert not public.exists(old_name)
