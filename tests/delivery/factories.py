"""Front warehouses for tests: a square delivery zone around the warehouse's site."""

from datetime import time

from django.contrib.gis.geos import Point, Polygon

from coldchain.choices import SiteKind
from delivery.models import FrontWarehouse
from tests.coldchain.factories import SiteFactory


def front_warehouse(code: str, longitude: float, latitude: float, *, half_side: float, **extra):
    site = SiteFactory(
        name=f"{code} 前置仓",
        kind=SiteKind.FRONT_WAREHOUSE,
        location=Point(longitude, latitude, srid=4326),
    )
    zone = Polygon.from_bbox(
        (longitude - half_side, latitude - half_side, longitude + half_side, latitude + half_side)
    )
    zone.srid = 4326
    return FrontWarehouse.objects.create(
        code=code,
        name=f"{code} 前置仓",
        site=site,
        delivery_zone=zone,
        opens_at=time(7),
        closes_at=time(23),
        **extra,
    )
