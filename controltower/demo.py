"""Demo data of the tower: the demo regulator (Beijing's market supervision) watches Beijing.

The area is a rough outline of Beijing municipality (a box, WGS 84): the demo market
(Xinfadi), both front warehouses and the trucks bound for Xinfadi are inside it, so the
regulator's tower shows them; the platform admin's tower shows the whole country.
"""

from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import transaction

from accounts.models import User

from .models import RegulatorArea

BEIJING = "北京市"
# Beijing municipality's bounding box: longitude 115.42–117.51, latitude 39.44–41.06.
BEIJING_BOX = (115.42, 39.44, 117.51, 41.06)


def beijing() -> MultiPolygon:
    box = Polygon.from_bbox(BEIJING_BOX)
    return MultiPolygon(box, srid=4326)


@transaction.atomic
def seed(context: dict) -> None:
    regulator = context.get("people", {}).get("regulator") or User.objects.get(username="regulator")
    RegulatorArea.objects.update_or_create(
        user=regulator, defaults={"name": BEIJING, "area": beijing()}
    )
