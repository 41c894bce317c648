"""Places and the things that keep goods cold: sites, cold stores, refrigerated vehicles, and the
range a watched subject must keep (MonitoredRange, shared with shipments)."""

from decimal import Decimal

from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel

from ..choices import SiteKind


class Site(models.Model):
    """A place where chilled goods are loaded or unloaded: a farm, a co-operative's packhouse,
    a wholesale market, a front warehouse. The co-operative or market named here sees the
    shipments that start or end at it."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=SiteKind)
    location = models.PointField(_("location"), srid=4326)
    cooperative = models.ForeignKey(
        "farms.Cooperative",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sites",
        verbose_name=_("co-operative"),
    )
    market = models.ForeignKey(
        "marketplace.Market",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sites",
        verbose_name=_("wholesale market"),
    )

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.UniqueConstraint(fields=["name"], name="site_name_unique"),
            models.CheckConstraint(condition=Q(kind__in=SiteKind.values), name="site_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class MonitoredRange(models.Model):
    """What a monitored subject (a shipment, a cold store) must keep, and how patiently.

    An excursion opens once the temperature has been outside [min, max] for
    `excursion_delay_minutes`, and closes once it has been back inside by `recovery_margin_c`
    for `recovery_minutes`. No reading for `signal_timeout_minutes` raises a loss of signal.
    """

    min_temperature_c = models.DecimalField(
        _("lowest temperature (°C)"), max_digits=4, decimal_places=1
    )
    max_temperature_c = models.DecimalField(
        _("highest temperature (°C)"), max_digits=4, decimal_places=1
    )
    excursion_delay_minutes = models.PositiveSmallIntegerField(
        _("excursion after (minutes)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text=_("A breach shorter than this, such as an open door, is not an excursion."),
    )
    recovery_minutes = models.PositiveSmallIntegerField(
        _("recovery time (minutes)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
    )
    recovery_margin_c = models.DecimalField(
        _("recovery margin (°C)"),
        max_digits=3,
        decimal_places=1,
        default=Decimal("0.5"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("5"))],
    )
    signal_timeout_minutes = models.PositiveSmallIntegerField(
        _("loss of signal after (minutes)"),
        default=15,
        validators=[MinValueValidator(2), MaxValueValidator(1440)],
    )

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(min_temperature_c__lt=models.F("max_temperature_c")),
                name="%(class)s_range_valid",
            ),
        ]


class ColdStore(TimeStampedModel, MonitoredRange):
    """A cold room at a site, watched like a shipment that never moves."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="cold_stores", verbose_name=_("site")
    )
    capacity_kg = models.DecimalField(
        _("capacity (kg)"), max_digits=12, decimal_places=3, null=True, blank=True
    )

    class Meta(MonitoredRange.Meta):
        verbose_name = _("cold store")
        verbose_name_plural = _("cold stores")

    def __str__(self) -> str:
        return self.name


class Vehicle(TimeStampedModel):
    """A refrigerated vehicle; its last position comes from the readings of its loggers."""

    plate = models.CharField(_("plate number"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=120, blank=True)
    carrier = models.CharField(_("carrier"), max_length=120, blank=True)
    cooperative = models.ForeignKey(
        "farms.Cooperative",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vehicles",
        verbose_name=_("co-operative"),
    )
    last_position = models.PointField(_("last position"), srid=4326, null=True, blank=True)
    last_position_at = models.DateTimeField(_("last position at"), null=True, blank=True)

    class Meta:
        verbose_name = _("refrigerated vehicle")
        verbose_name_plural = _("refrigerated vehicles")

    def __str__(self) -> str:
        return self.plate
