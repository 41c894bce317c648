"""The tower's own rows: where a regulator may look, and the daily digests kept for them.

Everything the tower shows is read from the other apps; only these two tables are its own.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel


class RegulatorArea(TimeStampedModel):
    """The region a regulator watches, e.g. one city's market-supervision bureau.

    The tower shows a regulator only the sites inside `area` (markets, warehouses, the
    shipments that start or end there). A regulator with no row here, or with an empty area,
    watches the whole country. Coordinates are WGS 84, like every geometry of the platform
    (GCJ-02 outlines from Chinese map services must be converted first).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="regulator_area",
        verbose_name=_("regulator"),
    )
    name = models.CharField(_("name"), max_length=120)
    area = models.MultiPolygonField(
        _("area"),
        srid=4326,
        null=True,
        blank=True,
        help_text=_("Empty: the whole country."),
    )

    class Meta:
        verbose_name = _("regulator's area")
        verbose_name_plural = _("regulators' areas")

    def __str__(self) -> str:
        return self.name


class DailyDigest(models.Model):
    """One business day's figures for one area (none: the whole country), frozen the next
    morning so that the PDF reads the same however often it is downloaded.

    `figures` holds the counters, the trends' last values and the open recalls and
    excursions as controltower.selectors.digest wrote them (JSON, decimals as strings).
    """

    business_date = models.DateField(_("business date"))
    area = models.ForeignKey(
        RegulatorArea,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="digests",
        verbose_name=_("area"),
    )
    figures = models.JSONField(_("figures"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("daily digest")
        verbose_name_plural = _("daily digests")
        constraints = [
            # One digest per day and area; the whole country's (no area) once too.
            models.UniqueConstraint(
                fields=["business_date", "area"],
                name="tower_digest_once_per_day_and_area",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.business_date} {self.area or ''}".strip()
