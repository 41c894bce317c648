"""Helpers the cold chain's test modules share (not fixtures: those are in conftest.py)."""

from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.gis.geos import Point

from coldchain.models import Reading


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
