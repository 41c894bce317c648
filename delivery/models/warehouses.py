"""Front warehouses (前置仓): where they stand, the homes they serve, who runs them.

A warehouse is also a cold-chain site (coldchain.Site), so chilled shipments can end at it.
Stock, consumer orders, couriers and dispatch build on these tables.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel


class FrontWarehouse(TimeStampedModel):
    """A small chilled warehouse in the city; it delivers to the homes inside its zone
    within `promised_minutes` while it is open."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120, unique=True)
    site = models.OneToOneField(
        "coldchain.Site",
        on_delete=models.PROTECT,
        related_name="front_warehouse",
        verbose_name=_("site"),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    # GCJ-02 coordinates from Chinese map services must be converted to WGS 84 before they
    # are stored here, like every geometry of the platform.
    delivery_zone = models.PolygonField(_("delivery zone"), srid=4326)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))
    promised_minutes = models.PositiveSmallIntegerField(
        _("promised delivery (minutes)"),
        default=30,
        validators=[MinValueValidator(10), MaxValueValidator(240)],
    )
    is_active = models.BooleanField(_("is active"), default=True)

    class Meta:
        verbose_name = _("front warehouse")
        verbose_name_plural = _("front warehouses")
        constraints = [
            models.CheckConstraint(
                condition=Q(promised_minutes__gte=10) & Q(promised_minutes__lte=240),
                name="front_warehouse_promise_sensible",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_open_at(self, moment_time) -> bool:
        """Opening hours may run past midnight (e.g. 07:00–01:00); opening and closing at the
        same time means open round the clock."""
        if self.opens_at == self.closes_at:
            return True
        if self.opens_at < self.closes_at:
            return self.opens_at <= moment_time < self.closes_at
        return moment_time >= self.opens_at or moment_time < self.closes_at


class WarehouseStaff(models.Model):
    """A warehouse manager runs one warehouse and sees only it."""

    warehouse = models.ForeignKey(
        FrontWarehouse, on_delete=models.PROTECT, related_name="staff", verbose_name=_("warehouse")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="warehouse_post",
        verbose_name=_("user"),
    )

    class Meta:
        verbose_name = _("warehouse staff member")
        verbose_name_plural = _("warehouse staff")

    def __str__(self) -> str:
        return f"{self.user} @ {self.warehouse}"
