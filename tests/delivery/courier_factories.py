"""Builders of the courier tests: points near the warehouse, orders on a task, offers, photos."""

import io
import itertools
import math
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from djmoney.money import Money
from PIL import Image

from accounts.choices import Role
from accounts.realtime import user_group_name
from delivery.models import (
    Courier,
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    TaskOffer,
)
from tests.accounts.factories import UserFactory

WAREHOUSE_AT = (121.4737, 31.2304)  # People's Square, Shanghai


NUMBERS = itertools.count(1)


def offset(point: tuple[float, float], *, east_m: float = 0, north_m: float = 0):
    """A point `east_m` metres east and `north_m` north of `point` (lon, lat)."""
    longitude, latitude = point
    return (
        longitude + east_m / (111_320 * math.cos(math.radians(latitude))),
        latitude + north_m / 111_320,
    )


def an_order(
    warehouse,
    *,
    task=None,
    status=DeliveryOrderStatus.ASSIGNED,
    code="2468",
    consumer=None,
    east_m=800,
    promised_in_minutes=30,
) -> DeliveryOrder:
    """A paid consumer order of `warehouse`, its door `east_m` metres east of it."""
    now = timezone.now()
    number = next(NUMBERS)
    return DeliveryOrder.objects.create(
        number=f"TEST-{number:06d}",
        consumer=consumer or UserFactory(role=Role.CONSUMER),
        warehouse=warehouse,
        address=f"淮海中路 {number} 号",
        location=Point(*offset(WAREHOUSE_AT, east_m=east_m), srid=4326),
        status=status,
        total=Money("36.00", "CNY"),
        placed_at=now - timedelta(minutes=10),
        promised_by=now + timedelta(minutes=promised_in_minutes),
        packed_at=now - timedelta(minutes=5),
        assigned_at=now if status != DeliveryOrderStatus.PACKED else None,
        delivery_code=code,
        task=task,
    )


def a_task(
    courier: Courier | None,
    warehouse,
    *,
    orders: int = 2,
    status=DeliveryTaskStatus.ASSIGNED,
    codes=("1111", "2222", "3333", "4444"),
) -> DeliveryTask:
    """A task of `orders` orders; ASSIGNED to `courier` (their codes: 1111, 2222, ...)."""
    now = timezone.now()
    task = DeliveryTask.objects.create(
        warehouse=warehouse,
        courier=courier,
        status=status,
        accepted_at=now if courier is not None else None,
        picked_up_at=now if status == DeliveryTaskStatus.PICKED_UP else None,
    )
    order_status = {
        DeliveryTaskStatus.ASSIGNED: DeliveryOrderStatus.ASSIGNED,
        DeliveryTaskStatus.PICKED_UP: DeliveryOrderStatus.PICKED_UP,
    }.get(status, DeliveryOrderStatus.PACKED)
    for index in range(orders):
        an_order(
            warehouse,
            task=task,
            status=order_status,
            code=codes[index],
            east_m=600 + 300 * index,
            promised_in_minutes=40 - 5 * index,
        )
    return task


def an_offer(courier: Courier, task: DeliveryTask, *, seconds_left=40, distance_m=850.0):
    now = timezone.now()
    return TaskOffer.objects.create(
        task=task,
        courier=courier,
        offered_at=now - timedelta(seconds=5),
        expires_at=now + timedelta(seconds=seconds_left),
        distance_m=distance_m,
        score=1.0,
    )


def a_photo(kind: str = "JPEG", size=(64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 160, 80)).save(buffer, format=kind)
    extension = {"JPEG": "jpg", "PNG": "png"}[kind]
    return SimpleUploadedFile(
        f"door.{extension}", buffer.getvalue(), content_type=f"image/{extension}"
    )


def events_for(users, action) -> dict[int, list[dict]]:
    """Run `action`; the live events each user's channel received (in order), all of them:
    a marker sent after the action closes each list, so no waiting is needed."""
    layer = get_channel_layer()
    channels = {user.pk: async_to_sync(layer.new_channel)() for user in users}

    async def drain(channel) -> list[dict]:
        await layer.send(channel, {"type": "test.end"})
        events = []
        while (message := await layer.receive(channel))["type"] != "test.end":
            events.append(message)
        return events

    for user_id, channel in channels.items():
        async_to_sync(layer.group_add)(user_group_name(user_id), channel)
    try:
        action()
        return {user_id: async_to_sync(drain)(channel) for user_id, channel in channels.items()}
    finally:
        for user_id, channel in channels.items():
            async_to_sync(layer.group_discard)(user_group_name(user_id), channel)
