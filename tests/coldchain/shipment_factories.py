"""Builders of the shipment tests: readings, plans as the API and the page take them, a
shipment carrying a lot under a logger, the pushes an action sends."""

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.gis.geos import Point
from django.utils import timezone

from coldchain.choices import ShipmentStatus
from coldchain.models import Reading, ShipmentLot
from coldchain.services.registry import assign_logger, register_logger
from tests.coldchain.factories import ShipmentFactory


def add_readings(logger, start, temperatures, *, step=timedelta(minutes=1), humidity=90.0):
    """Readings of `logger` from `start`, one per `step`, at a point near Beijing."""
    Reading.objects.bulk_create(
        Reading(
            logger=logger,
            recorded_at=start + step * index,
            temperature_c=temperature,
            humidity_pct=humidity,
            position=Point(116.40 + index / 1000, 39.90, srid=4326),
        )
        for index, temperature in enumerate(temperatures)
    )


def received_events(groups, action) -> dict[str, dict]:
    """Run `action` with its after-commit pushes executed; what each group received."""
    layer = get_channel_layer()
    channels = {}
    for group in groups:
        channels[group] = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(group, channels[group])
    try:
        action()
        return {group: async_to_sync(layer.receive)(channel) for group, channel in channels.items()}
    finally:
        for group, channel in channels.items():
            async_to_sync(layer.group_discard)(group, channel)


SHIPMENTS = "/api/coldchain/shipments/"


def plan_body(origin, destination, lots, **more) -> dict:
    now = timezone.now()
    return {
        "origin": origin.pk,
        "destination": destination.pk,
        "planned_departure_at": (now + timedelta(hours=1)).isoformat(),
        "planned_arrival_at": (now + timedelta(hours=7)).isoformat(),
        "lots": [{"lot": lot.pk, "quantity_kg": quantity} for lot, quantity in lots],
        **more,
    }


NEW = "/coldchain/shipments/new/"


def plan_form(origin, destination, lots, **more) -> dict:
    start = timezone.localtime() + timedelta(hours=2)
    data = {
        "origin": origin.pk,
        "destination": destination.pk,
        "vehicle": "",
        "planned_departure_at": start.strftime("%Y-%m-%dT%H:%M"),
        "planned_arrival_at": (start + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
        "code": "",
        "lots-TOTAL_FORMS": "4",
        "lots-INITIAL_FORMS": "0",
        "lots-MIN_NUM_FORMS": "0",
        "lots-MAX_NUM_FORMS": "30",
        **more,
    }
    for index, (lot, quantity) in enumerate(lots):
        data[f"lots-{index}-lot_code"] = lot.lot_code
        data[f"lots-{index}-quantity_kg"] = quantity
    return data


_device_numbers = itertools.count(1)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def new_logger():
    logger, _secret = register_logger(device_id=f"LOG-SL-{next(_device_numbers):04d}")
    return logger


def record(logger, start: datetime, pieces: list[tuple[float, float]], *, skip=()) -> None:
    """Readings every 10 minutes from `start`: `pieces` are (hours, °C) in turn; `skip` lists
    (from, to) offsets in hours without readings."""
    readings = []
    moment = start
    for duration, temperature in pieces:
        piece_end = moment + hours(duration)
        while moment < piece_end:
            offset = (moment - start) / hours(1)
            if not any(low <= offset < high for low, high in skip):
                readings.append(
                    Reading(logger=logger, recorded_at=moment, temperature_c=temperature)
                )
            moment += timedelta(minutes=10)
    Reading.objects.bulk_create(readings)


def carry(
    lot,
    *,
    departed_at: datetime,
    pieces: list[tuple[float, float]],
    status: str = ShipmentStatus.DELIVERED,
    arrived: bool = True,
    skip=(),
):
    """A shipment carrying `lot`, departing at `departed_at`, logged every 10 minutes."""
    duration = hours(sum(piece[0] for piece in pieces))
    shipment = ShipmentFactory(
        status=status,
        planned_departure_at=departed_at,
        planned_arrival_at=departed_at + duration,
        departed_at=departed_at,
        arrived_at=departed_at + duration if arrived else None,
    )
    ShipmentLot.objects.create(shipment=shipment, lot=lot, quantity_kg=Decimal("100"))
    logger = new_logger()
    assign_logger(
        logger=logger,
        subject=shipment,
        starts_at=departed_at,
        ends_at=departed_at + duration if arrived else None,
    )
    record(logger, departed_at, pieces, skip=skip)
    return shipment
