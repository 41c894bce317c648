"""Reads of the front warehouses shared by pages, the API and tasks."""

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point

from ..models import FrontWarehouse


def warehouse_serving(*, longitude: float, latitude: float) -> FrontWarehouse | None:
    """The active warehouse whose delivery zone holds the point; where zones overlap, the
    nearest one. None outside every zone (the shop then says so and takes no order)."""
    home = Point(longitude, latitude, srid=4326)
    return (
        FrontWarehouse.objects.filter(is_active=True, delivery_zone__contains=home)
        .select_related("site")
        .annotate(distance=Distance("site__location", home))
        .order_by("distance", "pk")
        .first()
    )
