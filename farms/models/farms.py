"""Farms on the map: a member's field, its boundary and the area PostGIS computes from it.

Coordinates are WGS 84 (SRID 4326), longitude first. Chinese map services show GCJ-02,
which is offset by up to a few hundred metres; coordinates entering here must be WGS 84.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Func
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel

from .cooperatives import Cooperative


class GeodesicAreaHectares(Func):
    """Area on the WGS 84 spheroid, in hectares (PostGIS geography area is in m²)."""

    function = "ST_Area"
    template = "(%(function)s(%(expressions)s::geography) / 10000)"
    output_field = models.FloatField()


class Farm(TimeStampedModel):
    """A field worked by one member; its area is computed by PostGIS from the boundary."""

    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.PROTECT, related_name="farms", verbose_name=_("co-operative")
    )
    farmer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="farms",
        verbose_name=_("farmer"),
    )
    name = models.CharField(_("name"), max_length=120)
    boundary = models.PolygonField(_("boundary"), srid=4326, null=True, blank=True)
    location = models.PointField(
        _("location"),
        geography=True,
        srid=4326,
        help_text=_("A point on the farm; taken from the boundary when not given."),
    )
    area_hectares = models.GeneratedField(
        expression=GeodesicAreaHectares("boundary"),
        output_field=models.DecimalField(max_digits=14, decimal_places=4),
        db_persist=True,
        verbose_name=_("area (ha)"),
    )

    class Meta:
        verbose_name = _("farm")
        verbose_name_plural = _("farms")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["farmer", "name"], name="farm_name_unique_per_farmer"),
        ]

    def __str__(self) -> str:
        return self.name
